package itest

// The partition side of transactions with real brokers, over the wire:
// transactional batches produced with a producer id from InitProducerId,
// WriteTxnMarkers sent to the leader by hand (as the coordinator does), the
// last stable offset stopping at an open transaction, read_committed and
// read_uncommitted consumers (franz-go), and the .txnindex bytes on the
// leader and on the follower that replicated the ABORT marker.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// noTxnVerification turns off the leaders' check of transactional
// produces with the transaction coordinator, for the tests that write
// transactional batches without one.
var noTxnVerification = map[string]string{"transaction.partition.verification.enable": "false"}

func txnProduce(t *testing.T, addr, topic string, txnID *string, pid int64, epoch int16, seq int32, transactional bool, values ...string) kmsg.ProduceResponseTopicPartition {
	t.Helper()
	return produceBatch(t, addr, topic, 0, txnID, pid, epoch, seq, transactional, time.Now().UnixMilli(), values...)
}

func writeMarker(t *testing.T, addr, topic string, pid int64, epoch int16, commit bool, coordEpoch int32) int16 {
	t.Helper()
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	req.Version = 1
	mk := kmsg.NewWriteTxnMarkersRequestMarker()
	mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = pid, epoch, commit, coordEpoch
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = topic, []int32{0}
	mk.Topics = append(mk.Topics, mt)
	req.Markers = append(req.Markers, mk)
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	r := resp.(*kmsg.WriteTxnMarkersResponse)
	if len(r.Markers) != 1 || r.Markers[0].ProducerID != pid || len(r.Markers[0].Topics) != 1 || len(r.Markers[0].Topics[0].Partitions) != 1 {
		t.Fatalf("WriteTxnMarkers response %+v", r)
	}
	return r.Markers[0].Topics[0].Partitions[0].ErrorCode
}

func latestOffset(t *testing.T, addr, topic string, isolation int8) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.Version, req.ReplicaID, req.IsolationLevel = 7, -1, isolation
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = 0, -1, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("ListOffsets: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	return p.Offset
}

