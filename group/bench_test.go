package group

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkRebalance100 measures one full rebalance of a 100-member group
// on the coordinator alone (in-memory log): the leader's JoinGroup starts
// it, every member rejoins, the leader's SyncGroup stores the assignment
// and every member gets its own.
func BenchmarkRebalance100(b *testing.B) {
	const n = 100
	cfg := testConfig()
	cfg.MaxSize = 1000
	// The first round forms the group: all members inside the initial
	// delay. Later rounds end as soon as every member rejoined.
	cfg.InitialRebalanceDelay = 500 * time.Millisecond
	c := New(cfg, newMemLog())
	defer c.Close()
	for p := int32(0); p < testPartitions; p++ {
		c.Elect(p, 0)
	}
	for !allLoaded(c) {
		time.Sleep(time.Millisecond)
	}
	ids := make([]string, n)
	gen := int32(0)
	leader := ""
	rebalance := func(first bool) {
		var wg sync.WaitGroup
		resps := make([]*kmsg.JoinGroupResponse, n)
		for i := range n {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				req := kmsg.NewPtrJoinGroupRequest()
				req.Version, req.Group, req.MemberID = 5, "bench", ids[i]
				req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 30000, 30000
				req.ProtocolType = "consumer"
				req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte("m")}}
				for {
					r, err := c.JoinGroup(context.Background(), JoinRequest{JoinGroupRequest: req, ClientID: "bench"})
					if err == nil {
						resps[i] = r
						return
					}
					req.MemberID = r.MemberID // MEMBER_ID_REQUIRED on the first round
				}
			}(i)
			if i == 0 && !first {
				// The leader's join starts the rebalance; the others follow.
				for groupState(c, "bench") != "PreparingRebalance" {
					time.Sleep(10 * time.Microsecond)
				}
			}
		}
		wg.Wait()
		for i, r := range resps {
			ids[i] = r.MemberID
		}
		gen, leader = resps[0].Generation, resps[0].LeaderID
		assignment := map[string][]byte{}
		for _, id := range ids {
			assignment[id] = []byte("a")
		}
		for _, id := range ids {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				req := kmsg.NewPtrSyncGroupRequest()
				req.Version, req.Group, req.MemberID, req.Generation = 5, "bench", id, gen
				if id == leader {
					for m, a := range assignment {
						req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: m, MemberAssignment: a})
					}
				}
				if _, err := c.SyncGroup(context.Background(), req); err != nil {
					panic(fmt.Sprintf("sync: %v", err))
				}
			}(id)
		}
		wg.Wait()
	}
	rebalance(true)
	// The leader first, so that its join starts each rebalance.
	for i, id := range ids {
		if id == leader {
			ids[0], ids[i] = ids[i], ids[0]
		}
	}
	b.ResetTimer()
	for range b.N {
		rebalance(false)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/rebalance")
}

// BenchmarkCommitOffsets measures OffsetCommit of one partition on the
// coordinator alone (in-memory log), from parallel simple consumers.
func BenchmarkCommitOffsets(b *testing.B) {
	c := New(testConfig(), newMemLog())
	defer c.Close()
	for p := int32(0); p < testPartitions; p++ {
		c.Elect(p, 0)
	}
	for !allLoaded(c) {
		time.Sleep(time.Millisecond)
	}
	var next sync.Mutex
	g := 0
	b.RunParallel(func(pb *testing.PB) {
		next.Lock()
		id := fmt.Sprintf("bench-%d", g)
		g++
		next.Unlock()
		off := int64(0)
		for pb.Next() {
			off++
			errs := c.CommitOffsets(context.Background(), CommitRequest{Group: id, Generation: -1, RetentionMs: -1,
				Offsets: []CommitOffset{{Topic: "t", Partition: 0, Offset: off, LeaderEpoch: -1, Timestamp: -1}}})
			if errs[0] != nil {
				panic(errs[0])
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
