package partition_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/internal/faultfs"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

const oeLocal model.BrokerID = 1

var oeTP = model.TopicPartition{Topic: "oe", Partition: 0}

// oePartition is a partition over a fresh log in a temporary directory
// (fs nil: the real file system).
func oePartition(t *testing.T, fs segment.FS) *partition.Partition {
	t.Helper()
	opts := commitlog.Options{Config: commitlog.DefaultConfig(), HadCleanShutdown: true, Logger: zerolog.Nop()}
	if fs != nil {
		opts.FS = fs
	}
	l, err := commitlog.Open(filepath.Join(t.TempDir(), commitlog.DirName(oeTP)), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return partition.New(oeTP, oeLocal, l, nil)
}

func oeState(leader model.BrokerID, epoch model.LeaderEpoch) partition.State {
	return partition.State{
		LeaderAndISR: model.LeaderAndISR{Leader: leader, LeaderEpoch: epoch, ISR: []model.BrokerID{oeLocal}},
		Replicas:     []model.BrokerID{oeLocal, 2},
	}
}

func oeLead(t *testing.T, p *partition.Partition, epoch model.LeaderEpoch) {
	t.Helper()
	if _, err := p.MakeLeader(oeState(oeLocal, epoch)); err != nil {
		t.Fatal(err)
	}
}

// oeAppend appends one batch of n records as leader.
func oeAppend(t *testing.T, p *partition.Partition, n int) {
	t.Helper()
	recs := make([]record.NewRecord, n)
	for i := range recs {
		recs[i] = record.NewRecord{Timestamp: 1_700_000_000_000, Value: []byte(fmt.Sprintf("v%d", i))}
	}
	b, err := record.Build(record.NewSpec(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AppendAsLeader(b, 1, 1, record.FromClient, partition.NoTxnGuard); err != nil {
		t.Fatal(err)
	}
}

type oeCase struct {
	name               string
	current, requested int32
	epoch              model.LeaderEpoch
	end                model.Offset
	err                *kerr.Error
}

func oeCheck(t *testing.T, p *partition.Partition, cases []oeCase) {
	t.Helper()
	for _, tc := range cases {
		got, err := p.LastOffsetForLeaderEpoch(tc.current, tc.requested)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: (current %d, requested %d) error %v, want %s", tc.name, tc.current, tc.requested, err, tc.err.Message)
			}
			if got.Epoch != -1 || got.EndOffset != -1 {
				t.Errorf("%s: answer %+v with an error, want (-1, -1)", tc.name, got)
			}
			continue
		}
		if err != nil || got.Epoch != tc.epoch || got.EndOffset != tc.end {
			t.Errorf("%s: (current %d, requested %d) = (%d, %d) %v, want (%d, %d)",
				tc.name, tc.current, tc.requested, got.Epoch, got.EndOffset, err, tc.epoch, tc.end)
		}
	}
}

// The epoch cache's answers on a leader whose log holds epochs 0, 2 and 5
// (entries 0→0, 2→3, 5→5; log end 9).
func TestLastOffsetForLeaderEpochAnswers(t *testing.T) {
	p := oePartition(t, nil)
	oeLead(t, p, 0)
	oeAppend(t, p, 3)
	oeLead(t, p, 2)
	oeAppend(t, p, 2)
	oeLead(t, p, 5)
	oeAppend(t, p, 1)
	oeAppend(t, p, 3)
	want := []commitlog.EpochEntry{{Epoch: 0, StartOffset: 0}, {Epoch: 2, StartOffset: 3}, {Epoch: 5, StartOffset: 5}}
	if got := p.Log().EpochEntries(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("epoch cache %v, want %v", got, want)
	}
	oeCheck(t, p, []oeCase{
		{name: "current epoch: the log end offset", current: -1, requested: 5, epoch: 5, end: 9},
		{name: "current epoch, fenced by itself", current: 5, requested: 5, epoch: 5, end: 9},
		{name: "older epoch: start of the next", current: 5, requested: 2, epoch: 2, end: 5},
		{name: "first epoch", current: -1, requested: 0, epoch: 0, end: 3},
		{name: "gap after 0: largest epoch below", current: -1, requested: 1, epoch: 0, end: 3},
		{name: "gap after 2: largest epoch below", current: -1, requested: 3, epoch: 2, end: 5},
		{name: "gap before 5", current: -1, requested: 4, epoch: 2, end: 5},
		{name: "newer than every epoch", current: -1, requested: 6, epoch: -1, end: -1},
		{name: "much newer", current: 5, requested: 1 << 30, epoch: -1, end: -1},
		{name: "undefined epoch", current: -1, requested: -1, epoch: -1, end: -1},
	})

	// The high watermark does not matter: the answer for the current
	// epoch is the log end offset (here HW = LEO with a lone ISR; a
	// follower in the ISR holds the HW back).
	if _, err := p.MakeLeader(partition.State{
		LeaderAndISR: model.LeaderAndISR{Leader: oeLocal, LeaderEpoch: 6, ISR: []model.BrokerID{oeLocal, 2}},
		Replicas:     []model.BrokerID{oeLocal, 2},
	}); err != nil {
		t.Fatal(err)
	}
	oeAppend(t, p, 4)
	if hw := p.HighWatermark(); hw != 9 {
		t.Fatalf("HW %d with a follower that never fetched, want 9", hw)
	}
	oeCheck(t, p, []oeCase{
		{name: "current epoch beyond the HW", current: 6, requested: 6, epoch: 6, end: 13},
		{name: "previous epoch", current: 6, requested: 5, epoch: 5, end: 9},
	})
}

// A leader that has not appended in its epoch yet answers the epoch's start
// (the log end offset it became leader at); an epoch older than the whole
// cache answers itself with the first entry's start.
func TestLastOffsetForLeaderEpochEdges(t *testing.T) {
	p := oePartition(t, nil)
	if err := p.Log().TruncateFullyAndStartAt(10); err != nil {
		t.Fatal(err)
	}
	oeLead(t, p, 3)
	oeCheck(t, p, []oeCase{
		{name: "new epoch, nothing appended", current: 3, requested: 3, epoch: 3, end: 10},
		{name: "older than every entry", current: 3, requested: 1, epoch: 1, end: 10},
		{name: "epoch 0, older than every entry", current: 3, requested: 0, epoch: 0, end: 10},
		{name: "newer", current: 3, requested: 4, epoch: -1, end: -1},
	})
	oeAppend(t, p, 2)
	oeCheck(t, p, []oeCase{
		{name: "after an append", current: 3, requested: 3, epoch: 3, end: 12},
		{name: "older, after an append", current: -1, requested: 2, epoch: 2, end: 10},
	})

	// An empty cache (a log that never had a leader here) knows nothing.
	q := oePartition(t, nil)
	if _, err := q.MakeFollower(oeState(2, 0)); err != nil {
		t.Fatal(err)
	}
	if _, err := q.MakeLeader(oeState(oeLocal, 1)); err != nil {
		t.Fatal(err)
	}
	if err := q.Log().TruncateFullyAndStartAt(0); err != nil { // clears the cache
		t.Fatal(err)
	}
	oeCheck(t, q, []oeCase{
		{name: "empty cache", current: 1, requested: 1, epoch: -1, end: -1},
		{name: "empty cache, epoch 0", current: -1, requested: 0, epoch: -1, end: -1},
	})
}

// CurrentLeaderEpoch fencing comes before the leadership check, as in
// Kafka: a follower with the same epoch is NOT_LEADER_OR_FOLLOWER, one
// with another epoch is fenced or unknown.
func TestLastOffsetForLeaderEpochFencing(t *testing.T) {
	p := oePartition(t, nil)
	oeLead(t, p, 4)
	oeAppend(t, p, 2)
	oeCheck(t, p, []oeCase{
		{name: "leader, no current epoch", current: -1, requested: 4, epoch: 4, end: 2},
		{name: "leader, same epoch", current: 4, requested: 4, epoch: 4, end: 2},
		{name: "leader, older epoch", current: 3, requested: 4, err: kerr.FencedLeaderEpoch},
		{name: "leader, epoch 0", current: 0, requested: 4, err: kerr.FencedLeaderEpoch},
		{name: "leader, newer epoch", current: 5, requested: 4, err: kerr.UnknownLeaderEpoch},
		{name: "leader, -2 is not 'no epoch'", current: -2, requested: 4, err: kerr.FencedLeaderEpoch},
	})

	if _, err := p.MakeFollower(oeState(2, 7)); err != nil {
		t.Fatal(err)
	}
	oeCheck(t, p, []oeCase{
		{name: "follower, no current epoch", current: -1, requested: 4, err: kerr.NotLeaderForPartition},
		{name: "follower, same epoch", current: 7, requested: 7, err: kerr.NotLeaderForPartition},
		{name: "follower, older epoch", current: 4, requested: 4, err: kerr.FencedLeaderEpoch},
		{name: "follower, newer epoch", current: 8, requested: 4, err: kerr.UnknownLeaderEpoch},
	})

	p.Stop()
	oeCheck(t, p, []oeCase{
		{name: "stopped replica", current: -1, requested: 4, err: kerr.NotLeaderForPartition},
	})
}

// An offline log answers KAFKA_STORAGE_ERROR before anything else.
func TestLastOffsetForLeaderEpochOfflineLog(t *testing.T) {
	fs := faultfs.New()
	p := oePartition(t, fs)
	oeLead(t, p, 1)
	oeAppend(t, p, 1)
	fs.Fail(faultfs.Write, segment.LogSuffix, syscall.EIO)
	recs := []record.NewRecord{{Timestamp: 1_700_000_000_000, Value: []byte("x")}}
	b, err := record.Build(record.NewSpec(), recs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AppendAsLeader(b, 1, 1, record.FromClient, partition.NoTxnGuard); err == nil {
		t.Fatal("append on a failing disk succeeded")
	}
	oeCheck(t, p, []oeCase{
		{name: "offline, current epoch", current: 1, requested: 1, err: kerr.KafkaStorageError},
		{name: "offline, fenced epoch", current: 0, requested: 1, err: kerr.KafkaStorageError},
	})
}

// Answers stay consistent while the leader appends and changes epochs.
func TestLastOffsetForLeaderEpochConcurrent(t *testing.T) {
	p := oePartition(t, nil)
	oeLead(t, p, 0)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := p.LastOffsetForLeaderEpoch(-1, 0)
			if err != nil || got.Epoch != 0 || got.EndOffset < 0 {
				select {
				case errs <- fmt.Errorf("epoch 0: %+v %v", got, err):
				default:
				}
				return
			}
		}
	}()
	for e := model.LeaderEpoch(0); e < 20; e++ {
		oeLead(t, p, e)
		oeAppend(t, p, 1)
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if got, err := p.LastOffsetForLeaderEpoch(19, 0); err != nil || got.Epoch != 0 || got.EndOffset != 1 {
		t.Fatalf("epoch 0 after 20 epochs: %+v %v, want (0, 1)", got, err)
	}
	if got, err := p.LastOffsetForLeaderEpoch(19, 19); err != nil || got.Epoch != 19 || got.EndOffset != 20 {
		t.Fatalf("epoch 19: %+v %v, want (19, 20)", got, err)
	}
}
