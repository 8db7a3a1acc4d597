package partition_test

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
	"github.com/kbroker/kbroker/record"
)

// isrRig is a leader partition (broker 1, replicas 1,2,3) with a manual
// clock and a recorder of submitted ISR changes.
type isrRig struct {
	t      *testing.T
	p      *partition.Partition
	now    int64
	mu     sync.Mutex
	sent   []*partition.ISRChange
	minISR int
	dead   map[model.BrokerID]bool
}

const isrLag = 10_000

func newISRRig(t *testing.T, isr []model.BrokerID, minISR int) *isrRig {
	t.Helper()
	r := &isrRig{t: t, now: 1_000_000, minISR: minISR, dead: map[model.BrokerID]bool{}}
	l, err := commitlog.Open(filepath.Join(t.TempDir(), "t-0"), commitlog.Options{Config: commitlog.DefaultConfig(), HadCleanShutdown: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	r.p = partition.New(model.TopicPartition{Topic: "t", Partition: 0}, 1, l, func() int64 { return r.now })
	r.p.Configure(partition.Hooks{
		LagTimeMax: isrLag,
		MinISR:     func() int { return r.minISR },
		IsEligible: func(b model.BrokerID) bool { return !r.dead[b] },
		Submit: func(ch *partition.ISRChange) {
			r.mu.Lock()
			r.sent = append(r.sent, ch)
			r.mu.Unlock()
		},
	})
	s := partition.State{Replicas: []model.BrokerID{1, 2, 3}}
	s.Leader, s.LeaderEpoch, s.ISR, s.PartitionEpoch = 1, 5, isr, 7
	if _, err := r.p.MakeLeader(s); err != nil {
		t.Fatal(err)
	}
	return r
}

// produce appends n one-record batches as leader (acks=1).
func (r *isrRig) produce(n int) {
	r.t.Helper()
	for i := 0; i < n; i++ {
		b, err := record.Build(record.NewSpec(), []record.NewRecord{{Timestamp: 1_700_000_000_000, Value: []byte("v")}})
		if err != nil {
			r.t.Fatal(err)
		}
		if _, err := r.p.AppendAsLeader(b, 1, 1, record.FromClient, partition.NoTxnGuard); err != nil {
			r.t.Fatal(err)
		}
	}
}

// fetch is a follower fetch at offset (in the current leader epoch).
func (r *isrRig) fetch(follower model.BrokerID, offset int64) {
	r.t.Helper()
	_, err := r.p.Read(partition.FetchParams{ReplicaID: follower, FetchOffset: offset, MaxBytes: 1 << 20, MinOneBatch: true, CurrentLeaderEpoch: 5, LastFetchedEpoch: -1})
	if err != nil {
		r.t.Fatal(err)
	}
}

func (r *isrRig) lastSent() *partition.ISRChange {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.sent) == 0 {
		return nil
	}
	return r.sent[len(r.sent)-1]
}

func (r *isrRig) sentCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.sent)
}

func ids(b ...model.BrokerID) []model.BrokerID { return b }

func TestHighWatermarkIsTheSmallestISRFollower(t *testing.T) {
	cases := []struct {
		name   string
		isr    []model.BrokerID
		minISR int
		f2, f3 int64 // fetch offsets, -1: no fetch in this epoch
		want   int64
	}{
		{"both followers report", ids(1, 2, 3), 1, 8, 6, 6},
		{"one follower has not fetched this epoch", ids(1, 2, 3), 1, 10, -1, 0},
		{"all caught up", ids(1, 2, 3), 1, 10, 10, 10},
		{"a follower outside the ISR and not caught up does not hold it", ids(1, 2), 1, 9, 3, 9},
		{"under min ISR nothing moves", ids(1), 2, -1, -1, 0},
		{"at min ISR it moves", ids(1, 2), 2, 7, -1, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newISRRig(t, c.isr, c.minISR)
			r.produce(10)
			if c.f2 >= 0 {
				r.fetch(2, c.f2)
			}
			if c.f3 >= 0 {
				r.fetch(3, c.f3)
			}
			if got := int64(r.p.HighWatermark()); got != c.want {
				t.Fatalf("HW = %d, want %d", got, c.want)
			}
		})
	}
}

func TestCaughtUpFollowerOutsideISRHoldsTheHighWatermark(t *testing.T) {
	// Broker 3 is not in the ISR but fetched at the leader's end (caught
	// up) and is eligible: Kafka waits for it to join (HW stays at its LEO).
	r := newISRRig(t, ids(1, 2), 1)
	r.produce(5)
	r.fetch(3, 5) // caught up now; the expansion is proposed
	r.produce(5)
	r.fetch(2, 10)
	if hw := r.p.HighWatermark(); hw != 5 {
		t.Fatalf("HW = %d, want 5 (held by the joining follower)", hw)
	}
	// Dead brokers are not eligible and do not hold it.
	r2 := newISRRig(t, ids(1, 2), 1)
	r2.dead[3] = true
	r2.produce(5)
	r2.fetch(3, 5)
	r2.produce(5)
	r2.fetch(2, 10)
	if hw := r2.p.HighWatermark(); hw != 10 {
		t.Fatalf("HW = %d, want 10 (a dead follower is not eligible)", hw)
	}
}

