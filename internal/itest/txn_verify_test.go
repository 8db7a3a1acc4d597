package itest

// Transaction verification (KIP-890 part 1, on by default as in Kafka 3.9)
// with real brokers: a partition leader refuses the first transactional
// batch of a transaction unless the transactional id's coordinator
// confirms, through AddPartitionsToTxn v4 VerifyOnly, that the partition is
// in the transaction; so a zombie's write after its transaction ended
// cannot leave a hanging transaction. The same holds for transactional
// offset commits on __consumer_offsets. AddPartitionsToTxn v4 and v5
// (the inter-broker versions) are checked on the coordinator directly.

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
	"github.com/kbroker/kbroker/record"
)

// verifyOnly sends AddPartitionsToTxn v4+ to addr with one transaction
// and returns its per-partition codes of topic.
func addPartitionsBatch(t *testing.T, addr string, version int16, verify bool, id string, pid int64, epoch int16, topic string, parts ...int32) map[int32]int16 {
	t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = version
	tr := kmsg.NewAddPartitionsToTxnRequestTransaction()
	tr.TransactionalID, tr.ProducerID, tr.ProducerEpoch, tr.VerifyOnly = id, pid, epoch, verify
	rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
	rt.Topic, rt.Partitions = topic, parts
	tr.Topics = append(tr.Topics, rt)
	req.Transactions = append(req.Transactions, tr)
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	r := resp.(*kmsg.AddPartitionsToTxnResponse)
	if r.ErrorCode != 0 || len(r.Transactions) != 1 || r.Transactions[0].TransactionalID != id {
		t.Fatalf("AddPartitionsToTxn v%d: %+v", version, r)
	}
	out := map[int32]int16{}
	for _, rt := range r.Transactions[0].Topics {
		for _, rp := range rt.Partitions {
			if rt.Topic == topic {
				out[rp.Partition] = rp.ErrorCode
			}
		}
	}
	return out
}

