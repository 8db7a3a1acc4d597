package itest

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// produceN writes n records (values v-<tag>-<i>) spread over a topic's
// partitions and returns them by value.
func produceN(t *testing.T, seeds []string, topic, tag string, n int, opts ...kgo.Opt) map[string]bool {
	t.Helper()
	cl := newClient(t, seeds, append([]kgo.Opt{kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner())}, opts...)...)
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
	started := time.Now()
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

	// What the coordinator wrote, read back from its segment files.
	endsNow, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	endsNow.Each(func(o kadm.ListedOffset) { want[o.Partition] = o.Offset })
	checkStoredGroupRecords(t, c.BrokerByID(coord).LogDir(), "billing", topic, want, started)
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

// coordinatorOf asks a broker for a group's coordinator.
func coordinatorOf(addr, groupID string) (int32, error) {
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.Version = 4
	req.CoordinatorKeys = []string{groupID}
	resp, err := oneRequest(addr, req)
	if err != nil {
		return -1, err
	}
	c := resp.(*kmsg.FindCoordinatorResponse).Coordinators[0]
	if c.ErrorCode != 0 {
		return -1, fmt.Errorf("FindCoordinator: error %d", c.ErrorCode)
	}
	return c.NodeID, nil
}

// TestGroupsCoordinatorFailover: committed offsets survive a kill -9 of
// the coordinator; the group resumes from them on the new coordinator, and
// again after the killed broker is back.
func TestGroupsCoordinatorFailover(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	seeds := c.BootstrapAddrs()
	const topic, groupID = "grp-failover", "resilient"
	createTopic(t, c, adm, topic, 4, 3, nil)
	consumeInGroup(t, seeds, groupID, topic, produceN(t, seeds, topic, "a", 200))

	coord, err := coordinatorOf(seeds[0], groupID)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t, waitLong)
	before, err := adm.FetchOffsets(ctx, groupID)
	if err != nil || len(before.Offsets()[topic]) != 4 {
		t.Fatalf("offsets before: %v (%v)", before, err)
	}
	victim := c.BrokerByID(coord)
	victim.Kill9()
	var alive []string
	for _, b := range c.Brokers() {
		if b != victim {
			alive = append(alive, b.Addr())
		}
	}
	eventually(t, waitLong, "a new coordinator", func() error {
		id, err := coordinatorOf(alive[0], groupID)
		if err == nil && id == coord {
			return fmt.Errorf("still %d", id)
		}
		return err
	})
	adm2 := kadm.NewClient(newClient(t, alive))
	eventually(t, waitLong, "offsets from the new coordinator", func() error {
		// A bounded attempt, so that a failure reports the client's
		// last error rather than an exhausted context.
		actx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		after, err := adm2.FetchOffsets(actx, groupID)
		if err != nil {
			return err
		}
		if err := after.Error(); err != nil {
			return err
		}
		for _, o := range before.Offsets() {
			for _, p := range o {
				got, ok := after.Lookup(p.Topic, p.Partition)
				if !ok || got.At != p.At {
					return fmt.Errorf("%s-%d: %d, was %d", p.Topic, p.Partition, got.At, p.At)
				}
			}
		}
		return nil
	})
	// The group resumes after the commit: only new records.
	consumeInGroup(t, alive, groupID, topic, produceN(t, alive, topic, "b", 40))

	victim.Restart()
	waitBrokersEverywhere(t, c)
	consumeInGroup(t, seeds, groupID, topic, produceN(t, seeds, topic, "c", 40))
}