func TestShrinkAfterLagTime(t *testing.T) {
	r := newISRRig(t, ids(1, 2, 3), 1)
	r.fetch(2, 0)
	r.fetch(3, 0)
	r.produce(10)
	r.fetch(2, 10) // 2 caught up; 3 never fetches again
	r.now += isrLag
	if out := r.p.MaybeShrinkISR(); out != nil {
		t.Fatalf("shrunk %v at exactly the lag time; Kafka keeps a replica caught up within it", out)
	}
	r.now++
	r.fetch(2, 10)
	out := r.p.MaybeShrinkISR()
	if !slices.Equal(out, ids(3)) {
		t.Fatalf("out of sync = %v, want [3]", out)
	}
	ch := r.lastSent()
	if ch == nil || !slices.Equal(ch.ISR, ids(1, 2)) || ch.LeaderEpoch != 5 || ch.PartitionEpoch != 7 || ch.Added != -1 {
		t.Fatalf("proposal = %+v", ch)
	}
	// While pending the maximal ISR (and so the HW) still includes 3.
	if got := r.p.MaximalISR(); !slices.Equal(got, ids(1, 2, 3)) {
		t.Fatalf("maximal ISR while shrinking = %v", got)
	}
	if hw := r.p.HighWatermark(); hw != 0 {
		t.Fatalf("HW = %d while the shrink is pending, want 0", hw)
	}
	// Only one change in flight.
	if out := r.p.MaybeShrinkISR(); out != nil || r.sentCount() != 1 {
		t.Fatalf("second shrink while pending: %v, %d sent", out, r.sentCount())
	}
	if retry := r.p.ISRChangeDone(ch, partition.ISRChangeResult{LeaderEpoch: 5, PartitionEpoch: 8, ISR: ids(1, 2)}); retry {
		t.Fatal("success asked for a retry")
	}
	if got := r.p.ISR(); !slices.Equal(got, ids(1, 2)) || r.p.ISRChangePending() {
		t.Fatalf("committed ISR = %v pending=%v", got, r.p.ISRChangePending())
	}
	if st := r.p.State(); st.PartitionEpoch != 8 {
		t.Fatalf("partition epoch = %d, want 8", st.PartitionEpoch)
	}
	if hw := r.p.HighWatermark(); hw != 10 {
		t.Fatalf("HW after the shrink = %d, want 10", hw)
	}
}

func TestCaughtUpRuleUnderConstantLoad(t *testing.T) {
	// A follower that always reaches the LEO the leader had at its
	// previous fetch stays caught up even though it never equals the
	// current LEO.
	r := newISRRig(t, ids(1, 2, 3), 1)
	r.fetch(3, 0)
	off := int64(0)
	for i := 0; i < 5; i++ {
		r.produce(2)
		r.now += isrLag / 2
		r.fetch(2, off) // reaches what the leader had at its previous fetch
		r.fetch(3, off)
		off = int64(r.p.LogEndOffset())
		r.produce(1) // the leader is always one step ahead
	}
	if out := r.p.MaybeShrinkISR(); out != nil {
		t.Fatalf("shrunk %v although the followers keep up", out)
	}
}

func TestExpandWhenFollowerReachesHWAndEpochStart(t *testing.T) {
	r := newISRRig(t, ids(1, 2), 1)
	r.produce(10)
	r.fetch(2, 10) // HW 10
	r.fetch(3, 4)
	if r.sentCount() != 0 {
		t.Fatal("expansion proposed for a follower below the HW")
	}
	r.fetch(3, 10)
	ch := r.lastSent()
	if ch == nil || !slices.Equal(ch.ISR, ids(1, 2, 3)) || ch.Added != 3 {
		t.Fatalf("proposal = %+v", ch)
	}
	if got := r.p.MaximalISR(); !slices.Equal(got, ids(1, 2, 3)) {
		t.Fatalf("maximal ISR = %v", got)
	}
	// The joining follower holds the HW at once.
	r.produce(5)
	r.fetch(2, 15)
	if hw := r.p.HighWatermark(); hw != 10 {
		t.Fatalf("HW = %d, want 10", hw)
	}
	// The broker dies and the controller refuses: back to the committed
	// ISR, and the HW is free again (a dead follower is not waited for).
	r.dead[3] = true
	if retry := r.p.ISRChangeDone(ch, partition.ISRChangeResult{Err: kerr.IneligibleReplica}); retry {
		t.Fatal("INELIGIBLE_REPLICA asked for a retry")
	}
	if got := r.p.MaximalISR(); !slices.Equal(got, ids(1, 2)) || r.p.ISRChangePending() {
		t.Fatalf("maximal ISR after refusal = %v", got)
	}
	r.fetch(2, 15)
	if hw := r.p.HighWatermark(); hw != 15 {
		t.Fatalf("HW = %d, want 15", hw)
	}
}

