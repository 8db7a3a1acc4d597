package itest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// ofleQuery is one partition of an OffsetForLeaderEpoch request.
type ofleQuery struct {
	topic              string
	partition          int32
	current, requested int32
}

// ofleAnswer is what a broker answered for one partition.
type ofleAnswer struct {
	err   int16
	epoch int32
	end   int64
}

func (a ofleAnswer) String() string {
	return fmt.Sprintf("(epoch %d, end %d, %v)", a.epoch, a.end, kerr.ErrorForCode(a.err))
}

// ofleAsk sends one OffsetForLeaderEpoch request holding every query (one
// topic entry per query, in order) and returns the answers in order,
// checking that the response lists the same topics and partitions.
func ofleAsk(addr string, version int16, replicaID int32, qs ...ofleQuery) ([]ofleAnswer, error) {
	req := kmsg.NewPtrOffsetForLeaderEpochRequest()
	req.Version = version
	req.ReplicaID = replicaID
	for _, q := range qs {
		rt := kmsg.NewOffsetForLeaderEpochRequestTopic()
		rt.Topic = q.topic
		rp := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		rp.Partition, rp.CurrentLeaderEpoch, rp.LeaderEpoch = q.partition, q.current, q.requested
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := oneRequest(addr, req)
	if err != nil {
		return nil, err
	}
	r := resp.(*kmsg.OffsetForLeaderEpochResponse)
	if r.ThrottleMillis != 0 {
		return nil, fmt.Errorf("throttle %d", r.ThrottleMillis)
	}
	if len(r.Topics) != len(qs) {
		return nil, fmt.Errorf("%d topics answered, %d asked", len(r.Topics), len(qs))
	}
	out := make([]ofleAnswer, len(qs))
	for i, q := range qs {
		rt := r.Topics[i]
		if rt.Topic != q.topic || len(rt.Partitions) != 1 || rt.Partitions[0].Partition != q.partition {
			return nil, fmt.Errorf("answer %d is for %s %+v, asked %s/%d", i, rt.Topic, rt.Partitions, q.topic, q.partition)
		}
		p := rt.Partitions[0]
		out[i] = ofleAnswer{err: p.ErrorCode, epoch: p.LeaderEpoch, end: p.EndOffset}
	}
	return out, nil
}

// ofleCase is a query with the answer Kafka gives.
type ofleCase struct {
	name string
	q    ofleQuery
	want ofleAnswer
}

func ofleOK(epoch int32, end int64) ofleAnswer { return ofleAnswer{epoch: epoch, end: end} }
func ofleErr(e *kerr.Error) ofleAnswer         { return ofleAnswer{err: e.Code, epoch: -1, end: -1} }
func ofleQ(topic string, cur, req int32) ofleQuery {
	return ofleQuery{topic: topic, current: cur, requested: req}
}

// ofleCheck asks every case in one v4 request (consumer replica id) and
// compares the answers.
func ofleCheck(t *testing.T, what, addr string, cases []ofleCase) {
	t.Helper()
	qs := make([]ofleQuery, len(cases))
	for i, c := range cases {
		qs[i] = c.q
	}
	got, err := ofleAsk(addr, 4, -1, qs...)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	for i, c := range cases {
		if got[i] != c.want {
			t.Errorf("%s: %s: %s/%d current %d requested %d: %v, want %v",
				what, c.name, c.q.topic, c.q.partition, c.q.current, c.q.requested, got[i], c.want)
		}
	}
}

// ofleHook counts the OffsetForLeaderEpoch requests a client sends.
type ofleHook struct{ sent atomic.Int32 }

func (h *ofleHook) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == 23 && err == nil {
		h.sent.Add(1)
	}
}

