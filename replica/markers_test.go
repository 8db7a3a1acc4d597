package replica

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
	"github.com/kbroker/kbroker/record"
)

func txnBatch(t *testing.T, pid int64, epoch int16, seq int32, values ...string) []byte {
	t.Helper()
	spec := record.NewSpec()
	spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence, spec.Transactional = pid, epoch, seq, true
	var recs []record.NewRecord
	for _, v := range values {
		recs = append(recs, record.NewRecord{Timestamp: 1_700_000_000_000, Value: []byte(v)})
	}
	b, err := record.Build(spec, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func marker1(m *Manager, pid int64, epoch int16, commit bool, coordEpoch int32, tps ...model.TopicPartition) []TxnMarkerResult {
	return m.WriteTxnMarkers(context.Background(), time.Second, []TxnMarker{{ProducerID: pid, ProducerEpoch: epoch, Commit: commit, CoordinatorEpoch: coordEpoch, Partitions: tps}})[0]
}

func fetch1(t *testing.T, m *Manager, isolation int8) partition.FetchResult {
	t.Helper()
	rs := m.Fetch(context.Background(), []FetchPartition{{TP: tp0, Params: partition.FetchParams{ReplicaID: -1, FetchOffset: 0, MaxBytes: 1 << 20, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1, Isolation: isolation}}}, 1<<20, 0, 0)
	if rs[0].Err != nil {
		t.Fatal(rs[0].Err)
	}
	return rs[0].FetchResult
}

// Markers close transactions with Kafka's per-partition errors, and
// read_committed fetches stop at the last stable offset and list aborts.
func TestWriteTxnMarkers(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1}, []int32{1})); err != nil {
		t.Fatal(err)
	}
	if r := produce(m, 1, time.Second, txnBatch(t, 10, 3, 0, "a", "b")); r.Err != nil {
		t.Fatal(r.Err)
	}
	if r := produce(m, 1, time.Second, batch(t, "plain")); r.Err != nil {
		t.Fatal(r.Err)
	}
	if f := fetch1(t, m, partition.ReadCommitted); f.LastStableOffset != 0 || f.HighWatermark != 3 || f.Range.Size != 0 || f.AbortedTxns == nil {
		t.Fatalf("read_committed with an open transaction: %+v", f)
	}
	if f := fetch1(t, m, partition.ReadUncommitted); f.LastStableOffset != 0 || f.NextOffset != 3 || f.AbortedTxns != nil {
		t.Fatalf("read_uncommitted: %+v", f)
	}
	other := model.TopicPartition{Topic: "t", Partition: 9}
	rs := marker1(m, 10, 2, false, 5, tp0, other)
	if !errors.Is(rs[0].Err, kerr.InvalidProducerEpoch) || !errors.Is(rs[1].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("older producer epoch / unknown partition: %+v", rs)
	}
	if rs := marker1(m, 10, 3, false, 5, tp0); rs[0].Err != nil {
		t.Fatalf("abort: %+v", rs)
	}
	if rs := marker1(m, 10, 3, true, 4, tp0); !errors.Is(rs[0].Err, kerr.TransactionCoordinatorFenced) {
		t.Fatalf("older coordinator epoch: %+v", rs)
	}
	// The marker's timestamp (now) rolls a new segment past the records'
	// old ones (segment.ms): the first read ends with segment 0, and the
	// abort is still listed from the next segment's .txnindex.
	f := fetch1(t, m, partition.ReadCommitted)
	if f.LastStableOffset != 4 || f.NextOffset != 3 || len(f.AbortedTxns) != 1 || f.AbortedTxns[0].ProducerID != 10 || f.AbortedTxns[0].FirstOffset != 0 {
		t.Fatalf("read_committed after the abort: %+v", f)
	}
	p, _ := m.Partition(tp0)
	if _, err := p.OffsetForTimestamp(partition.LatestTimestamp, partition.ReadCommitted, -1, false); err != nil {
		t.Fatal(err)
	}
	// A follower does not take markers.
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 2, 1, []int32{1, 2}, []int32{1, 2})); err != nil {
		t.Fatal(err)
	}
	if rs := marker1(m, 10, 3, true, 5, tp0); !errors.Is(rs[0].Err, kerr.NotLeaderForPartition) {
		t.Fatalf("on a follower: %+v", rs)
	}
}

// ListOffsets latest answers the last stable offset for read_committed.
func TestListOffsetsReadCommitted(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1}, []int32{1})); err != nil {
		t.Fatal(err)
	}
	produce(m, 1, time.Second, batch(t, "x"))
	produce(m, 1, time.Second, txnBatch(t, 11, 0, 0, "a"))
	p, _ := m.Partition(tp0)
	rc, err := p.OffsetForTimestamp(partition.LatestTimestamp, partition.ReadCommitted, -1, false)
	if err != nil || rc.Offset != 1 {
		t.Fatalf("read_committed latest %+v %v", rc, err)
	}
	ru, err := p.OffsetForTimestamp(partition.LatestTimestamp, partition.ReadUncommitted, -1, false)
	if err != nil || ru.Offset != 2 {
		t.Fatalf("read_uncommitted latest %+v %v", ru, err)
	}
	if rs := marker1(m, 11, 0, true, 0, tp0); rs[0].Err != nil {
		t.Fatal(rs[0].Err)
	}
	if rc, _ := p.OffsetForTimestamp(partition.LatestTimestamp, partition.ReadCommitted, -1, false); rc.Offset != 3 {
		t.Fatalf("read_committed latest after commit %+v", rc)
	}
}
