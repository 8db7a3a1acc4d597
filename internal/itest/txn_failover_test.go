package itest

// Transaction coordinator failover in the middle of a commit and of an
// abort, and the coordinator's abort of a timed-out transaction, with real
// broker processes.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
	"github.com/kbroker/kbroker/record"
)

// txnProduceTo writes one transactional batch to a partition of topic on
// addr (Produce v9, acks=all).
func txnProduceTo(t *testing.T, addr, topic string, partition int32, txnID string, pid int64, epoch int16, seq int32, values ...string) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	return produceBatch(t, addr, topic, partition, &txnID, pid, epoch, seq, true, time.Now().UnixMilli(), values...)
}

// produceBatch sends one Produce v9 (acks=all) of one batch with the given
// producer fields, every record stamped ts, and returns the partition's
// answer.
func produceBatch(t *testing.T, addr, topic string, partition int32, txnID *string, pid int64, epoch int16, seq int32, transactional bool, ts int64, values ...string) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	spec := record.NewSpec()
	spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence, spec.Transactional = pid, epoch, seq, transactional
	var recs []record.NewRecord
	for _, v := range values {
		recs = append(recs, record.NewRecord{Timestamp: ts, Value: []byte(v)})
	}
	b, err := record.Build(spec, recs)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis, req.TransactionID = 9, -1, 30000, txnID
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
}

// partitionOffsets asks addr for the latest offset of a partition at
// read_uncommitted (the high watermark) and read_committed (the LSO).
func partitionOffsets(addr, topic string, partition int32) (hw, lso int64, err error) {
	get := func(isolation int8) (int64, error) {
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version, req.ReplicaID, req.IsolationLevel = 7, -1, isolation
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = partition, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := oneRequest(addr, req)
		if err != nil {
			return -1, err
		}
		p := resp.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
		if p.ErrorCode != 0 {
			return -1, kerr.ErrorForCode(p.ErrorCode)
		}
		return p.Offset, nil
	}
	if hw, err = get(0); err != nil {
		return
	}
	lso, err = get(1)
	return
}

// waitStableEnd waits until the leader of topic/partition (as seen by
// addr) reports LSO == high watermark >= min, and returns the end.
func waitStableEnd(t *testing.T, c *testcluster.Cluster, addr, topic string, partition int32, min int64) int64 {
	t.Helper()
	var end int64
	eventually(t, waitLong, fmt.Sprintf("LSO of %s/%d at its end", topic, partition), func() error {
		leader, err := leaderOf(addr, topic, partition)
		if err != nil {
			return err
		}
		b := c.BrokerByID(leader)
		if b == nil || !b.Running() {
			return fmt.Errorf("leader %d not running", leader)
		}
		hw, lso, err := partitionOffsets(b.Addr(), topic, partition)
		if err != nil {
			return err
		}
		if lso != hw || hw < min {
			return fmt.Errorf("leader %d: LSO %d, high watermark %d (want equal, >= %d)", leader, lso, hw, min)
		}
		end = hw
		return nil
	})
	return end
}

// describeTxnErr is DescribeTransactions for one id, errors returned.
func describeTxnErr(addr, id string) (kmsg.DescribeTransactionsResponseTransactionState, error) {
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	resp, err := oneRequest(addr, req)
	if err != nil {
		return kmsg.DescribeTransactionsResponseTransactionState{}, err
	}
	d := resp.(*kmsg.DescribeTransactionsResponse).TransactionStates[0]
	if d.ErrorCode != 0 {
		return d, kerr.ErrorForCode(d.ErrorCode)
	}
	return d, nil
}

