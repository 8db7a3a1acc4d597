package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func TestFindHangingArguments(t *testing.T) {
	cases := []struct {
		argv []string
		want string
	}{
		{[]string{"find-hanging"}, "The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search\n"},
		{[]string{"find-hanging", "--max-transaction-timeout", "3"}, "The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search\n"},
		{[]string{"find-hanging", "--broker-id", "1", "--partition", "0"}, "The --partition argument requires --topic to be provided\n"},
		{[]string{"find-hanging", "--topic", "t", "--max-transaction-timeout", "1.5"},
			"kafka-transactions.sh: error: argument --max-transaction-timeout: could not convert '1.5' to Integer (For input string: \"1.5\")\n"},
		{[]string{"find-hanging", "--topic", "t", "--start-offset", "1"}, "kafka-transactions.sh: error: unrecognized arguments: '--start-offset'\n"},
	}
	for _, c := range cases {
		argv, want := c.argv, c.want
		// 127.0.0.1:1 refuses connections: these must fail before any request.
		r := kfaketest.Run(t, run, "", append([]string{"--bootstrap-server", "127.0.0.1:1"}, argv...)...)
		if r.Code != 1 || r.Stderr != want || r.Stdout != "" {
			t.Errorf("%q: %+v, want stderr %q", argv, r, want)
		}
	}
}

func producer(pid int64, epoch int16, coordEpoch int32, start, lastTs int64) activeProducer {
	p := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
	p.ProducerID, p.ProducerEpoch, p.CoordinatorEpoch, p.CurrentTxnStartOffset, p.LastTimestamp = pid, int32(epoch), coordEpoch, start, lastTs
	p.LastSequence = 3
	return p
}

