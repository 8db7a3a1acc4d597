package itest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// txnCoordinatorOf asks addr for the transaction coordinator of id (key
// type 1) and returns its node id.
func txnCoordinatorOf(addr, id string) (int32, error) {
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.Version = 4
	req.CoordinatorType = 1
	req.CoordinatorKeys = []string{id}
	resp, err := oneRequest(addr, req)
	if err != nil {
		return -1, err
	}
	c := resp.(*kmsg.FindCoordinatorResponse).Coordinators[0]
	if c.ErrorCode != 0 {
		return -1, kerr.ErrorForCode(c.ErrorCode)
	}
	return c.NodeID, nil
}

// waitTxnCoordinator waits until addr names a coordinator for id that
// answers InitProducerId, and returns it.
func waitTxnCoordinator(t *testing.T, c *testcluster.Cluster, addr, id string, not int32) *testcluster.Broker {
	t.Helper()
	var b *testcluster.Broker
	eventually(t, waitLong, "a transaction coordinator for "+id, func() error {
		n, err := txnCoordinatorOf(addr, id)
		if err != nil {
			return err
		}
		if n == not {
			return fmt.Errorf("still %d", n)
		}
		b = c.BrokerByID(n)
		if b == nil {
			return fmt.Errorf("unknown broker %d", n)
		}
		return nil
	})
	return b
}

type txnProducer struct {
	id    string
	pid   int64
	epoch int16
}

func txnInit(t *testing.T, addr, id string, version int16) (*txnProducer, int16) {
	t.Helper()
	var out *txnProducer
	var code int16
	eventually(t, waitLong, "InitProducerId for "+id, func() error {
		r := initProducerID(t, addr, func(r *kmsg.InitProducerIDRequest) { r.TransactionalID, r.Version = &id, version })
		code = r.ErrorCode
		switch code {
		case kerr.CoordinatorLoadInProgress.Code, kerr.NotEnoughReplicas.Code, kerr.CoordinatorNotAvailable.Code,
			// FindCoordinator's broker may know of the leadership before
			// the leader itself has applied it.
			kerr.NotCoordinator.Code:
			return kerr.ErrorForCode(code)
		}
		out = &txnProducer{id: id, pid: r.ProducerID, epoch: r.ProducerEpoch}
		return nil
	})
	return out, code
}

func addPartitionsToTxn(t *testing.T, addr string, p *txnProducer, version int16, topic string, parts ...int32) map[string]map[int32]int16 {
	t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = version
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = p.id, p.pid, p.epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, parts
	req.Topics = append(req.Topics, rt)
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[int32]int16{}
	for _, rt := range resp.(*kmsg.AddPartitionsToTxnResponse).Topics {
		out[rt.Topic] = map[int32]int16{}
		for _, rp := range rt.Partitions {
			out[rt.Topic][rp.Partition] = rp.ErrorCode
		}
	}
	return out
}

func endTxn(t *testing.T, addr string, p *txnProducer, version int16, commit bool) int16 {
	t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.Version = version
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = p.id, p.pid, p.epoch, commit
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.(*kmsg.EndTxnResponse).ErrorCode
}

func describeTxn(t *testing.T, addr, id string) kmsg.DescribeTransactionsResponseTransactionState {
	t.Helper()
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.(*kmsg.DescribeTransactionsResponse).TransactionStates[0]
}

