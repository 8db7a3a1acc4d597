package itest

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// produceN writes n records (values v-<tag>-<i>) spread over a topic's
// partitions and returns them by value.
func produceN(t *testing.T, seeds []string, topic, tag string, n int) map[string]bool {
	t.Helper()
	cl := newClient(t, seeds, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	want := map[string]bool{}
	var rs []*kgo.Record
	for i := range n {
		v := fmt.Sprintf("v-%s-%d", tag, i)
		want[v] = true
		rs = append(rs, &kgo.Record{Value: []byte(v)})
	}
	if err := cl.ProduceSync(testCtx(t, waitLong), rs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return want
}

// consumeInGroup consumes with a group member until want records arrived,
// commits, and leaves the group; it fails on a record outside want or
// seen twice.
func consumeInGroup(t *testing.T, seeds []string, groupID, topic string, want map[string]bool, opts ...kgo.Opt) {
	t.Helper()
	cl := newClient(t, seeds, append([]kgo.Opt{kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.FetchMaxWait(500 * time.Millisecond)}, opts...)...)
	got := map[string]bool{}
	ctx := testCtx(t, waitLong)
	for len(got) < len(want) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("group %s consumed %d of %d records", groupID, len(got), len(want))
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("fetch %s-%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			v := string(r.Value)
			if !want[v] {
				t.Errorf("group %s got %q, which it should not see", groupID, v)
			}
			if got[v] {
				t.Errorf("group %s got %q twice", groupID, v)
			}
			got[v] = true
		})
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	cl.Close()
}

func TestGroupsFranzGo(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	seeds := c.BootstrapAddrs()
	const topic = "grp-orders"
	createTopic(t, c, adm, topic, 6, 2, nil)

	first := produceN(t, seeds, topic, "a", 300)
	consumeInGroup(t, seeds, "billing", topic, first)

	// __consumer_offsets as Kafka creates it: 50 partitions, replication
	// factor 3, compacted, internal (config keys in zkmeta's sorted order).
	checkZnode(t, c, "/config/topics/__consumer_offsets",
		`{"version":1,"config":{"cleanup.policy":"compact","compression.type":"producer","segment.bytes":"104857600"}}`, false)
	if a := zkAssignment(t, c, "__consumer_offsets"); len(a) != 50 || len(a[0]) != 3 {
		t.Fatalf("__consumer_offsets: %d partitions, %d replicas", len(a), len(a[0]))
	}
	mt, err := topicMetadataFrom(seeds[0], "__consumer_offsets")
	if err != nil || !mt.IsInternal {
		t.Fatalf("__consumer_offsets metadata: internal=%v (%v)", mt.IsInternal, err)
	}

	// Committed = end of every partition.
	ctx := testCtx(t, waitLong)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(ctx, "billing")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		got, ok := committed.Lookup(topic, o.Partition)
		if !ok || got.At != o.Offset {
			t.Errorf("partition %d: committed %+v, end %d", o.Partition, got, o.Offset)
		}
	})

	// The group is Empty now; a new member resumes exactly after the
	// commit: the second batch only, nothing twice.
	described, err := adm.DescribeGroups(ctx, "billing")
	if err != nil || described["billing"].State != "Empty" || described["billing"].ProtocolType != "consumer" {
		t.Fatalf("describe: %+v (%v)", described["billing"], err)
	}
	second := produceN(t, seeds, topic, "b", 60)
	consumeInGroup(t, seeds, "billing", topic, second)

	// FindCoordinator from any broker names the same coordinator, the
	// leader of the group's partition.
	var coord int32 = -2
	for _, b := range c.Brokers() {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.Version = 3
		req.CoordinatorKey = "billing"
		resp, err := oneRequest(b.Addr(), req)
		if err != nil {
			t.Fatal(err)
		}
		fc := resp.(*kmsg.FindCoordinatorResponse)
		if fc.ErrorCode != 0 || (coord != -2 && fc.NodeID != coord) {
			t.Fatalf("FindCoordinator from %d: node %d error %d (others said %d)", b.ID(), fc.NodeID, fc.ErrorCode, coord)
		}
		coord = fc.NodeID
	}
	leader, err := leaderOf(seeds[0], "__consumer_offsets", javaPartition("billing", 50))
	if err != nil || leader != coord {
		t.Fatalf("coordinator %d, leader of the group's partition %d (%v)", coord, leader, err)
	}
}

// javaPartition is abs(String.hashCode) % n, computed here independently.
func javaPartition(s string, n int32) int32 {
	var h int32
	for _, r := range s { // ASCII group ids only
		h = 31*h + int32(r)
	}
	if h == -1<<31 {
		return 0
	}
	if h < 0 {
		h = -h
	}
	return h % n
}
