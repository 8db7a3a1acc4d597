package itest

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// partitionState is the JSON of /brokers/topics/<t>/partitions/<p>/state
// with the znode's version (the partition epoch).
type partitionState struct {
	Version         int     `json:"version"`
	Leader          int32   `json:"leader"`
	LeaderEpoch     int32   `json:"leader_epoch"`
	ControllerEpoch int32   `json:"controller_epoch"`
	ISR             []int32 `json:"isr"`
	ZKVersion       int32   `json:"-"`
}

func readState(c *testcluster.Cluster, topic string, p int32) (partitionState, error) {
	var s partitionState
	st, err := c.ZK().GetJSON("/brokers/topics/"+topic+"/partitions/"+strconv.Itoa(int(p))+"/state", &s)
	if err != nil {
		return s, err
	}
	s.ZKVersion = st.Version
	return s, nil
}

// waitState polls the state znode until cond holds and returns that state.
func waitState(t *testing.T, c *testcluster.Cluster, topic string, p int32, what string, cond func(partitionState) bool) partitionState {
	t.Helper()
	var got partitionState
	eventually(t, waitLong, what, func() error {
		s, err := readState(c, topic, p)
		if err != nil {
			return err
		}
		got = s
		if !cond(s) {
			return fmt.Errorf("state %+v (zkVersion %d)", s, s.ZKVersion)
		}
		return nil
	})
	return got
}

// produceOne writes one record with acks=1 to a partition.
func produceOne(t *testing.T, cl *kgo.Client, topic string, p int32, v string) {
	t.Helper()
	ctx := testCtx(t, waitLong)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}).FirstErr(); err != nil {
		t.Fatalf("produce %s: %v", v, err)
	}
}

