package itest

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func initProducerID(t *testing.T, addr string, mutate func(*kmsg.InitProducerIDRequest)) *kmsg.InitProducerIDResponse {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = 4
	req.TransactionTimeoutMillis = 60000
	if mutate != nil {
		mutate(req)
	}
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.(*kmsg.InitProducerIDResponse)
}

// TestInitProducerID: idempotent producers get producer ids from blocks of
// 1000 each broker takes in /latest_producer_id_block (Kafka's JSON, ends
// as strings); a producer id without an epoch is INVALID_REQUEST; a
// transactional id goes to its coordinator (NOT_COORDINATOR here: no
// broker coordinates anything before FindCoordinator); and sarama's
// idempotent producer writes batches carrying its id and sequences.
func TestInitProducerID(t *testing.T) {
	c := newCluster(t, 2, nil)
	a, b := c.Broker(0), c.Broker(1)
	ids := map[int64]bool{}
	for i, br := range []int{0, 0, 1, 0, 1} {
		r := initProducerID(t, c.Broker(br).Addr(), nil)
		if r.ErrorCode != 0 || r.ProducerEpoch != 0 || r.ProducerID < 0 || ids[r.ProducerID] {
			t.Fatalf("call %d to broker %d: id %d epoch %d error %v", i, c.Broker(br).ID(), r.ProducerID, r.ProducerEpoch, kerr.ErrorForCode(r.ErrorCode))
		}
		ids[r.ProducerID] = true
	}
	// a took 0..999 first, then b 1000..1999: ids 0,1,2 from a, 1000,1001 from b.
	for _, want := range []int64{0, 1, 2, 1000, 1001} {
		if !ids[want] {
			t.Fatalf("ids %v, want 0,1,2 (broker %d) and 1000,1001 (broker %d)", ids, a.ID(), b.ID())
		}
	}
	data, _, err := c.ZK().Get("/latest_producer_id_block")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"version":1,"broker":` + strconv.Itoa(int(b.ID())) + `,"block_start":"1000","block_end":"1999"}`; string(data) != want {
		t.Fatalf("/latest_producer_id_block = %s, want %s", data, want)
	}

	// KIP-360: an idempotent producer sending its old id and epoch gets a
	// fresh id.
	r := initProducerID(t, a.Addr(), func(r *kmsg.InitProducerIDRequest) { r.ProducerID, r.ProducerEpoch = 0, 0 })
	if r.ErrorCode != 0 || r.ProducerID != 3 || r.ProducerEpoch != 0 {
		t.Fatalf("re-init: id %d epoch %d error %v", r.ProducerID, r.ProducerEpoch, kerr.ErrorForCode(r.ErrorCode))
	}
	r = initProducerID(t, a.Addr(), func(r *kmsg.InitProducerIDRequest) { r.ProducerID, r.ProducerEpoch = 5, -1 })
	if r.ErrorCode != kerr.InvalidRequest.Code || r.ProducerID != -1 || r.ProducerEpoch != -1 {
		t.Fatalf("id without epoch: id %d epoch %d error %v", r.ProducerID, r.ProducerEpoch, kerr.ErrorForCode(r.ErrorCode))
	}
	txnID := "tx"
	r = initProducerID(t, a.Addr(), func(r *kmsg.InitProducerIDRequest) { r.TransactionalID = &txnID })
	if r.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("transactional id sent to a broker that does not coordinate it: error %v, want NOT_COORDINATOR", kerr.ErrorForCode(r.ErrorCode))
	}

	// sarama's idempotent producer.
	adm := newAdmin(t, c)
	createTopic(t, c, adm, "idem", 1, 2, nil)
	cfg := saramaConfig(sarama.V3_9_0_0, sarama.CompressionNone)
	cfg.Producer.Idempotent = true
	cfg.Net.MaxOpenRequests = 1
	prod, err := sarama.NewSyncProducer(c.BootstrapAddrs(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := 0; i < 20; i++ {
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: "idem", Partition: 0, Value: sarama.StringEncoder(fmt.Sprint(i))}); err != nil {
			t.Fatalf("idempotent send %d: %v", i, err)
		}
	}
	got := consumeRange(t, c.BootstrapAddrs(), "idem", map[int32]int64{0: 20})
	var pid int64 = -1
	for i, rec := range got[0] {
		if string(rec.Value) != fmt.Sprint(i) || rec.ProducerID < 0 || rec.ProducerEpoch != 0 {
			t.Fatalf("record %d: value %q producer %d epoch %d", i, rec.Value, rec.ProducerID, rec.ProducerEpoch)
		}
		if pid >= 0 && rec.ProducerID != pid {
			t.Fatalf("producer id changed from %d to %d", pid, rec.ProducerID)
		}
		pid = rec.ProducerID
	}
}