// TestGroupsStaticMemberRestart: a static member (group.instance.id) that
// restarts within its session timeout takes its place back without a
// rebalance: the generation stays, the other member keeps its partitions.
func TestGroupsStaticMemberRestart(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	seeds := c.BootstrapAddrs()
	const topic, groupID = "grp-static", "static"
	createTopic(t, c, adm, topic, 4, 2, nil)
	member := func(instance string) *kgo.Client {
		return newClient(t, seeds, kgo.ConsumerGroup(groupID), kgo.ConsumeTopics(topic), kgo.InstanceID(instance),
			kgo.SessionTimeout(20*time.Second), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}
	generation := func(cl *kgo.Client) int32 {
		_, gen := cl.GroupMetadata()
		return gen
	}
	a, b := member("static-a"), member("static-b")
	ctx := testCtx(t, waitLong)
	var gen int32
	eventually(t, waitLong, "both members in one generation", func() error {
		// Polling drives the group; fetches are empty here.
		pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		a.PollFetches(pctx)
		b.PollFetches(pctx)
		cancel()
		d, err := adm.DescribeGroups(ctx, groupID)
		if err != nil {
			return err
		}
		ga, gb := generation(a), generation(b)
		if d[groupID].State != "Stable" || len(d[groupID].Members) != 2 || ga != gb || ga <= 0 {
			return fmt.Errorf("state %s, %d members, generations %d/%d", d[groupID].State, len(d[groupID].Members), ga, gb)
		}
		gen = ga
		return nil
	})
	a.Close() // a static member does not leave the group on close
	a = member("static-a")
	eventually(t, waitLong, "the restarted member back", func() error {
		pctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		a.PollFetches(pctx)
		cancel()
		if g := generation(a); g != gen {
			return fmt.Errorf("restarted member at generation %d, want %d", g, gen)
		}
		return nil
	})
	if g := generation(b); g != gen {
		t.Fatalf("the other member moved to generation %d (was %d): a rebalance happened", g, gen)
	}
	d, err := adm.DescribeGroups(ctx, groupID)
	if err != nil || d[groupID].State != "Stable" || len(d[groupID].Members) != 2 {
		t.Fatalf("after restart: %+v (%v)", d[groupID], err)
	}
}

// checkReadExactly checks a client's output, one record value per line:
// every value of want exactly once, nothing else.
func checkReadExactly(t *testing.T, who, out string, want map[string]bool) {
	t.Helper()
	got := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		if !want[line] || got[line] {
			t.Errorf("%s read %q (expected: %v, repeated: %v)", who, line, want[line], got[line])
		}
		got[line] = true
	}
	if len(got) != len(want) {
		t.Fatalf("%s read %d records, want %d", who, len(got), len(want))
	}
}

// TestGroupsKcat: librdkafka's balanced consumer (kcat -G) reads a topic
// as a group member and commits; a second run of the same group reads only
// what came after.
func TestGroupsKcat(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	seeds := c.BootstrapAddrs()
	const topic, groupID = "grp-kcat", "kcat-group"
	createTopic(t, c, adm, topic, 3, 2, nil)
	run := func(want map[string]bool) {
		t.Helper()
		// No -o: in -G mode it would override the committed offsets.
		out, _ := kcat(t, "", "-b", c.Bootstrap(), "-G", groupID, "-X", "auto.offset.reset=earliest", "-e", "-q",
			"-X", "enable.auto.commit=true", "-X", "auto.commit.interval.ms=100", "-f", "%s\n", topic)
		checkReadExactly(t, "kcat -G", out, want)
	}
	run(produceN(t, seeds, topic, "a", 90))
	ctx := testCtx(t, waitLong)
	committed, err := adm.FetchOffsets(ctx, groupID)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	committed.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != 90 {
		t.Fatalf("kcat committed %d records' worth of offsets, want 90", sum)
	}
	run(produceN(t, seeds, topic, "b", 30))
}

// kafkaPythonConsumer is a kafka-python group member: it reads n records,
// commits, and prints the values one per line.
const kafkaPythonConsumer = `
import sys
from kafka import KafkaConsumer
bootstrap, topic, group, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = KafkaConsumer(topic, bootstrap_servers=bootstrap.split(","), group_id=group, auto_offset_reset="earliest",
                  enable_auto_commit=False, consumer_timeout_ms=60000)
got = []
for m in c:
    got.append(m.value.decode())
    if len(got) == n:
        break
c.commit()
c.close()
print("\n".join(got))
`

// TestGroupsKafkaPython: kafka-python's KafkaConsumer(group_id=...) (the
// Debian package python3-kafka) reads as a group member and commits; a
// second run reads only what came after.
func TestGroupsKafkaPython(t *testing.T) {
	const python = "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import kafka").Run(); err != nil {
		t.Fatalf("kafka-python is not installed (Debian package python3-kafka; scripts/test.sh installs it): %v", err)
	}
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	seeds := c.BootstrapAddrs()
	const topic, groupID = "grp-python", "python-group"
	createTopic(t, c, adm, topic, 3, 2, nil)
	run := func(want map[string]bool) {
		t.Helper()
		ctx := testCtx(t, waitLong)
		cmd := exec.CommandContext(ctx, python, "-c", kafkaPythonConsumer, c.Bootstrap(), topic, groupID, fmt.Sprint(len(want)))
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("kafka-python: %v\n%s\n%s", err, out, stderr)
		}
		checkReadExactly(t, "kafka-python", string(out), want)
	}
	// Uncompressed: the Debian kafka-python has no snappy library.
	plain := kgo.ProducerBatchCompression(kgo.NoCompression())
	run(produceN(t, seeds, topic, "a", 60, plain))
	run(produceN(t, seeds, topic, "b", 15, plain))
}
