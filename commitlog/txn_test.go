package commitlog_test

// Transactions in the log: the last stable offset across open, committed
// and aborted transactions (with markers not yet below the high watermark),
// the .txnindex bytes written at ABORT markers by leader and follower
// appends and rebuilt by recovery, truncation, and the aborted transactions
// a read_committed read collects over several segments.

import (
	"bytes"
	"encoding/binary"
	"os"
	"reflect"
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// marker is a COMMIT or ABORT control batch as the coordinator sends it.
func marker(t *testing.T, pid int64, epoch int16, typ record.ControlType, coordEpoch int32) []byte {
	t.Helper()
	b, err := record.BuildEndTxnMarker(pid, epoch, typ, coordEpoch, baseTime)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (tl *testLog) appendMarker(b []byte) commitlog.AppendInfo {
	tl.t.Helper()
	info, err := tl.log.AppendAsLeader(b, 0, record.FromCoordinator)
	if err != nil {
		tl.t.Fatalf("marker append: %v", err)
	}
	return info
}

// txnEntryBytes is a .txnindex entry written by hand from Kafka's layout
// (AbortedTxn.java): version int16 0, producerId, firstOffset, lastOffset,
// lastStableOffset, all big-endian.
func txnEntryBytes(pid, first, last, lso int64) []byte {
	b := make([]byte, 34)
	binary.BigEndian.PutUint64(b[2:], uint64(pid))
	binary.BigEndian.PutUint64(b[10:], uint64(first))
	binary.BigEndian.PutUint64(b[18:], uint64(last))
	binary.BigEndian.PutUint64(b[26:], uint64(lso))
	return b
}

func checkLSO(t *testing.T, l *commitlog.Log, want model.Offset) {
	t.Helper()
	if got := l.LastStableOffset(); got != want {
		t.Fatalf("LSO %d, want %d (HW %d, LEO %d, ongoing %+v)", got, want, l.HighWatermark(), l.LogEndOffset(), l.OngoingTxns())
	}
}

// txnLog builds: 0 plain, 1-2 txn pid 7, 3 txn pid 8, 4 ABORT pid 7,
// 5 COMMIT pid 8, with the high watermark at the log end.
func txnLog(t *testing.T, cfg commitlog.Config) *testLog {
	tl := newTestLog(t, cfg)
	tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	tl.appendLeader(idemBatch(t, 7, 0, 0, 2, true, baseTime), 0)
	tl.log.SetHighWatermark(tl.log.LogEndOffset())
	checkLSO(t, tl.log, 1)
	tl.appendLeader(idemBatch(t, 8, 0, 0, 1, true, baseTime), 0)
	tl.log.SetHighWatermark(tl.log.LogEndOffset())
	checkLSO(t, tl.log, 1)
	if info := tl.appendMarker(marker(t, 7, 0, record.ControlAbort, 3)); info.FirstOffset != 4 {
		t.Fatalf("marker at %d", info.FirstOffset)
	}
	// The marker is not below the high watermark yet: transaction 7 still
	// holds the LSO (Kafka's unreplicated transactions).
	checkLSO(t, tl.log, 1)
	tl.log.SetHighWatermark(5)
	checkLSO(t, tl.log, 3)
	tl.appendMarker(marker(t, 8, 0, record.ControlCommit, 3))
	checkLSO(t, tl.log, 3)
	tl.log.SetHighWatermark(6)
	checkLSO(t, tl.log, 6)
	return tl
}

func TestLastStableOffsetAndTxnIndex(t *testing.T) {
	tl := txnLog(t, commitlog.DefaultConfig())
	want := txnEntryBytes(7, 1, 4, 3) // LSO at the abort: pid 8's open txn
	if got := readFile(t, tl.path(0, ".txnindex")); !bytes.Equal(got, want) {
		t.Fatalf(".txnindex\n got %x\nwant %x", got, want)
	}
	// read_committed reads everything below the LSO and lists the abort.
	r, err := tl.log.ReadCommitted(0, 1<<20, true)
	if err != nil || r.NextOffset != 6 || r.LastStableOffset != 6 {
		t.Fatalf("ReadCommitted %+v %v", r, err)
	}
	if want := []segment.AbortedTxn{{ProducerID: 7, FirstOffset: 1, LastOffset: 4, LastStableOffset: 3}}; !reflect.DeepEqual(r.AbortedTxns, want) {
		t.Fatalf("aborted %+v", r.AbortedTxns)
	}
	// A fetch past the aborted transaction lists nothing; Read (uncommitted)
	// never lists.
	if r, _ := tl.log.ReadCommitted(5, 1<<20, true); len(r.AbortedTxns) != 0 || r.AbortedTxns == nil {
		t.Fatalf("ReadCommitted(5) aborted %#v", r.AbortedTxns)
	}
	if r, _ := tl.log.Read(0, 1<<20, 6, true); r.AbortedTxns != nil {
		t.Fatalf("Read aborted %#v", r.AbortedTxns)
	}
}

func TestLastStableOffsetBoundsReadCommitted(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	tl.appendLeader(clientBatch(t, recs(2, baseTime)), 0)
	tl.appendLeader(idemBatch(t, 7, 0, 0, 2, true, baseTime), 0)
	tl.appendLeader(clientBatch(t, recs(2, baseTime)), 0)
	tl.log.SetHighWatermark(6)
	checkLSO(t, tl.log, 2)
	r, err := tl.log.ReadCommitted(0, 1<<20, true)
	if err != nil || r.NextOffset != 2 || r.HighWatermark != 6 || r.LastStableOffset != 2 {
		t.Fatalf("ReadCommitted %+v %v", r, err)
	}
	r, err = tl.log.ReadCommitted(2, 1<<20, true)
	if err != nil || r.Range.Size != 0 {
		t.Fatalf("ReadCommitted at the LSO %+v %v", r, err)
	}
	r, err = tl.log.Read(0, 1<<20, 6, true)
	if err != nil || r.NextOffset != 6 || r.LastStableOffset != 2 {
		t.Fatalf("Read %+v %v", r, err)
	}
}

func TestTxnStateAfterTruncation(t *testing.T) {
	tl := txnLog(t, commitlog.DefaultConfig())
	if _, err := tl.log.TruncateTo(5); err != nil { // drops pid 8's commit
		t.Fatal(err)
	}
	tl.log.SetHighWatermark(5)
	checkLSO(t, tl.log, 3)
	if _, err := tl.log.TruncateTo(4); err != nil { // drops pid 7's abort
		t.Fatal(err)
	}
	checkLSO(t, tl.log, 1)
	if got := fileSize(t, tl.path(0, ".txnindex")); got != 0 {
		t.Fatalf(".txnindex %d bytes after truncating its marker", got)
	}
	// The same abort again, as a follower takes it from its leader.
	spec := record.NewSpec()
	spec.BaseOffset, spec.ProducerID, spec.Transactional, spec.Control = 4, 7, true, true
	tl.appendFollower(build(t, spec, []record.NewRecord{{Timestamp: baseTime, Key: []byte{0, 0, 0, 0}, Value: []byte{0, 0, 0, 0, 0, 3}}}))
	if got := readFile(t, tl.path(0, ".txnindex")); !bytes.Equal(got, txnEntryBytes(7, 1, 4, 3)) {
		t.Fatalf(".txnindex after follower append %x", got)
	}
	tl.log.SetHighWatermark(5)
	checkLSO(t, tl.log, 3)
	if err := tl.log.TruncateFullyAndStartAt(50); err != nil {
		t.Fatal(err)
	}
	checkLSO(t, tl.log, 50)
	if len(tl.log.OngoingTxns()) != 0 {
		t.Fatalf("ongoing after full truncation %+v", tl.log.OngoingTxns())
	}
}

func TestTxnIndexRebuiltByRecovery(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	tl := txnLog(t, cfg)
	tl.appendLeader(idemBatch(t, 9, 0, 0, 1, true, baseTime), 0) // 6, open
	want := readFile(t, tl.path(0, ".txnindex"))
	crashed := rtCopyDir(t, tl.dir)
	os.Remove(tl.path(0, ".txnindex"))
	os.Remove(crashed + "/" + segName(0, ".txnindex"))
	l := openLog(t, crashed, commitlog.Options{Config: cfg, Now: tl.clock.Now, HighWatermark: 7})
	if got := readFile(t, crashed+"/"+segName(0, ".txnindex")); !bytes.Equal(got, want) {
		t.Fatalf("rebuilt .txnindex\n got %x\nwant %x", got, want)
	}
	checkLSO(t, l, 6)
	// A clean restart keeps the open transaction from the snapshot.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openLog(t, crashed, commitlog.Options{Config: cfg, Now: tl.clock.Now, HighWatermark: 7, HadCleanShutdown: true})
	checkLSO(t, l2, 6)
}

func TestAbortedTxnsOverSegments(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 250
	tl := newTestLog(t, cfg)
	var want []segment.AbortedTxn
	for i := int64(0); i < 6; i++ {
		pid := 100 + i
		first := tl.appendLeader(idemBatch(t, pid, 0, 0, 2, true, baseTime), 0).FirstOffset
		typ := record.ControlCommit
		if i%2 == 0 {
			typ = record.ControlAbort
		}
		m := tl.appendMarker(marker(t, pid, 0, typ, 1))
		if typ == record.ControlAbort {
			want = append(want, segment.AbortedTxn{ProducerID: pid, FirstOffset: int64(first), LastOffset: int64(m.FirstOffset), LastStableOffset: int64(m.FirstOffset) + 1})
		}
		tl.log.SetHighWatermark(tl.log.LogEndOffset())
	}
	if tl.log.NumSegments() < 3 {
		t.Fatalf("%d segments", tl.log.NumSegments())
	}
	got, err := tl.log.AbortedTxnIndex()
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("index %+v %v\nwant %+v", got, err, want)
	}
	all, err := tl.log.CollectAbortedTxns(0, tl.log.LogEndOffset())
	if err != nil || !reflect.DeepEqual(all, want) {
		t.Fatalf("collect all %+v %v", all, err)
	}
	// From the middle of the second aborted transaction's data, bounded
	// before the third: only the second.
	part, err := tl.log.CollectAbortedTxns(model.Offset(want[1].FirstOffset+1), model.Offset(want[2].FirstOffset))
	if err != nil || !reflect.DeepEqual(part, want[1:2]) {
		t.Fatalf("collect part %+v %v", part, err)
	}
	// A read of the whole log from 0 with one batch at a time lists what
	// overlaps the bytes read up to the segment's end.
	r, err := tl.log.ReadCommitted(0, 1, true)
	if err != nil || len(r.AbortedTxns) == 0 || r.AbortedTxns[0] != want[0] {
		t.Fatalf("ReadCommitted %+v %v", r.AbortedTxns, err)
	}
	// Retention removes segments with their .txnindex.
	seg1 := tl.log.SegmentBaseOffsets()[1]
	if err := tl.log.IncrementLogStartOffset(seg1); err != nil {
		t.Fatal(err)
	}
	if _, err := tl.log.DeleteOldSegments(); err != nil {
		t.Fatal(err)
	}
	if exists(tl.path(0, ".txnindex")) {
		t.Fatalf(".txnindex of a deleted segment still there")
	}
}