// TestTxnCoordinatorFindInitFence: FindCoordinator with key type 1 creates
// __transaction_state with Kafka's settings and answers the leader of the
// id's partition; InitProducerId bumps the epoch on each init and fences
// the previous producer (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH for old
// versions); AddPartitionsToTxn starts a transaction that
// DescribeTransactions and ListTransactions show; a re-init during it
// aborts it with a bumped epoch and answers CONCURRENT_TRANSACTIONS.
func TestTxnCoordinatorFindInitFence(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"transaction.state.log.num.partitions": "5"})
	adm := newAdmin(t, c)
	createTopic(t, c, adm, "txn-data", 2, 3, nil)
	seed := c.Broker(0).Addr()
	const id = "txn-fence"
	if _, err := txnCoordinatorOf(seed, id); !errorIs(err, kerr.CoordinatorNotAvailable) {
		t.Fatalf("first FindCoordinator: %v, want COORDINATOR_NOT_AVAILABLE", err)
	}
	coord := waitTxnCoordinator(t, c, seed, id, -1)
	waitTopicEverywhere(t, c, "__transaction_state", 5)
	rcs, err := adm.DescribeTopicConfigs(testCtx(t, waitLong), "__transaction_state")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"cleanup.policy": "compact", "min.insync.replicas": "2", "compression.type": "uncompressed",
		"segment.bytes": "104857600", "unclean.leader.election.enable": "false"}
	for _, cfg := range rcs[0].Configs {
		if w, ok := want[cfg.Key]; ok {
			if cfg.MaybeValue() != w {
				t.Errorf("__transaction_state %s = %q, want %q", cfg.Key, cfg.MaybeValue(), w)
			}
			delete(want, cfg.Key)
		}
	}
	if len(want) > 0 {
		t.Fatalf("configs missing: %v", want)
	}

	addr := coord.Addr()
	p0, code := txnInit(t, addr, id, 4)
	if code != 0 || p0.epoch != 0 || p0.pid < 0 {
		t.Fatalf("first init: %+v %v", p0, kerr.ErrorForCode(code))
	}
	p1, code := txnInit(t, addr, id, 4)
	if code != 0 || p1.pid != p0.pid || p1.epoch != 1 {
		t.Fatalf("re-init: %+v %v", p1, kerr.ErrorForCode(code))
	}
	// Another broker is not the coordinator.
	for _, b := range c.Brokers() {
		if b != coord {
			r := initProducerID(t, b.Addr(), func(r *kmsg.InitProducerIDRequest) { r.TransactionalID = kmsg.StringPtr(id) })
			if r.ErrorCode != kerr.NotCoordinator.Code {
				t.Fatalf("broker %d: %v, want NOT_COORDINATOR", b.ID(), kerr.ErrorForCode(r.ErrorCode))
			}
			break
		}
	}
	if got := addPartitionsToTxn(t, addr, p0, 3, "txn-data", 0)["txn-data"][0]; got != kerr.ProducerFenced.Code {
		t.Fatalf("fenced add v3: %v", kerr.ErrorForCode(got))
	}
	if got := addPartitionsToTxn(t, addr, p0, 1, "txn-data", 0)["txn-data"][0]; got != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("fenced add v1: %v", kerr.ErrorForCode(got))
	}
	if got := endTxn(t, addr, p0, 3, true); got != kerr.ProducerFenced.Code {
		t.Fatalf("fenced end: %v", kerr.ErrorForCode(got))
	}
	if got := endTxn(t, addr, p1, 3, true); got != kerr.InvalidTxnState.Code {
		t.Fatalf("end without a transaction: %v", kerr.ErrorForCode(got))
	}
	res := addPartitionsToTxn(t, addr, p1, 3, "no-such-topic", 0)
	if res["no-such-topic"][0] != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: %v", res)
	}
	if got := addPartitionsToTxn(t, addr, p1, 3, "txn-data", 0, 1)["txn-data"]; got[0] != 0 || got[1] != 0 {
		t.Fatalf("add: %v", got)
	}
	d := describeTxn(t, addr, id)
	if d.ErrorCode != 0 || d.State != "Ongoing" || d.ProducerID != p1.pid || d.ProducerEpoch != 1 || len(d.Topics) != 1 || len(d.Topics[0].Partitions) != 2 {
		t.Fatalf("describe: %+v", d)
	}
	lreq := kmsg.NewPtrListTransactionsRequest()
	lreq.Version = 1
	lreq.StateFilters = []string{"Ongoing", "Bogus"}
	lresp, err := oneRequest(addr, lreq)
	if err != nil {
		t.Fatal(err)
	}
	lr := lresp.(*kmsg.ListTransactionsResponse)
	if lr.ErrorCode != 0 || len(lr.TransactionStates) != 1 || lr.TransactionStates[0].TransactionalID != id || len(lr.UnknownStateFilters) != 1 {
		t.Fatalf("list: %+v", lr)
	}
	// A new producer with the same id: the ongoing transaction is aborted
	// with a bumped epoch, the client retries.
	r := initProducerID(t, addr, func(r *kmsg.InitProducerIDRequest) { r.TransactionalID = kmsg.StringPtr(id) })
	if r.ErrorCode != kerr.ConcurrentTransactions.Code {
		t.Fatalf("init during a transaction: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	d = describeTxn(t, addr, id)
	if d.ProducerEpoch != 2 || (d.State != "PrepareAbort" && d.State != "CompleteAbort") {
		t.Fatalf("after the fence: %+v", d)
	}
	if got := endTxn(t, addr, p1, 3, true); got != kerr.ProducerFenced.Code {
		t.Fatalf("zombie commit: %v", kerr.ErrorForCode(got))
	}
}

// TestTxnCoordinatorFailover: the coordinator is killed with -9 during a
// transaction; the new leader of the id's partition loads the state.
func TestTxnCoordinatorFailover(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"transaction.state.log.num.partitions": "3"})
	adm := newAdmin(t, c)
	createTopic(t, c, adm, "txn-fo", 1, 3, nil)
	seed := c.Broker(0).Addr()
	const id = "txn-failover"
	_, _ = txnCoordinatorOf(seed, id)
	coord := waitTxnCoordinator(t, c, seed, id, -1)
	p, code := txnInit(t, coord.Addr(), id, 4)
	if code != 0 {
		t.Fatalf("init: %v", kerr.ErrorForCode(code))
	}
	p, code = txnInit(t, coord.Addr(), id, 4)
	if code != 0 || p.epoch != 1 {
		t.Fatalf("re-init: %+v %v", p, kerr.ErrorForCode(code))
	}
	if got := addPartitionsToTxn(t, coord.Addr(), p, 3, "txn-fo", 0)["txn-fo"][0]; got != 0 {
		t.Fatalf("add: %v", kerr.ErrorForCode(got))
	}
	coord.Kill9()
	var alive *testcluster.Broker
	for _, b := range c.Brokers() {
		if b != coord {
			alive = b
			break
		}
	}
	next := waitTxnCoordinator(t, c, alive.Addr(), id, coord.ID())
	eventually(t, waitLong, "the state on the new coordinator", func() error {
		d := describeTxn(t, next.Addr(), id)
		if d.ErrorCode != 0 {
			return kerr.ErrorForCode(d.ErrorCode)
		}
		if d.State != "Ongoing" || d.ProducerID != p.pid || d.ProducerEpoch != 1 || len(d.Topics) != 1 || d.Topics[0].Topic != "txn-fo" {
			return fmt.Errorf("state %+v", d)
		}
		return nil
	})
	// The producer carries on with the new coordinator; the old epoch is
	// still fenced.
	if got := addPartitionsToTxn(t, next.Addr(), p, 3, "txn-fo", 0)["txn-fo"][0]; got != 0 {
		t.Fatalf("add on the new coordinator: %v", kerr.ErrorForCode(got))
	}
	old := &txnProducer{id: id, pid: p.pid, epoch: 0}
	if got := endTxn(t, next.Addr(), old, 3, false); got != kerr.ProducerFenced.Code {
		t.Fatalf("fenced end on the new coordinator: %v", kerr.ErrorForCode(got))
	}
}