// consumeValues reads the partition from the start with a franz-go
// consumer until it has seen last (or the time is up).
func consumeValues(t *testing.T, seeds []string, topic, last string, level kgo.IsolationLevel) []string {
	t.Helper()
	cl := newClient(t, seeds, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	ctx := testCtx(t, waitLong)
	var got []string
	for !slices.Contains(got, last) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %q without %q", got, last)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Logf("fetch error: %v", err) })
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func txnIndexEntry(pid, first, last, lso int64) []byte {
	b := make([]byte, 34)
	binary.BigEndian.PutUint64(b[2:], uint64(pid))
	binary.BigEndian.PutUint64(b[10:], uint64(first))
	binary.BigEndian.PutUint64(b[18:], uint64(last))
	binary.BigEndian.PutUint64(b[26:], uint64(lso))
	return b
}

func TestTxnPartitionReadCommitted(t *testing.T) {
	// The test plays the coordinator by hand (no AddPartitionsToTxn), so
	// the leaders must not verify transactional produces with one.
	c := newCluster(t, 2, noTxnVerification)
	adm := newAdmin(t, c)
	const topic = "txp"
	createTopic(t, c, adm, topic, 1, 2, nil)
	leaderID, err := leaderOf(c.Broker(0).Addr(), topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	var leader, follower *testcluster.Broker
	for _, b := range c.Brokers() {
		if b.ID() == leaderID {
			leader = b
		} else {
			follower = b
		}
	}
	ip := initProducerID(t, leader.Addr(), nil)
	if ip.ErrorCode != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(ip.ErrorCode))
	}
	pid, epoch := ip.ProducerID, ip.ProducerEpoch
	txnID := "txp-producer"

	// A transactional batch needs its transactional id.
	if p := txnProduce(t, leader.Addr(), topic, nil, pid, epoch, 0, true, "x"); p.ErrorCode != kerr.TransactionalIDAuthorizationFailed.Code {
		t.Fatalf("null transactional id: %v", kerr.ErrorForCode(p.ErrorCode))
	}
	// 0-1: the transaction that will be aborted; 2: a plain record.
	if p := txnProduce(t, leader.Addr(), topic, &txnID, pid, epoch, 0, true, "aborted-0", "aborted-1"); p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("transactional produce: %+v", p)
	}
	if p := txnProduce(t, leader.Addr(), topic, nil, -1, -1, -1, false, "plain"); p.ErrorCode != 0 || p.BaseOffset != 2 {
		t.Fatalf("plain produce: %+v", p)
	}
	// The open transaction holds the last stable offset.
	if lso, hw := latestOffset(t, leader.Addr(), topic, 1), latestOffset(t, leader.Addr(), topic, 0); lso != 0 || hw != 3 {
		t.Fatalf("latest offsets: read_committed %d, read_uncommitted %d; want 0 and 3", lso, hw)
	}
	// Markers go to the leader only.
	if code := writeMarker(t, follower.Addr(), topic, pid, epoch, false, 0); code != kerr.NotLeaderForPartition.Code {
		t.Fatalf("marker on the follower: %v", kerr.ErrorForCode(code))
	}
	if code := writeMarker(t, leader.Addr(), topic, pid, epoch, false, 0); code != 0 { // ABORT at 3
		t.Fatalf("abort marker: %v", kerr.ErrorForCode(code))
	}
	if code := writeMarker(t, leader.Addr(), topic, pid, epoch-1, true, 0); epoch > 0 && code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("older epoch: %v", kerr.ErrorForCode(code))
	}
	// 4: a committed transaction, COMMIT at 5.
	if p := txnProduce(t, leader.Addr(), topic, &txnID, pid, epoch, 2, true, "committed-0"); p.ErrorCode != 0 || p.BaseOffset != 4 {
		t.Fatalf("second transaction: %+v", p)
	}
	if lso := latestOffset(t, leader.Addr(), topic, 1); lso != 4 {
		t.Fatalf("read_committed latest %d with the second transaction open, want 4", lso)
	}
	if code := writeMarker(t, leader.Addr(), topic, pid, epoch, true, 0); code != 0 {
		t.Fatalf("commit marker: %v", kerr.ErrorForCode(code))
	}
	if code := writeMarker(t, leader.Addr(), topic, pid, epoch, true, -1); code != kerr.TransactionCoordinatorFenced.Code {
		t.Fatalf("older coordinator epoch: %v", kerr.ErrorForCode(code))
	}
	if lso := latestOffset(t, leader.Addr(), topic, 1); lso != 6 {
		t.Fatalf("read_committed latest %d after the commit, want 6", lso)
	}

	seeds := c.BootstrapAddrs()
	committed := consumeValues(t, seeds, topic, "committed-0", kgo.ReadCommitted())
	if want := []string{"plain", "committed-0"}; !slices.Equal(committed, want) {
		t.Fatalf("read_committed consumer saw %q, want %q", committed, want)
	}
	all := consumeValues(t, seeds, topic, "committed-0", kgo.ReadUncommitted())
	if want := []string{"aborted-0", "aborted-1", "plain", "committed-0"}; !slices.Equal(all, want) {
		t.Fatalf("read_uncommitted consumer saw %q, want %q", all, want)
	}

	// The ABORT (marker 3, transaction from 0, LSO 4 after it) is in the
	// .txnindex of the leader and of the follower, in Kafka's bytes.
	want := txnIndexEntry(pid, 0, 3, 4)
	for _, b := range []*testcluster.Broker{leader, follower} {
		path := filepath.Join(b.LogDir(), topic+"-0", "00000000000000000000.txnindex")
		eventually(t, waitLong, fmt.Sprintf(".txnindex on broker %d", b.ID()), func() error {
			got, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				return fmt.Errorf("%s = %x, want %x", path, got, want)
			}
			return nil
		})
	}
}