func TestTxnProduceVerification(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"transaction.state.log.num.partitions": "3"})
	adm := newAdmin(t, c)
	const topic, id = "verify", "verify-txn"
	// Three partitions of RF 1 land on three brokers: one of them is the
	// coordinator's (it answers itself), the others ask it over the wire.
	createTopic(t, c, adm, topic, 3, 1, nil)
	seed := c.Broker(0).Addr()
	coord := waitTxnCoordinator(t, c, seed, id, -1)
	p, code := txnInit(t, coord.Addr(), id, 4)
	if code != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(code))
	}
	leaders := map[int32]*testcluster.Broker{}
	remote := false
	for part := int32(0); part < 3; part++ {
		lid, err := leaderOf(seed, topic, part)
		if err != nil {
			t.Fatal(err)
		}
		leaders[part] = c.BrokerByID(lid)
		remote = remote || lid != coord.ID()
	}
	if !remote {
		t.Fatal("every partition is led by the coordinator: the wire path would go untested")
	}
	seq := map[int32]int32{}
	produce := func(part int32, values ...string) kmsg.ProduceResponseTopicPartition {
		t.Helper()
		r := txnProduceTo(t, leaders[part].Addr(), topic, part, id, p.pid, p.epoch, seq[part], values...)
		if r.ErrorCode == 0 {
			seq[part] += int32(len(values))
		}
		return r
	}
	expectNotAdded := func(r kmsg.ProduceResponseTopicPartition, what string) {
		t.Helper()
		if r.ErrorCode != kerr.InvalidTxnState.Code {
			t.Fatalf("%s: %v, want INVALID_TXN_STATE", what, kerr.ErrorForCode(r.ErrorCode))
		}
		if r.ErrorMessage == nil || *r.ErrorMessage != "Partition was not added to the transaction" {
			t.Fatalf("%s: message %v, want Kafka's", what, r.ErrorMessage)
		}
	}

	// Nothing added yet: every leader refuses, nothing is written.
	for part := int32(0); part < 3; part++ {
		expectNotAdded(produce(part, "early"), "a batch before AddPartitionsToTxn")
		if hw, _, err := partitionOffsets(leaders[part].Addr(), topic, part); err != nil || hw != 0 {
			t.Fatalf("partition %d high watermark %d (%v) after a refused batch, want 0", part, hw, err)
		}
	}

	// Added through the client API (v3): accepted; the third still not.
	for part, ec := range addPartitionsToTxn(t, coord.Addr(), p, 3, topic, 0, 1)[topic] {
		if ec != 0 {
			t.Fatalf("AddPartitionsToTxn %d: %v", part, kerr.ErrorForCode(ec))
		}
	}
	for part := int32(0); part < 2; part++ {
		if r := produce(part, fmt.Sprint("a", part), fmt.Sprint("b", part)); r.ErrorCode != 0 {
			t.Fatalf("partition %d after AddPartitionsToTxn: %v %v", part, kerr.ErrorForCode(r.ErrorCode), r.ErrorMessage)
		}
		// The open transaction needs no verification any more.
		if r := produce(part, fmt.Sprint("c", part)); r.ErrorCode != 0 {
			t.Fatalf("partition %d second batch: %v", part, kerr.ErrorForCode(r.ErrorCode))
		}
	}
	expectNotAdded(produce(2, "x"), "a partition outside the transaction")

	// The inter-broker versions on the coordinator.
	for _, v := range []int16{4, 5} {
		got := addPartitionsBatch(t, coord.Addr(), v, true, id, p.pid, p.epoch, topic, 0, 1, 2)
		if got[0] != 0 || got[1] != 0 || got[2] != kerr.InvalidTxnState.Code {
			t.Fatalf("v%d VerifyOnly: %v, want 0, 0, INVALID_TXN_STATE", v, got)
		}
		got = addPartitionsBatch(t, coord.Addr(), v, true, id, p.pid, p.epoch+1, topic, 0)
		if got[0] != kerr.ProducerFenced.Code {
			t.Fatalf("v%d VerifyOnly with another epoch: %v, want PRODUCER_FENCED", v, kerr.ErrorForCode(got[0]))
		}
		got = addPartitionsBatch(t, coord.Addr(), v, true, id, p.pid+1, p.epoch, topic, 0)
		if got[0] != kerr.InvalidProducerIDMapping.Code {
			t.Fatalf("v%d VerifyOnly with another producer id: %v, want INVALID_PRODUCER_ID_MAPPING", v, kerr.ErrorForCode(got[0]))
		}
	}
	// v4 without VerifyOnly adds, as v3 does.
	if got := addPartitionsBatch(t, coord.Addr(), 4, false, id, p.pid, p.epoch, topic, 2); got[2] != 0 {
		t.Fatalf("v4 add: %v", kerr.ErrorForCode(got[2]))
	}
	if r := produce(2, "late"); r.ErrorCode != 0 {
		t.Fatalf("partition 2 after the v4 add: %v", kerr.ErrorForCode(r.ErrorCode))
	}

	// Two producers in one request: the whole request is refused.
	mixed := kmsg.NewPtrProduceRequest()
	mixed.Version, mixed.Acks, mixed.TimeoutMillis, mixed.TransactionID = 9, -1, 30000, &p.id
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	for i, pid := range []int64{p.pid, p.pid + 1} {
		spec := record.NewSpec()
		spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence, spec.Transactional = pid, p.epoch, 100, true
		b, err := record.Build(spec, []record.NewRecord{{Timestamp: 1, Value: []byte("mixed")}})
		if err != nil {
			t.Fatal(err)
		}
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = int32(i), b
		rt.Partitions = append(rt.Partitions, rp)
	}
	mixed.Topics = append(mixed.Topics, rt)
	resp, err := oneRequest(leaders[0].Addr(), mixed)
	if err != nil {
		t.Fatal(err)
	}
	for _, rp := range resp.(*kmsg.ProduceResponse).Topics[0].Partitions {
		if rp.ErrorCode != kerr.InvalidProducerIDMapping.Code || rp.ErrorMessage == nil ||
			*rp.ErrorMessage != "Transactional records contained more than one producer ID" {
			t.Fatalf("two producer ids: partition %d %v %v, want INVALID_PRODUCER_ID_MAPPING", rp.Partition, kerr.ErrorForCode(rp.ErrorCode), rp.ErrorMessage)
		}
	}

	// Commit; once the markers are written, the producer's late write (a
	// zombie's) is refused instead of opening a transaction no coordinator
	// knows of.
	if ec := endTxn(t, coord.Addr(), p, 3, true); ec != 0 {
		t.Fatalf("EndTxn: %v", kerr.ErrorForCode(ec))
	}
	eventually(t, waitLong, "CompleteCommit", func() error {
		if s := describeTxn(t, coord.Addr(), id).State; s != "CompleteCommit" {
			return kerr.ConcurrentTransactions
		}
		return nil
	})
	hw0, _, err := partitionOffsets(leaders[0].Addr(), topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	expectNotAdded(produce(0, "zombie"), "a write after the commit")
	hw, lso, err := partitionOffsets(leaders[0].Addr(), topic, 0)
	if err != nil || hw != hw0 || lso != hw0 {
		t.Fatalf("after the refused zombie write: HW %d LSO %d (%v), want both %d", hw, lso, err, hw0)
	}
	want := []string{"a0", "b0", "c0", "a1", "b1", "c1", "late"}
	got := readCommittedValues(t, runningAddrs(c), topic, want...)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("read_committed saw %q, want %q", got, want)
	}
}