func errorIs(err, target error) bool {
	ke, ok := err.(*kerr.Error)
	return ok && ke == target
}

// TestTxnFranzGoCommitAndAbort: a franz-go transactional producer
// (kgo.TransactionalID) commits one transaction and aborts another; the
// markers reach the partition leaders (WriteTxnMarkers), the coordinator
// completes both, and a read_committed consumer sees only the committed
// records.
func TestTxnFranzGoCommitAndAbort(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"transaction.state.log.num.partitions": "3"})
	adm := newAdmin(t, c)
	const topic, id = "txn-kgo", "kgo-producer"
	createTopic(t, c, adm, topic, 2, 3, nil)
	seeds := c.BootstrapAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID("kbroker-itest"), kgo.RetryTimeout(waitLong),
		kgo.TransactionalID(id), kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	ctx := testCtx(t, waitLong)
	run := func(n int, prefix string, commit kgo.TransactionEndTry) {
		t.Helper()
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < n; i++ {
			if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("%s-%d", prefix, i))}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := cl.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	run(10, "committed", kgo.TryCommit)
	run(5, "aborted", kgo.TryAbort)
	run(4, "second", kgo.TryCommit)
	coord := waitTxnCoordinator(t, c, seeds[0], id, -1)
	eventually(t, waitLong, "the last transaction complete", func() error {
		d := describeTxn(t, coord.Addr(), id)
		if d.State != "CompleteCommit" {
			return fmt.Errorf("state %s", d.State)
		}
		return nil
	})
	cons := newClient(t, seeds, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[string]bool{}
	eventually(t, waitLong, "the committed records", func() error {
		fs := cons.PollFetches(testCtx(t, 2*time.Second))
		fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
		if len(got) < 14 {
			return fmt.Errorf("%d records", len(got))
		}
		return nil
	})
	for v := range got {
		if strings.HasPrefix(v, "aborted") {
			t.Fatalf("read_committed saw aborted record %q", v)
		}
	}
	if len(got) != 14 {
		t.Fatalf("got %d records: %v", len(got), got)
	}
}