func TestFindHangingLogic(t *testing.T) {
	const nowMs = int64(10_000_000)
	t0, t1, u0 := topicPartition{"t", 0}, topicPartition{"t", 1}, topicPartition{"u", 0}
	states := []partitionProducers{
		{t0, []activeProducer{
			producer(7, 0, -1, 12, nowMs-16*60000),   // unknown producer id: hangs
			producer(8, 2, 4, 30, nowMs-20*60000),    // the coordinator is writing t-0's marker
			producer(9, 0, -1, -1, nowMs-60*60000),   // no open transaction
			producer(10, 1, 0, 40, nowMs-15*60000),   // exactly the timeout: not older
			producer(11, 5, 3, 50, nowMs-15*60000-1), // transactional id not found: hangs
		}},
		{t1, []activeProducer{producer(8, 2, 4, 5, nowMs-31*60000)}}, // t-1 not in 8's transaction: hangs
		{u0, []activeProducer{producer(7, 0, -1, 0, nowMs-16*60000)}},
	}
	cands := openCandidates(states, nowMs, 15*60000)
	var got []string
	for _, c := range cands {
		got = append(got, fmt.Sprintf("%s/%d", c.tp, c.p.ProducerID))
	}
	if want := "t-0/7 t-0/8 t-0/11 t-1/8 u-0/7"; strings.Join(got, " ") != want {
		t.Fatalf("candidates %v, want %s", got, want)
	}
	pids, groups := groupByProducer(cands)
	if fmt.Sprint(pids) != "[7 8 11]" || len(groups[7]) != 2 || len(groups[8]) != 2 {
		t.Fatalf("groups %v %v", pids, groups)
	}
	txnIDs := map[int64]string{8: "app-8", 11: "app-11"}
	descs := map[string]*txnDescription{
		"app-8":  {partitions: map[topicPartition]bool{t0: true, {"v", 0}: true}},
		"app-11": nil,
	}
	rows := hangingRows(filterHanging(pids, groups, txnIDs, descs), nowMs)
	var b strings.Builder
	printTable(&b, findHangingHeaders, rows)
	want := "" +
		"Topic\tPartition\tProducerId\tProducerEpoch\tCoordinatorEpoch\tStartOffset\tLastTimestamp\tDuration(min)\t\n" +
		"t    \t0        \t7         \t0            \t-1              \t12         \t9040000      \t16           \t\n" +
		"u    \t0        \t7         \t0            \t-1              \t0          \t9040000      \t16           \t\n" +
		"t    \t1        \t8         \t2            \t4               \t5          \t8140000      \t31           \t\n" +
		"t    \t0        \t11        \t5            \t3               \t50         \t9099999      \t15           \t\n"
	if b.String() != want {
		t.Fatalf("table\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFindHangingJavaOrder(t *testing.T) {
	// HashMap<Long, ...> of 16 buckets: 16 hashes to bucket 0, 1 and
	// 1<<32|1 (Long.hashCode 1<<32 ^ 1... = 1) to bucket 1, in insertion order.
	mk := func(pid int64) openTxn { return openTxn{topicPartition{"t", 0}, producer(pid, 0, -1, 0, 0)} }
	pids, _ := groupByProducer([]openTxn{mk(1 << 32), mk(1), mk(16)})
	if fmt.Sprint(pids) != fmt.Sprint([]int64{16, 1 << 32, 1}) {
		t.Fatalf("order %v", pids)
	}
	if javaLongHash(-1) != 0 || javaLongHash(1<<32) != 1 || javaLongHash(5) != 5 {
		t.Fatal("Long.hashCode")
	}
}

// TestFindHangingAgainstKfake runs find-hanging against franz-go's fake
// cluster with an ongoing transaction an hour old (the tool's clock is
// moved): the coordinator knows it, so nothing hangs; once ListTransactions
// answers without it, as when no coordinator knows the producer id, it is
// reported.
func TestFindHangingAgainstKfake(t *testing.T) {
	c, bs := kfaketest.Cluster(t, kfake.SeedTopics(2, "t"))
	cl := kfaketest.Client(t, bs, kgo.TransactionalID("tx-h"), kgo.DefaultProduceTopic("t"),
		kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("v"), Partition: 1}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	pid, epoch, err := cl.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func(old func() int64) { now = old }(now)
	real := now
	now = func() int64 { return real() + 60*60000 }

	r := kfaketest.Run(t, run, "", "--bootstrap-server", bs, "find-hanging", "--topic", "t")
	if r.Code != 0 || r.Stdout != "Topic\tPartition\tProducerId\tProducerEpoch\tCoordinatorEpoch\tStartOffset\tLastTimestamp\tDuration(min)\t\n" {
		t.Fatalf("find-hanging with the coordinator's transaction: %+v", r)
	}

	c.ControlKey(int16(kmsg.ListTransactions), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		resp := kreq.ResponseKind().(*kmsg.ListTransactionsResponse)
		resp.Version = kreq.GetVersion()
		return resp, nil, true
	})
	for _, argv := range [][]string{{"--topic", "t"}, {"--topic", "t", "--partition", "1"}, {"--topic", "t", "--max-transaction-timeout", "59"}} {
		r = kfaketest.Run(t, run, "", append([]string{"--bootstrap-server", bs, "find-hanging"}, argv...)...)
		lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
		if r.Code != 0 || len(lines) != 2 {
			t.Fatalf("%q: %+v", argv, r)
		}
		f := strings.Split(lines[1], "\t")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if f[0] != "t" || f[1] != "1" || f[2] != fmt.Sprint(pid) || f[3] != fmt.Sprint(epoch) || f[5] != "0" || f[7] != "60" {
			t.Fatalf("%q: row %q", argv, f)
		}
	}
	r = kfaketest.Run(t, run, "", "--bootstrap-server", bs, "find-hanging", "--topic", "t", "--max-transaction-timeout", "61")
	if r.Code != 0 || strings.Count(r.Stdout, "\n") != 1 {
		t.Fatalf("a 61-minute timeout leaves out the hour-old transaction: %+v", r)
	}
	r = kfaketest.Run(t, run, "", "--bootstrap-server", bs, "find-hanging", "--topic", "nope")
	if r.Code != 1 || r.Stderr != "Failed to describe 1 topics: This server does not host this topic-partition.. Enable debug logging for additional detail.\n" {
		t.Fatalf("unknown topic: %+v", r)
	}
}