// ofleWaitLeader polls addr until it answers the current epoch of
// topic/0 without error (it has applied the controller's LeaderAndIsr for
// that epoch as leader).
func ofleWaitLeader(t *testing.T, addr, topic string, epoch int32) {
	t.Helper()
	eventually(t, waitLong, fmt.Sprintf("%s leads %s/0 at epoch %d", addr, topic, epoch), func() error {
		got, err := ofleAsk(addr, 4, -1, ofleQ(topic, epoch, epoch))
		if err != nil {
			return err
		}
		if got[0].err != 0 {
			return kerr.ErrorForCode(got[0].err)
		}
		return nil
	})
}

// oflePoll consumes until want records arrived in total, failing on a
// data-loss error.
func oflePoll(t *testing.T, cl *kgo.Client, got *[]*kgo.Record, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLong)
	defer cancel()
	for len(*got) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d records, want %d", len(*got), want)
		}
		fs.EachError(func(topic string, p int32, err error) {
			var loss *kgo.ErrDataLoss
			if errors.As(err, &loss) {
				t.Errorf("consumer reports data loss on %s/%d: %v", topic, p, err)
				return
			}
			t.Logf("fetch %s/%d: %v", topic, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) { *got = append(*got, r) })
	}
}

// TestOffsetForLeaderEpoch checks the answers of OffsetForLeaderEpoch over
// the wire before and after a leader change, on leaders, followers and
// brokers that do not host the partition, and that a franz-go consumer
// validates its position with it and keeps consuming across the change.
func TestOffsetForLeaderEpoch(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	const topic, r1 = "ofle", "ofle-r1"
	createTopic(t, c, adm, topic, 1, 3, nil)
	createTopic(t, c, adm, r1, 1, 1, nil)
	seeds := c.BootstrapAddrs()

	sent := produceTo(t, seeds, topic, "first", []int32{0}, 10)
	checkDenseOffsets(t, sent)

	st := zkPartitionState(t, c, topic, 0)
	leader, e0 := st.Leader, st.LeaderEpoch
	lead := c.BrokerByID(leader)
	ofleWaitLeader(t, lead.Addr(), topic, e0)
	var followers []*testcluster.Broker
	for _, b := range c.Brokers() {
		if b.ID() != leader {
			followers = append(followers, b)
		}
	}
	r1Host := zkAssignment(t, c, r1)[0][0]
	var r1Stranger *testcluster.Broker // knows ofle-r1, does not host it
	for _, b := range c.Brokers() {
		if b.ID() != r1Host {
			r1Stranger = b
			break
		}
	}

	// A consumer reads the first ten records from the first leader.
	hook := &ofleHook{}
	consumer := newClient(t, seeds,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().At(0)}}),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.WithHooks(hook))
	var consumed []*kgo.Record
	oflePoll(t, consumer, &consumed, 10)

	t.Run("Leader", func(t *testing.T) {
		ofleCheck(t, "leader", lead.Addr(), []ofleCase{
			{"current epoch: the log end offset", ofleQ(topic, e0, e0), ofleOK(e0, 10)},
			{"no current epoch", ofleQ(topic, -1, e0), ofleOK(e0, 10)},
			{"epoch newer than every epoch", ofleQ(topic, e0, e0+1), ofleOK(-1, -1)},
			{"undefined epoch", ofleQ(topic, e0, -1), ofleOK(-1, -1)},
			{"current epoch from the future", ofleQ(topic, e0+1, e0), ofleErr(kerr.UnknownLeaderEpoch)},
			{"-2 is not 'no epoch'", ofleQ(topic, -2, e0), ofleErr(kerr.FencedLeaderEpoch)},
			{"unknown topic", ofleQ("ofle-nope", -1, 0), ofleErr(kerr.UnknownTopicOrPartition)},
			{"unknown partition", ofleQuery{topic: topic, partition: 7, current: -1}, ofleErr(kerr.UnknownTopicOrPartition)},
		})
		// Every version, and every kind of asker (consumer, follower,
		// debug replica id), gets the same answer; v0 has no epoch field.
		for v := int16(0); v <= 4; v++ {
			for _, replica := range []int32{-1, followers[0].ID(), -2} {
				got, err := ofleAsk(lead.Addr(), v, replica, ofleQ(topic, -1, e0))
				if err != nil {
					t.Fatalf("v%d replica %d: %v", v, replica, err)
				}
				want := ofleOK(e0, 10)
				if v == 0 {
					want.epoch = -1 // not on the wire; kmsg's default
				}
				if got[0] != want {
					t.Errorf("v%d replica %d: %v, want %v", v, replica, got[0], want)
				}
			}
		}
		// CurrentLeaderEpoch exists from v2: v0 and v1 are never fenced.
		got, err := ofleAsk(lead.Addr(), 1, -2, ofleQ(topic, e0+5, e0))
		if err != nil || got[0] != ofleOK(e0, 10) {
			t.Errorf("v1 with a future current epoch (not sent): %v %v, want %v", got, err, ofleOK(e0, 10))
		}
	})

	t.Run("NotLeader", func(t *testing.T) {
		for _, f := range followers {
			ofleCheck(t, fmt.Sprintf("follower %d", f.ID()), f.Addr(), []ofleCase{
				{"same epoch", ofleQ(topic, e0, e0), ofleErr(kerr.NotLeaderForPartition)},
				{"no current epoch", ofleQ(topic, -1, e0), ofleErr(kerr.NotLeaderForPartition)},
				{"current epoch from the future", ofleQ(topic, e0+1, e0), ofleErr(kerr.UnknownLeaderEpoch)},
			})
		}
		ofleCheck(t, fmt.Sprintf("broker %d without a replica of %s", r1Stranger.ID(), r1), r1Stranger.Addr(), []ofleCase{
			{"known, not hosted", ofleQ(r1, 0, 0), ofleErr(kerr.NotLeaderForPartition)},
			{"unknown topic", ofleQ("ofle-nope", -1, 0), ofleErr(kerr.UnknownTopicOrPartition)},
		})
		ofleCheck(t, fmt.Sprintf("broker %d hosting %s", r1Host, r1), c.BrokerByID(r1Host).Addr(), []ofleCase{
			{"sole replica", ofleQ(r1, 0, 0), ofleOK(0, 0)},
		})
	})
	if t.Failed() {
		t.FailNow()
	}

	// kill -9 the leader: the controller elects a follower with a new
	// leader epoch, which starts at offset 10.
	lead.Kill9()
	var e1, newLeader int32
	eventually(t, waitLong, "a new leader for "+topic, func() error {
		st := zkPartitionState(t, c, topic, 0)
		if st.Leader == leader || st.Leader < 0 || st.LeaderEpoch <= e0 {
			return fmt.Errorf("partition state %+v", st)
		}
		newLeader, e1 = st.Leader, st.LeaderEpoch
		return nil
	})
	nl := c.BrokerByID(newLeader)
	ofleWaitLeader(t, nl.Addr(), topic, e1)
	t.Logf("leader %d killed; broker %d leads at epoch %d (was %d)", leader, newLeader, e1, e0)

	t.Run("NewLeaderBeforeAppend", func(t *testing.T) {
		ofleCheck(t, "new leader", nl.Addr(), []ofleCase{
			{"new epoch, nothing written", ofleQ(topic, e1, e1), ofleOK(e1, 10)},
			{"old epoch: start of the new one", ofleQ(topic, e1, e0), ofleOK(e0, 10)},
		})
	})

	more := produceTo(t, seeds, topic, "second", []int32{0}, 5)
	if more[0].Offset != 10 || more[4].Offset != 14 {
		t.Fatalf("second batch at offsets %d..%d, want 10..14", more[0].Offset, more[4].Offset)
	}

	t.Run("NewLeader", func(t *testing.T) {
		cases := []ofleCase{
			{"current epoch: the log end offset", ofleQ(topic, e1, e1), ofleOK(e1, 15)},
			{"old epoch: start of the new one", ofleQ(topic, e1, e0), ofleOK(e0, 10)},
			{"old epoch, no current epoch", ofleQ(topic, -1, e0), ofleOK(e0, 10)},
			{"newer than every epoch", ofleQ(topic, e1, e1+1), ofleOK(-1, -1)},
			{"stale current epoch", ofleQ(topic, e0, e1), ofleErr(kerr.FencedLeaderEpoch)},
			{"current epoch from the future", ofleQ(topic, e1+1, e1), ofleErr(kerr.UnknownLeaderEpoch)},
		}
		for e := e0 + 1; e < e1; e++ { // epochs the controller skipped, if any
			cases = append(cases, ofleCase{fmt.Sprintf("unused epoch %d", e), ofleQ(topic, e1, e), ofleOK(e0, 10)})
		}
		if e0 > 0 {
			cases = append(cases, ofleCase{"older than every epoch", ofleQ(topic, e1, e0-1), ofleOK(e0-1, 0)})
		}
		ofleCheck(t, "new leader", nl.Addr(), cases)
		for _, f := range followers {
			if f.ID() == newLeader {
				continue
			}
			ofleCheck(t, fmt.Sprintf("follower %d", f.ID()), f.Addr(), []ofleCase{
				{"same epoch", ofleQ(topic, e1, e0), ofleErr(kerr.NotLeaderForPartition)},
			})
		}
	})

	// The consumer moves to the new leader, validates its position (10 at
	// epoch e0) with OffsetForLeaderEpoch and reads on without a reset.
	t.Run("FranzGoConsumer", func(t *testing.T) {
		oflePoll(t, consumer, &consumed, 15)
		var offsets []int64
		for _, r := range consumed {
			offsets = append(offsets, r.Offset)
		}
		want := make([]int64, 15)
		for i := range want {
			want[i] = int64(i)
		}
		if !slices.Equal(offsets, want) {
			t.Errorf("consumed offsets %v, want 0..14 once each", offsets)
		}
		for i, s := range append(sent, more...) {
			if i < len(consumed) {
				if err := sameRecord(s, consumed[i]); err != nil {
					t.Errorf("offset %d: %v", i, err)
				}
			}
		}
		if n := hook.sent.Load(); n == 0 {
			t.Errorf("the consumer never sent OffsetForLeaderEpoch after the leader change")
		}
		for _, r := range consumed[10:] {
			if r.LeaderEpoch != e1 {
				t.Errorf("offset %d: leader epoch %d, want %d", r.Offset, r.LeaderEpoch, e1)
			}
		}
	})

	// The old leader comes back as a follower at the new epoch.
	lead.Restart()
	t.Run("RestartedFollower", func(t *testing.T) {
		eventually(t, waitLong, fmt.Sprintf("broker %d follows at epoch %d", leader, e1), func() error {
			got, err := ofleAsk(lead.Addr(), 4, -1, ofleQ(topic, e1, e0))
			if err != nil {
				return err
			}
			if got[0] != ofleErr(kerr.NotLeaderForPartition) {
				return fmt.Errorf("answer %v", got[0])
			}
			return nil
		})
		ofleCheck(t, "restarted follower", lead.Addr(), []ofleCase{
			{"stale current epoch", ofleQ(topic, e0, e0), ofleErr(kerr.FencedLeaderEpoch)},
			{"current epoch from the future", ofleQ(topic, e1+1, e0), ofleErr(kerr.UnknownLeaderEpoch)},
			{"no current epoch", ofleQ(topic, -1, e0), ofleErr(kerr.NotLeaderForPartition)},
		})
		ofleCheck(t, "new leader after the restart", nl.Addr(), []ofleCase{
			{"current epoch", ofleQ(topic, e1, e1), ofleOK(e1, 15)},
			{"old epoch", ofleQ(topic, e1, e0), ofleOK(e0, 10)},
		})
	})
}