func TestExpandNeedsTheCurrentEpoch(t *testing.T) {
	// The leader epoch started at offset 10 (records of an older epoch
	// before): a follower at the HW but below the epoch start does not join.
	r := newISRRig(t, ids(1, 2), 1)
	r.produce(10)
	r.fetch(2, 10)
	s := r.p.State()
	s.LeaderEpoch = 6
	if _, err := r.p.MakeLeader(s); err != nil {
		t.Fatal(err)
	}
	_, err := r.p.Read(partition.FetchParams{ReplicaID: 3, FetchOffset: 9, MaxBytes: 1 << 20, CurrentLeaderEpoch: 6, LastFetchedEpoch: -1})
	if err != nil {
		t.Fatal(err)
	}
	if r.sentCount() != 0 {
		t.Fatalf("expansion below the epoch start: %+v", r.lastSent())
	}
}

func TestISRChangeAnswers(t *testing.T) {
	cases := []struct {
		name        string
		res         partition.ISRChangeResult
		retry       bool
		pending     bool
		isr         []model.BrokerID
		partitionEp int32
	}{
		{"success", partition.ISRChangeResult{LeaderEpoch: 5, PartitionEpoch: 8, ISR: ids(1, 2)}, false, false, ids(1, 2), 8},
		{"success for another leader epoch is ignored", partition.ISRChangeResult{LeaderEpoch: 4, PartitionEpoch: 8, ISR: ids(1, 2)}, false, true, ids(1, 2, 3), 7},
		{"success with an older partition epoch is ignored", partition.ISRChangeResult{LeaderEpoch: 5, PartitionEpoch: 6, ISR: ids(1, 2)}, false, true, ids(1, 2, 3), 7},
		{"operation not attempted reverts", partition.ISRChangeResult{Err: kerr.OperationNotAttempted}, false, false, ids(1, 2, 3), 7},
		{"fenced stays pending", partition.ISRChangeResult{Err: kerr.FencedLeaderEpoch}, false, true, ids(1, 2, 3), 7},
		{"invalid update version stays pending", partition.ISRChangeResult{Err: kerr.InvalidUpdateVersion}, false, true, ids(1, 2, 3), 7},
		{"invalid request stays pending", partition.ISRChangeResult{Err: kerr.InvalidRequest}, false, true, ids(1, 2, 3), 7},
		{"not controller retries", partition.ISRChangeResult{Err: kerr.NotController}, true, true, ids(1, 2, 3), 7},
		{"unknown server error retries", partition.ISRChangeResult{Err: kerr.UnknownServerError}, true, true, ids(1, 2, 3), 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newISRRig(t, ids(1, 2, 3), 1)
			r.fetch(2, 0)
			r.now += isrLag + 1
			r.fetch(2, 0)
			if out := r.p.MaybeShrinkISR(); !slices.Equal(out, ids(3)) {
				t.Fatalf("shrink = %v", out)
			}
			ch := r.lastSent()
			if got := r.p.ISRChangeDone(ch, c.res); got != c.retry {
				t.Fatalf("retry = %v, want %v", got, c.retry)
			}
			if r.p.ISRChangePending() != c.pending || !slices.Equal(r.p.ISR(), c.isr) || r.p.State().PartitionEpoch != c.partitionEp {
				t.Fatalf("pending=%v isr=%v partition epoch=%d", r.p.ISRChangePending(), r.p.ISR(), r.p.State().PartitionEpoch)
			}
		})
	}
}

func TestNewLeaderEpochDropsAPendingChange(t *testing.T) {
	r := newISRRig(t, ids(1, 2, 3), 1)
	r.now += isrLag + 1
	if out := r.p.MaybeShrinkISR(); len(out) != 2 {
		t.Fatalf("shrink = %v", out)
	}
	ch := r.lastSent()
	s := r.p.State()
	s.LeaderEpoch, s.ISR, s.PartitionEpoch = 6, ids(1, 2, 3), 9
	if _, err := r.p.MakeLeader(s); err != nil {
		t.Fatal(err)
	}
	if r.p.ISRChangePending() {
		t.Fatal("a new leader epoch kept the old proposal")
	}
	if r.p.ISRChangeDone(ch, partition.ISRChangeResult{LeaderEpoch: 5, PartitionEpoch: 8, ISR: ids(1)}) || !slices.Equal(r.p.ISR(), ids(1, 2, 3)) {
		t.Fatalf("a stale answer changed the ISR to %v", r.p.ISR())
	}
}