// TestISRShrinkAndExpand: a follower frozen past replica.lag.time.max.ms
// leaves the ISR and comes back once it has caught up; both changes go
// through AlterPartition and show in the state znode with the same leader
// epoch and a partition epoch (zkVersion) one higher each time.
func TestISRShrinkAndExpand(t *testing.T) {
	c := newCluster(t, 3, map[string]string{
		"replica.lag.time.max.ms":      "1500",
		"zookeeper.session.timeout.ms": "30000",
	})
	adm := newAdmin(t, c)
	createTopic(t, c, adm, "isr", 1, 3, nil)
	before := waitState(t, c, "isr", 0, "ISR of 3", func(s partitionState) bool { return len(s.ISR) == 3 })
	// The frozen follower must not be the controller, which has to answer
	// the leader's AlterPartition.
	ctrl := c.WaitForController()
	follower := int32(-1)
	for _, b := range before.ISR {
		if b != before.Leader && b != ctrl {
			follower = b
			break
		}
	}
	cl := newClient(t, c.BootstrapAddrs(), kgo.RequiredAcks(kgo.LeaderAck()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produceOne(t, cl, "isr", 0, "before")

	c.BrokerByID(follower).Pause()
	paused := true
	defer func() {
		if paused {
			c.BrokerByID(follower).Resume()
		}
	}()
	produceOne(t, cl, "isr", 0, "while frozen")
	want := slices.DeleteFunc(slices.Clone(before.ISR), func(b int32) bool { return b == follower })
	shrunk := waitState(t, c, "isr", 0, "ISR without the frozen follower", func(s partitionState) bool { return slices.Equal(s.ISR, want) })
	if shrunk.Leader != before.Leader || shrunk.LeaderEpoch != before.LeaderEpoch || shrunk.ZKVersion != before.ZKVersion+1 {
		t.Fatalf("after the shrink: %+v zkVersion %d; before: %+v zkVersion %d (want same leader and epoch, zkVersion +1)",
			shrunk, shrunk.ZKVersion, before, before.ZKVersion)
	}

	c.BrokerByID(follower).Resume()
	paused = false
	produceOne(t, cl, "isr", 0, "after")
	grown := waitState(t, c, "isr", 0, "ISR with the follower back", func(s partitionState) bool { return len(s.ISR) == 3 })
	wantBack := append(slices.Clone(want), follower)
	if !slices.Equal(grown.ISR, wantBack) || grown.Leader != before.Leader || grown.LeaderEpoch != before.LeaderEpoch || grown.ZKVersion != before.ZKVersion+2 {
		t.Fatalf("after the expansion: %+v zkVersion %d; want isr %v, leader %d, epoch %d, zkVersion %d",
			grown, grown.ZKVersion, wantBack, before.Leader, before.LeaderEpoch, before.ZKVersion+2)
	}
	// Every record is readable from the new ISR.
	got := consumeRange(t, c.BootstrapAddrs(), "isr", map[int32]int64{0: 3})
	if len(got[0]) != 3 || string(got[0][1].Value) != "while frozen" {
		t.Fatalf("read back %d records", len(got[0]))
	}
}

// TestISRChangeAcrossControllerFailover: the controller itself is the
// follower that falls behind and is frozen until its session expires. The
// leader's AlterPartition cannot be answered by it; a new controller takes
// over, the ISR loses the frozen broker, and once it is back and caught up
// the ISR regains it, written by the new controller. Meanwhile the state
// znode never goes back to the old controller's epoch (a zombie's writes
// are fenced).
func TestISRChangeAcrossControllerFailover(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"replica.lag.time.max.ms": "1500"})
	ctrl := c.WaitForController()
	oldEpoch, _, err := c.ControllerEpoch()
	if err != nil {
		t.Fatal(err)
	}
	adm := newAdmin(t, c)
	createTopic(t, c, adm, "isrfail", 3, 3, nil)
	// A partition led by someone else than the controller.
	p := int32(-1)
	var before partitionState
	for i := int32(0); i < 3; i++ {
		s := waitState(t, c, "isrfail", i, "ISR of 3", func(s partitionState) bool { return len(s.ISR) == 3 })
		if s.Leader != ctrl {
			p, before = i, s
			break
		}
	}
	if p < 0 {
		t.Fatal("the controller leads every partition")
	}

	// Watch the state znode for the whole test.
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var seen []partitionState
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if s, err := readState(c, "isrfail", p); err == nil {
				mu.Lock()
				if len(seen) == 0 || seen[len(seen)-1].ZKVersion != s.ZKVersion {
					seen = append(seen, s)
				}
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	defer func() { cancel(); wg.Wait() }()

	cl := newClient(t, c.BootstrapAddrs(), kgo.RequiredAcks(kgo.LeaderAck()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	c.BrokerByID(ctrl).Pause()
	produceOne(t, cl, "isrfail", p, "one")
	newCtrl := c.WaitForNewController(ctrl)
	without := waitState(t, c, "isrfail", p, "ISR without the frozen controller", func(s partitionState) bool {
		return !slices.Contains(s.ISR, ctrl) && s.Leader == before.Leader
	})
	c.BrokerByID(ctrl).Resume()
	produceOne(t, cl, "isrfail", p, "two")
	back := waitState(t, c, "isrfail", p, "ISR with the old controller back", func(s partitionState) bool {
		return slices.Contains(s.ISR, ctrl) && len(s.ISR) == 3
	})
	newEpoch, _, err := c.ControllerEpoch()
	if err != nil {
		t.Fatal(err)
	}
	if newEpoch <= oldEpoch || back.ControllerEpoch != newEpoch || back.Leader != before.Leader {
		t.Fatalf("final state %+v; controller epochs old %d new %d (new controller %d)", back, oldEpoch, newEpoch, newCtrl)
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for i := 1; i < len(seen); i++ {
		if seen[i].ControllerEpoch < seen[i-1].ControllerEpoch || seen[i].LeaderEpoch < seen[i-1].LeaderEpoch {
			t.Fatalf("state went back: %+v then %+v", seen[i-1], seen[i])
		}
	}
	t.Logf("states seen: %+v (without the frozen broker: %+v)", seen, without)
}