// TestTxnOffsetCommitVerification: a transactional offset commit whose
// __consumer_offsets partition was not added with AddOffsetsToTxn is
// refused with INVALID_TXN_STATE and leaves no pending offset; after
// AddOffsetsToTxn it is accepted.
func TestTxnOffsetCommitVerification(t *testing.T) {
	c := newCluster(t, 2, map[string]string{"transaction.state.log.num.partitions": "2", "transaction.state.log.replication.factor": "2",
		"offsets.topic.num.partitions": "2", "offsets.topic.replication.factor": "2"})
	adm := newAdmin(t, c)
	const topic, id, group = "tocv", "tocv-txn", "tocv-group"
	createTopic(t, c, adm, topic, 1, 1, nil)
	seed := c.Broker(0).Addr()
	coord := waitTxnCoordinator(t, c, seed, id, -1)
	p, code := txnInit(t, coord.Addr(), id, 4)
	if code != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(code))
	}
	var gc string
	eventually(t, waitLong, "the group coordinator", func() error {
		n, err := coordinatorOf(seed, group)
		if err != nil {
			return err
		}
		gc = c.BrokerByID(n).Addr()
		return nil
	})
	commit := func() int16 {
		t.Helper()
		req := kmsg.NewPtrTxnOffsetCommitRequest()
		req.Version = 3
		req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch, req.Generation = id, group, p.pid, p.epoch, -1
		ct := kmsg.NewTxnOffsetCommitRequestTopic()
		ct.Topic = topic
		cp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		cp.Partition, cp.Offset, cp.LeaderEpoch = 0, 42, -1
		ct.Partitions = append(ct.Partitions, cp)
		req.Topics = append(req.Topics, ct)
		var ec int16
		eventually(t, waitLong, "TxnOffsetCommit", func() error {
			resp, err := oneRequest(gc, req)
			if err != nil {
				return err
			}
			ec = resp.(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
			if ec == kerr.CoordinatorLoadInProgress.Code || ec == kerr.NotCoordinator.Code || ec == kerr.CoordinatorNotAvailable.Code {
				return kerr.ErrorForCode(ec)
			}
			return nil
		})
		return ec
	}
	if ec := commit(); ec != kerr.InvalidTxnState.Code {
		t.Fatalf("TxnOffsetCommit without AddOffsetsToTxn: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(ec))
	}
	// Nothing pending: require_stable answers at once.
	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.Version, fetch.Group, fetch.RequireStable = 7, group, true
	ft := kmsg.NewOffsetFetchRequestTopic()
	ft.Topic, ft.Partitions = topic, []int32{0}
	fetch.Topics = append(fetch.Topics, ft)
	resp, err := oneRequest(gc, fetch)
	if err != nil {
		t.Fatal(err)
	}
	fr := resp.(*kmsg.OffsetFetchResponse)
	if fr.ErrorCode != 0 || fr.Topics[0].Partitions[0].ErrorCode != 0 || fr.Topics[0].Partitions[0].Offset != -1 {
		t.Fatalf("OffsetFetch require_stable after the refused commit: %+v", fr)
	}

	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.Version = 3
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = id, p.pid, p.epoch, group
	resp, err = oneRequest(coord.Addr(), add)
	if err != nil {
		t.Fatal(err)
	}
	if ec := resp.(*kmsg.AddOffsetsToTxnResponse).ErrorCode; ec != 0 {
		t.Fatalf("AddOffsetsToTxn: %v", kerr.ErrorForCode(ec))
	}
	if ec := commit(); ec != 0 {
		t.Fatalf("TxnOffsetCommit after AddOffsetsToTxn: %v", kerr.ErrorForCode(ec))
	}
}
