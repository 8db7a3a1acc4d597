package itest

// Transactional id expiry with a real broker: with
// transactional.id.expiration.ms and
// transaction.remove.expired.transaction.cleanup.interval.ms small, an id
// left idle after a committed transaction is removed (a tombstone in
// __transaction_state, then TRANSACTIONAL_ID_NOT_FOUND and no longer
// listed), while an id whose transaction is still ongoing, idle for longer,
// is kept.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnLogKey is a __transaction_state record key: version 0 and the
// transactional id as a Kafka string.
func txnLogKey(id string) []byte {
	b := make([]byte, 4, 4+len(id))
	binary.BigEndian.PutUint16(b[2:], uint16(len(id)))
	return append(b, id...)
}

// listedTransactions is ListTransactions on addr: transactional id to state.
func listedTransactions(addr string) (map[string]string, error) {
	req := kmsg.NewPtrListTransactionsRequest()
	req.DurationFilterMillis = -1
	resp, err := oneRequest(addr, req)
	if err != nil {
		return nil, err
	}
	r := resp.(*kmsg.ListTransactionsResponse)
	if r.ErrorCode != 0 {
		return nil, kerr.ErrorForCode(r.ErrorCode)
	}
	out := map[string]string{}
	for _, s := range r.TransactionStates {
		out[s.TransactionalID] = s.TransactionState
	}
	return out, nil
}

func TestTxnIDExpiry(t *testing.T) {
	c := newCluster(t, 1, map[string]string{
		"transaction.state.log.num.partitions":                       "1",
		"transaction.state.log.replication.factor":                   "1",
		"transaction.state.log.min.isr":                              "1",
		"transactional.id.expiration.ms":                             "1000",
		"transaction.remove.expired.transaction.cleanup.interval.ms": "200",
	})
	adm := newAdmin(t, c)
	const topic, liveID, idleID = "txn-exp", "exp-live", "exp-idle"
	createTopic(t, c, adm, topic, 1, 1, nil)
	addr := c.Broker(0).Addr()
	seeds := c.BootstrapAddrs()
	ctx := testCtx(t, waitLong)
	producer := func(id string) *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID("kbroker-itest"), kgo.RetryTimeout(waitLong),
			kgo.TransactionalID(id), kgo.TransactionTimeout(10*time.Minute), kgo.DefaultProduceTopic(topic))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(id)}).FirstErr(); err != nil {
			t.Fatalf("%s: produce: %v", id, err)
		}
		if d, err := describeTxnErr(addr, id); err != nil || d.State != "Ongoing" {
			t.Fatalf("%s: DescribeTransactions %+v, %v; want Ongoing", id, d, err)
		}
		return cl
	}
	// The ongoing transaction is begun first: it has been idle longer than
	// the committed one by the time that one expires.
	producer(liveID)
	idle := producer(idleID)
	if err := idle.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit: %v", err)
	}

	eventually(t, waitLong, idleID+" expired", func() error {
		if _, err := describeTxnErr(addr, idleID); !errors.Is(err, kerr.TransactionalIDNotFound) {
			return fmt.Errorf("DescribeTransactions: %v", err)
		}
		listed, err := listedTransactions(addr)
		if err != nil {
			return err
		}
		if st, ok := listed[idleID]; ok {
			return fmt.Errorf("still listed (%s)", st)
		}
		return nil
	})
	listed, err := listedTransactions(addr)
	if err != nil {
		t.Fatal(err)
	}
	if listed[liveID] != "Ongoing" {
		t.Fatalf("ListTransactions after the expiry: %v, want %s Ongoing", listed, liveID)
	}
	if d, err := describeTxnErr(addr, liveID); err != nil || d.State != "Ongoing" {
		t.Fatalf("%s after the expiry: %+v, %v", liveID, d, err)
	}

	// __transaction_state holds the idle id's records, the last a
	// tombstone, and no tombstone for the ongoing one.
	cons := newClient(t, seeds, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{
		"__transaction_state": {0: kgo.NewOffset().AtStart()}}))
	var idleRecords, idleTombstones, liveTombstones int
	eventually(t, waitLong, "the tombstone of "+idleID+" in __transaction_state", func() error {
		fs := cons.PollFetches(testCtx(t, 2*time.Second))
		fs.EachRecord(func(r *kgo.Record) {
			switch {
			case bytes.Equal(r.Key, txnLogKey(idleID)) && r.Value == nil:
				idleTombstones++
			case bytes.Equal(r.Key, txnLogKey(idleID)):
				if idleTombstones > 0 {
					t.Errorf("%s: a record after its tombstone at offset %d", idleID, r.Offset)
				}
				idleRecords++
			case bytes.Equal(r.Key, txnLogKey(liveID)) && r.Value == nil:
				liveTombstones++
			}
		})
		if idleTombstones == 0 {
			return fmt.Errorf("%d records of %s, no tombstone", idleRecords, idleID)
		}
		return nil
	})
	if idleTombstones != 1 || idleRecords == 0 || liveTombstones != 0 {
		t.Fatalf("__transaction_state: %d records and %d tombstones of %s, %d tombstones of %s",
			idleRecords, idleTombstones, idleID, liveTombstones, liveID)
	}
}