// readCommittedValues reads every partition of topic from the start with a
// read_committed franz-go consumer until each value of until was seen, and
// returns the values read (in partition, offset order per partition).
func readCommittedValues(t *testing.T, seeds []string, topic string, until ...string) []string {
	t.Helper()
	cl := newClient(t, seeds, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	var got []string
	for {
		missing := false
		for _, u := range until {
			if !slices.Contains(got, u) {
				missing = true
			}
		}
		if !missing {
			return got
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read_committed consumer saw %q, not all of %q", got, until)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("fetch %s/%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
}

func runningAddrs(c *testcluster.Cluster) []string {
	var out []string
	for _, b := range c.Brokers() {
		if b.Running() {
			out = append(out, b.Addr())
		}
	}
	return out
}

func TestTxnFailoverDuringCommit(t *testing.T) { txnFailoverDuringEnd(t, true) }

func TestTxnFailoverDuringAbort(t *testing.T) { txnFailoverDuringEnd(t, false) }

// txnFailoverDuringEnd: 3 brokers; __transaction_state has one partition
// on two of them (the coordinator C and O), the third (X) leads data
// partition 0 and follows partition 1, which C leads. X is frozen
// (SIGSTOP) before EndTxn, so no marker can complete: EndTxn answers once
// PrepareCommit/PrepareAbort is written and the state stays prepared. C is
// then killed with -9 and X resumed; O loads the prepared state, sends the
// markers to the (new) leaders and writes the complete state. A
// read_committed consumer sees the committed records exactly once (or no
// aborted one), and the LSO of both partitions reaches their end.
func txnFailoverDuringEnd(t *testing.T, commit bool) {
	c := newCluster(t, 3, map[string]string{
		"transaction.state.log.num.partitions":     "1",
		"transaction.state.log.replication.factor": "2",
		"transaction.state.log.min.isr":            "1",
	})
	word := map[bool]string{true: "commit", false: "abort"}[commit]
	id := "txn-fo-" + word
	topic := "txn-fo-data-" + word
	seed := c.Broker(0).Addr()
	_, _ = txnCoordinatorOf(seed, id)
	coord := waitTxnCoordinator(t, c, seed, id, -1)
	waitTopicEverywhere(t, c, "__transaction_state", 1)

	// O: the other replica of __transaction_state-0; X: the broker outside it.
	var other, x *testcluster.Broker
	eventually(t, waitLong, "__transaction_state-0 on two replicas led by the coordinator", func() error {
		mt, err := topicMetadataFrom(seed, "__transaction_state")
		if err != nil {
			return err
		}
		p := mt.Partitions[0]
		if p.Leader != coord.ID() || len(p.Replicas) != 2 || len(p.ISR) != 2 {
			return fmt.Errorf("leader %d replicas %v isr %v, coordinator %d", p.Leader, p.Replicas, p.ISR, coord.ID())
		}
		other, x = nil, nil
		for _, b := range c.Brokers() {
			switch {
			case b == coord:
			case slices.Contains(p.Replicas, b.ID()):
				other = b
			default:
				x = b
			}
		}
		if other == nil || x == nil {
			return fmt.Errorf("replicas %v", p.Replicas)
		}
		return nil
	})
	t.Logf("coordinator %d, other __transaction_state replica %d, frozen broker %d", coord.ID(), other.ID(), x.ID())

	// Data topic, RF=3: partition 0 led by X, partition 1 led by C.
	assignment := map[int32][]int32{0: {x.ID(), coord.ID(), other.ID()}, 1: {coord.ID(), x.ID(), other.ID()}}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	for p := int32(0); p < 2; p++ {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = p, assignment[p]
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, waitLong), newClient(t, c.BootstrapAddrs()))
	if err != nil {
		t.Fatal(err)
	}
	if tr := resp.Topics[0]; tr.ErrorCode != 0 {
		t.Fatalf("create %s: %v", topic, kerr.ErrorForCode(tr.ErrorCode))
	}
	waitTopicEverywhere(t, c, topic, 2)
	eventually(t, waitLong, "preferred leaders with full ISR", func() error {
		mt, err := topicMetadataFrom(seed, topic)
		if err != nil {
			return err
		}
		for _, p := range mt.Partitions {
			if p.Leader != assignment[p.Partition][0] || len(p.ISR) != 3 {
				return fmt.Errorf("partition %d: leader %d isr %v", p.Partition, p.Leader, p.ISR)
			}
		}
		return nil
	})

	p, code := txnInit(t, coord.Addr(), id, 4)
	if code != 0 {
		t.Fatalf("init: %v", kerr.ErrorForCode(code))
	}
	if got := addPartitionsToTxn(t, coord.Addr(), p, 3, topic, 0, 1)[topic]; got[0] != 0 || got[1] != 0 {
		t.Fatalf("add partitions: %v", got)
	}
	want := map[int32][]string{0: {word + "-0", word + "-1", word + "-2"}, 1: {word + "-3", word + "-4"}}
	leaders := map[int32]*testcluster.Broker{0: x, 1: coord}
	for part := int32(0); part < 2; part++ {
		r := txnProduceTo(t, leaders[part].Addr(), topic, part, id, p.pid, p.epoch, 0, want[part]...)
		if r.ErrorCode != 0 || r.BaseOffset != 0 {
			t.Fatalf("produce to partition %d: offset %d %v", part, r.BaseOffset, kerr.ErrorForCode(r.ErrorCode))
		}
		hw, lso, err := partitionOffsets(leaders[part].Addr(), topic, part)
		if err != nil {
			t.Fatal(err)
		}
		if hw != int64(len(want[part])) || lso != 0 {
			t.Fatalf("partition %d with the transaction open: high watermark %d LSO %d, want %d and 0", part, hw, lso, len(want[part]))
		}
	}

	// Freeze X: the markers cannot be written (X leads partition 0 and is
	// in the ISR of partition 1), but the prepared state can (X holds no
	// replica of __transaction_state).
	x.Pause()
	paused := true
	resume := func() {
		if paused {
			paused = false
			x.Resume()
		}
	}
	t.Cleanup(resume)
	if code := endTxn(t, coord.Addr(), p, 3, commit); code != 0 {
		t.Fatalf("EndTxn(%s): %v", word, kerr.ErrorForCode(code))
	}
	prepared := map[bool]string{true: "PrepareCommit", false: "PrepareAbort"}[commit]
	completed := map[bool]string{true: "CompleteCommit", false: "CompleteAbort"}[commit]
	d := describeTxn(t, coord.Addr(), id)
	if d.ErrorCode != 0 || d.State != prepared || d.ProducerID != p.pid || d.ProducerEpoch != p.epoch {
		t.Fatalf("after EndTxn with the leader frozen: %+v %v, want %s", d, kerr.ErrorForCode(d.ErrorCode), prepared)
	}
	coord.Kill9()
	resume()
	killed := time.Now()

	next := waitTxnCoordinator(t, c, other.Addr(), id, coord.ID())
	if next != other {
		t.Fatalf("new coordinator %d, want %d (the other replica of __transaction_state)", next.ID(), other.ID())
	}
	var seen []string
	eventually(t, waitLong, "the new coordinator completing the transaction", func() error {
		d, err := describeTxnErr(next.Addr(), id)
		if err != nil {
			return err
		}
		if len(seen) == 0 || seen[len(seen)-1] != d.State {
			seen = append(seen, d.State)
		}
		if d.ProducerID != p.pid || d.ProducerEpoch != p.epoch {
			return fmt.Errorf("producer %d epoch %d, want %d/%d", d.ProducerID, d.ProducerEpoch, p.pid, p.epoch)
		}
		if d.State != completed {
			return fmt.Errorf("state %s", d.State)
		}
		return nil
	})
	t.Logf("states seen on the new coordinator: %v (%s after the kill)", seen, time.Since(killed).Round(time.Millisecond))
	if seen[0] != prepared && seen[0] != completed {
		t.Fatalf("the new coordinator first showed %s (states %v)", seen[0], seen)
	}

	live := runningAddrs(c)
	for part := int32(0); part < 2; part++ {
		end := waitStableEnd(t, c, next.Addr(), topic, part, int64(len(want[part]))+1)
		t.Logf("partition %d: LSO = high watermark = %d (%s after the kill)", part, end, time.Since(killed).Round(time.Millisecond))
	}

	// One plain record per partition after the transaction marks the end
	// for the consumer.
	prod := newClient(t, live, kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for part := int32(0); part < 2; part++ {
		v := fmt.Sprintf("after-%d", part)
		if err := prod.ProduceSync(testCtx(t, waitLong), &kgo.Record{Topic: topic, Partition: part, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("plain produce to %d: %v", part, err)
		}
	}
	prod.Close()
	got := readCommittedValues(t, live, topic, "after-0", "after-1")
	var expect []string
	if commit {
		expect = append(append(expect, want[0]...), want[1]...)
	}
	expect = append(expect, "after-0", "after-1")
	sort.Strings(got)
	sort.Strings(expect)
	if !slices.Equal(got, expect) {
		t.Fatalf("read_committed consumer saw %q, want %q", got, expect)
	}
	for part := int32(0); part < 2; part++ {
		waitStableEnd(t, c, next.Addr(), topic, part, int64(len(want[part]))+2)
	}
}

// TestTxnTimeoutAbort: a transaction left open past its
// transaction.timeout.ms is aborted by the coordinator (checked every
// transaction.abort.timed.out.transaction.cleanup.interval.ms): the epoch
// is bumped (CompleteAbort with epoch+1), the ABORT marker moves the LSO
// to the end, read_committed never sees the records, and the old producer
// is fenced: EndTxn answers PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before
// v2), Produce INVALID_PRODUCER_EPOCH.
func TestTxnTimeoutAbort(t *testing.T) {
	c := newCluster(t, 3, map[string]string{
		"transaction.state.log.num.partitions":                        "1",
		"transaction.abort.timed.out.transaction.cleanup.interval.ms": "200",
	})
	adm := newAdmin(t, c)
	const topic, id = "txn-timeout", "txn-timeout-producer"
	const timeoutMs = 2000
	createTopic(t, c, adm, topic, 1, 3, nil)
	seed := c.Broker(0).Addr()
	_, _ = txnCoordinatorOf(seed, id)
	coord := waitTxnCoordinator(t, c, seed, id, -1)
	var p *txnProducer
	eventually(t, waitLong, "InitProducerId", func() error {
		r := initProducerID(t, coord.Addr(), func(r *kmsg.InitProducerIDRequest) {
			r.TransactionalID, r.TransactionTimeoutMillis = kmsg.StringPtr(id), timeoutMs
		})
		if r.ErrorCode != 0 {
			return kerr.ErrorForCode(r.ErrorCode)
		}
		p = &txnProducer{id: id, pid: r.ProducerID, epoch: r.ProducerEpoch}
		return nil
	})
	leaderID, err := leaderOf(seed, topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	leader := c.BrokerByID(leaderID)

	added := time.Now()
	if got := addPartitionsToTxn(t, coord.Addr(), p, 3, topic, 0)[topic][0]; got != 0 {
		t.Fatalf("add: %v", kerr.ErrorForCode(got))
	}
	if r := txnProduceTo(t, leader.Addr(), topic, 0, id, p.pid, p.epoch, 0, "timed-out-0", "timed-out-1"); r.ErrorCode != 0 || r.BaseOffset != 0 {
		t.Fatalf("produce: offset %d %v", r.BaseOffset, kerr.ErrorForCode(r.ErrorCode))
	}
	if hw, lso, err := partitionOffsets(leader.Addr(), topic, 0); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("with the transaction open (%v after AddPartitionsToTxn): high watermark %d, LSO %d", time.Since(added).Round(time.Millisecond), hw, lso)
	}

	var seen []string
	var abortedAfter time.Duration
	eventually(t, waitLong, "the coordinator aborting the timed-out transaction", func() error {
		d, err := describeTxnErr(coord.Addr(), id)
		if err != nil {
			return err
		}
		if len(seen) == 0 || seen[len(seen)-1] != d.State {
			seen = append(seen, d.State)
		}
		if d.State != "CompleteAbort" {
			return fmt.Errorf("state %s epoch %d", d.State, d.ProducerEpoch)
		}
		abortedAfter = time.Since(added)
		if d.ProducerID != p.pid || d.ProducerEpoch != p.epoch+1 {
			t.Fatalf("aborted: producer %d epoch %d, want %d epoch %d", d.ProducerID, d.ProducerEpoch, p.pid, p.epoch+1)
		}
		if d.TimeoutMillis != timeoutMs {
			t.Fatalf("timeout %d, want %d", d.TimeoutMillis, timeoutMs)
		}
		return nil
	})
	t.Logf("states seen: %v; CompleteAbort seen %v after AddPartitionsToTxn", seen, abortedAfter.Round(time.Millisecond))
	if abortedAfter < timeoutMs*time.Millisecond {
		t.Fatalf("aborted %v after the transaction started, before its %d ms timeout", abortedAfter, timeoutMs)
	}
	if seen[0] != "Ongoing" {
		t.Fatalf("first state %s, want Ongoing (states %v)", seen[0], seen)
	}

	// The ABORT marker (offset 2) ends the transaction on the leader.
	if end := waitStableEnd(t, c, seed, topic, 0, 3); end != 3 {
		t.Fatalf("end offset %d, want 3 (two records and the ABORT marker)", end)
	}

	// The old producer is fenced.
	if got := endTxn(t, coord.Addr(), p, 3, true); got != kerr.ProducerFenced.Code {
		t.Fatalf("EndTxn v3 by the timed-out producer: %v, want PRODUCER_FENCED", kerr.ErrorForCode(got))
	}
	if got := endTxn(t, coord.Addr(), p, 1, true); got != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("EndTxn v1 by the timed-out producer: %v, want INVALID_PRODUCER_EPOCH", kerr.ErrorForCode(got))
	}
	if r := txnProduceTo(t, leader.Addr(), topic, 0, id, p.pid, p.epoch, 2, "zombie"); r.ErrorCode != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("produce by the timed-out producer: offset %d %v, want INVALID_PRODUCER_EPOCH", r.BaseOffset, kerr.ErrorForCode(r.ErrorCode))
	}
	if d := describeTxn(t, coord.Addr(), id); d.State != "CompleteAbort" || d.ProducerEpoch != p.epoch+1 {
		t.Fatalf("after the fenced requests: %+v", d)
	}

	prod := newClient(t, c.BootstrapAddrs(), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err := prod.ProduceSync(testCtx(t, waitLong), &kgo.Record{Topic: topic, Value: []byte("after")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if got := readCommittedValues(t, c.BootstrapAddrs(), topic, "after"); !slices.Equal(got, []string{"after"}) {
		t.Fatalf("read_committed consumer saw %q, want only \"after\"", got)
	}
	if got := consumeValues(t, c.BootstrapAddrs(), topic, "after", kgo.ReadUncommitted()); !slices.Equal(got, []string{"timed-out-0", "timed-out-1", "after"}) {
		t.Fatalf("read_uncommitted consumer saw %q", got)
	}
	if hw, lso, err := partitionOffsets(leader.Addr(), topic, 0); err != nil || hw != 4 || lso != 4 {
		t.Fatalf("end: high watermark %d LSO %d (%v), want 4 and 4", hw, lso, err)
	}
}
