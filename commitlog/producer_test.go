package commitlog_test

// Producer state in the log: duplicates answered with the original offsets,
// Kafka's sequence and epoch errors, and the state surviving roll, clean and
// unclean restarts and truncation through .snapshot files. Snapshot bytes
// are decoded here field by field, independently of package producer.

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
)

// idemBatch is an idempotent (or transactional) producer's batch of n
// records at timestamp ts.
func idemBatch(t *testing.T, pid int64, epoch int16, seq int32, n int, txn bool, ts int64) []byte {
	t.Helper()
	spec := record.NewSpec()
	spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence, spec.Transactional = pid, epoch, seq, txn
	return build(t, spec, recs(n, ts))
}

// snapEntry is one entry of a .snapshot file.
type snapEntry struct {
	pid              int64
	epoch            int16
	lastSeq          int32
	lastOffset       int64
	offsetDelta      int32
	timestamp        int64
	coordinatorEpoch int32
	txnFirstOffset   int64
}

// readSnapshotFile decodes a .snapshot file from Kafka's layout: version
// int16 = 1, crc uint32 = CRC-32C of bytes 6.., int32 count, 46-byte entries.
func readSnapshotFile(t *testing.T, path string) []snapEntry {
	t.Helper()
	data := readFile(t, path)
	be := binary.BigEndian
	if len(data) < 10 {
		t.Fatalf("%s: %d bytes", path, len(data))
	}
	if v := be.Uint16(data); v != 1 {
		t.Fatalf("%s: version %d", path, v)
	}
	if crc, want := be.Uint32(data[2:]), crc32cOf(data[6:]); crc != want {
		t.Fatalf("%s: crc %08x, want %08x", path, crc, want)
	}
	n := int(be.Uint32(data[6:]))
	if len(data) != 10+46*n {
		t.Fatalf("%s: %d bytes for %d entries", path, len(data), n)
	}
	out := make([]snapEntry, n)
	for i := range out {
		p := data[10+46*i:]
		out[i] = snapEntry{
			pid:              int64(be.Uint64(p[0:])),
			epoch:            int16(be.Uint16(p[8:])),
			lastSeq:          int32(be.Uint32(p[10:])),
			lastOffset:       int64(be.Uint64(p[14:])),
			offsetDelta:      int32(be.Uint32(p[22:])),
			timestamp:        int64(be.Uint64(p[26:])),
			coordinatorEpoch: int32(be.Uint32(p[34:])),
			txnFirstOffset:   int64(be.Uint64(p[38:])),
		}
	}
	return out
}

func crc32cOf(b []byte) uint32 {
	var x [21]byte
	return crc32c(append(x[:], b...))
}

func snapPath(dir string, off int64) string { return filepath.Join(dir, segName(off, ".snapshot")) }

// snapshotsIn lists the snapshot offsets in dir.
func snapshotsIn(t *testing.T, dir string) []int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := []int64{}
	for _, e := range entries {
		var off int64
		if len(e.Name()) == 29 && filepath.Ext(e.Name()) == ".snapshot" {
			for _, c := range e.Name()[:20] {
				off = off*10 + int64(c-'0')
			}
			out = append(out, off)
		}
	}
	return out
}

// expectDuplicate appends b again and checks it is answered with the
// original offsets and nothing is written.
func expectDuplicate(t *testing.T, l *commitlog.Log, b []byte, first, last model.Offset) commitlog.AppendInfo {
	t.Helper()
	leo, size := l.LogEndOffset(), l.Size()
	info, err := l.AppendAsLeader(clone(b), 0, record.FromClient)
	if err != nil {
		t.Fatalf("retry refused: %v", err)
	}
	if !info.Duplicate || info.FirstOffset != first || info.LastOffset != last {
		t.Fatalf("retry: duplicate=%v offsets [%d, %d], want duplicate [%d, %d]", info.Duplicate, info.FirstOffset, info.LastOffset, first, last)
	}
	if l.LogEndOffset() != leo || l.Size() != size {
		t.Fatalf("retry written: LEO %d -> %d, size %d -> %d", leo, l.LogEndOffset(), size, l.Size())
	}
	return info
}

func TestProducerDuplicateAfterAppend(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	var batches [][]byte
	var firsts []model.Offset
	for i := 0; i < 7; i++ {
		b := idemBatch(t, 1000, 0, int32(3*i), 3, false, baseTime+int64(i))
		batches = append(batches, b)
		info := tl.appendLeader(clone(b), 0)
		if info.Duplicate {
			t.Fatalf("batch %d taken as a duplicate", i)
		}
		firsts = append(firsts, info.FirstOffset)
	}
	for i := 2; i < 7; i++ {
		info := expectDuplicate(t, tl.log, batches[i], firsts[i], firsts[i]+2)
		if info.LogAppendTime != baseTime+int64(i) {
			t.Fatalf("duplicate of a CreateTime batch: LogAppendTime %d, want its max timestamp %d (Kafka answers the original batch's timestamp)", info.LogAppendTime, baseTime+int64(i))
		}
	}
	// The sixth newest is forgotten: its sequence is now out of order.
	if _, err := tl.log.AppendAsLeader(clone(batches[1]), 0, record.FromClient); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("retry of an old batch: %v, want OUT_OF_ORDER_SEQUENCE_NUMBER", err)
	}
	// A coordinator's write is never a duplicate: it is checked as a new
	// batch (here its sequence is not checked, only its epoch).
	if info, err := tl.log.AppendAsLeader(clone(batches[6]), 0, record.FromCoordinator); err != nil || info.Duplicate {
		t.Fatalf("coordinator append: %+v %v", info, err)
	}
}

func TestProducerDuplicateLogAppendTime(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.TimestampType = record.LogAppendTime
	tl := newTestLog(t, cfg)
	b := idemBatch(t, 5, 0, 0, 2, false, baseTime)
	orig := tl.appendLeader(clone(b), 0)
	tl.clock.Advance(5000)
	info := expectDuplicate(t, tl.log, b, orig.FirstOffset, orig.LastOffset)
	if info.LogAppendTime != orig.LogAppendTime || orig.LogAppendTime != baseTime {
		t.Fatalf("duplicate LogAppendTime %d, original %d", info.LogAppendTime, orig.LogAppendTime)
	}
}

func TestProducerErrorsWriteNothing(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	tl.appendLeader(idemBatch(t, 7, 3, 0, 5, false, baseTime), 0)
	tl.appendLeader(idemBatch(t, 8, 0, 0, 1, true, baseTime), 0)
	for _, c := range []struct {
		name string
		b    []byte
		want error
	}{
		{"gap", idemBatch(t, 7, 3, 6, 1, false, baseTime), kerr.OutOfOrderSequenceNumber},
		{"new epoch not at 0", idemBatch(t, 7, 4, 5, 1, false, baseTime), kerr.OutOfOrderSequenceNumber},
		{"old epoch", idemBatch(t, 7, 2, 0, 1, false, baseTime), kerr.InvalidProducerEpoch},
		{"non-transactional inside a transaction", idemBatch(t, 8, 0, 1, 1, false, baseTime), kerr.InvalidTxnState},
	} {
		leo, size := tl.log.LogEndOffset(), tl.log.Size()
		if _, err := tl.log.AppendAsLeader(c.b, 0, record.FromClient); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if tl.log.LogEndOffset() != leo || tl.log.Size() != size {
			t.Errorf("%s: written", c.name)
		}
	}
	// Accepted ones.
	tl.appendLeader(idemBatch(t, 7, 3, 5, 1, false, baseTime), 0)
	tl.appendLeader(idemBatch(t, 7, 4, 0, 1, false, baseTime), 0)
	tl.appendLeader(idemBatch(t, 9, 0, 12345, 1, false, baseTime), 0) // unknown producer: any sequence
}

// Batches without a producer id leave the state empty; the snapshots are
// the empty 10-byte ones Kafka writes too.
func TestNonIdempotentBatchesSkipProducerState(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	tl.appendLeader(clientBatch(t, recs(3, baseTime)), 0)
	if err := tl.log.Roll(); err != nil {
		t.Fatal(err)
	}
	if got := tl.log.ActiveProducers(); len(got) != 0 {
		t.Fatalf("producers %+v", got)
	}
	if data := readFile(t, snapPath(tl.dir, 3)); len(data) != 10 || binary.BigEndian.Uint32(data[6:]) != 0 {
		t.Fatalf("snapshot at 3: %x", data)
	}
}

// The snapshot a roll writes, read byte by byte.
func TestProducerSnapshotAtRoll(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	tl.appendLeader(idemBatch(t, 1000, 2, 0, 5, false, baseTime+10), 0)   // offsets 0-4
	tl.appendLeader(clientBatch(t, recs(2, baseTime)), 0)                 // 5-6, no producer
	tl.appendLeader(idemBatch(t, 2000, 0, 7, 2, true, baseTime+20), 0)    // 7-8, opens a transaction
	tl.appendLeader(idemBatch(t, 1000, 2, 5, 3, false, baseTime+30), 0)   // 9-11
	tl.appendLeader(idemBatch(t, 3000, 1, 100, 1, false, baseTime+40), 0) // 12
	if err := tl.log.Roll(); err != nil {
		t.Fatal(err)
	}
	if got := snapshotsIn(t, tl.dir); !reflect.DeepEqual(got, []int64{13}) {
		t.Fatalf("snapshots %v, want [13]", got)
	}
	got := readSnapshotFile(t, snapPath(tl.dir, 13))
	// Kafka's HashMap order: 2000 & 15 = 0 first, then bucket 8 where 1000
	// and 3000 (both & 15 = 8) keep their insertion order.
	want := []snapEntry{
		{pid: 2000, epoch: 0, lastSeq: 8, lastOffset: 8, offsetDelta: 1, timestamp: baseTime + 20, coordinatorEpoch: -1, txnFirstOffset: 7},
		{pid: 1000, epoch: 2, lastSeq: 7, lastOffset: 11, offsetDelta: 2, timestamp: baseTime + 30, coordinatorEpoch: -1, txnFirstOffset: -1},
		{pid: 3000, epoch: 1, lastSeq: 100, lastOffset: 12, offsetDelta: 0, timestamp: baseTime + 40, coordinatorEpoch: -1, txnFirstOffset: -1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("snapshot entries\n got %+v\nwant %+v", got, want)
	}
	// The state is unchanged by the roll: the last batch is still a duplicate.
	expectDuplicate(t, tl.log, idemBatch(t, 1000, 2, 5, 3, false, baseTime+30), 9, 11)
}

// After a clean close and open the last batch of a producer is still a
// duplicate (the snapshot keeps only the newest batch of each producer, as
// Kafka's does), and the sequence continues.
func TestProducerStateAfterCleanRestart(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	b1 := idemBatch(t, 1000, 0, 0, 4, false, baseTime)
	b2 := idemBatch(t, 1000, 0, 4, 4, false, baseTime)
	tl.appendLeader(clone(b1), 0)
	tl.appendLeader(clone(b2), 0)
	if err := tl.log.Close(); err != nil {
		t.Fatal(err)
	}
	if got := snapshotsIn(t, tl.dir); !reflect.DeepEqual(got, []int64{8}) {
		t.Fatalf("snapshots after close %v, want [8]", got)
	}
	l := openLog(t, tl.dir, commitlog.Options{Config: tl.cfg, Now: tl.clock.Now, HadCleanShutdown: true})
	expectDuplicate(t, l, b2, 4, 7)
	if _, err := l.AppendAsLeader(clone(b1), 0, record.FromClient); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("older batch after restart: %v, want OUT_OF_ORDER_SEQUENCE_NUMBER", err)
	}
	if info, err := l.AppendAsLeader(idemBatch(t, 1000, 0, 8, 1, false, baseTime), 0, record.FromClient); err != nil || info.FirstOffset != 8 {
		t.Fatalf("next batch: %+v %v", info, err)
	}
}

// After a crash (no clean-shutdown marker, no snapshot at the end) the
// state is rebuilt from the snapshots of the rolls and the log after them.
func TestProducerStateAfterCrash(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 400
	tl := newTestLog(t, cfg)
	var last []byte
	var lastFirst model.Offset
	for i := 0; i < 12; i++ {
		last = idemBatch(t, 42, 1, int32(2*i), 2, false, baseTime)
		lastFirst = tl.appendLeader(clone(last), 0).FirstOffset
		tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	}
	if tl.log.NumSegments() < 3 {
		t.Fatalf("%d segments; want rolls", tl.log.NumSegments())
	}
	// The directory as a crash leaves it: copied while the log is open.
	crashed := rtCopyDir(t, tl.dir)
	if snaps := snapshotsIn(t, crashed); len(snaps) == 0 || snaps[len(snaps)-1] >= int64(tl.log.LogEndOffset()) {
		t.Fatalf("snapshots at the crash %v (LEO %d): want roll snapshots only", snaps, tl.log.LogEndOffset())
	}
	for _, rp := range []int64{0, int64(tl.log.SegmentBaseOffsets()[1]), int64(tl.log.LogEndOffset())} {
		dir := rtCopyDir(t, crashed)
		l := openLog(t, dir, commitlog.Options{Config: cfg, Now: tl.clock.Now, RecoveryPoint: rp})
		expectDuplicate(t, l, last, lastFirst, lastFirst+1)
		if info, err := l.AppendAsLeader(idemBatch(t, 42, 1, 24, 1, false, baseTime), 0, record.FromClient); err != nil || info.Duplicate {
			t.Fatalf("recovery point %d: next batch %+v %v", rp, info, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Without any snapshot the whole log is replayed.
	dir := rtCopyDir(t, crashed)
	for _, off := range snapshotsIn(t, dir) {
		os.Remove(snapPath(dir, off))
	}
	l := openLog(t, dir, commitlog.Options{Config: cfg, Now: tl.clock.Now})
	expectDuplicate(t, l, last, lastFirst, lastFirst+1)
}

// Unclean recovery leaves a snapshot at the end of each recovered segment,
// as Kafka's does, and a corrupt snapshot is dropped for an older one.
func TestProducerRecoverySnapshots(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 300
	tl := newTestLog(t, cfg)
	var last []byte
	var lastFirst model.Offset
	for i := 0; i < 9; i++ {
		last = idemBatch(t, 7, 0, int32(3*i), 3, false, baseTime)
		lastFirst = tl.appendLeader(clone(last), 0).FirstOffset
	}
	bases := tl.log.SegmentBaseOffsets()
	leo := int64(tl.log.LogEndOffset())
	crashed := rtCopyDir(t, tl.dir)
	// Corrupt the snapshot recovery starts from: the older one is used.
	os.WriteFile(snapPath(crashed, int64(bases[len(bases)-2])), []byte{0, 1, 0, 0}, 0o644)
	l := openLog(t, crashed, commitlog.Options{Config: cfg, Now: tl.clock.Now, RecoveryPoint: int64(bases[len(bases)-2])})
	expectDuplicate(t, l, last, lastFirst, lastFirst+2)
	got := snapshotsIn(t, crashed)
	want := []int64{}
	for _, b := range bases[1:] {
		want = append(want, int64(b))
	}
	want = append(want, leo)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("snapshots after recovery %v, want %v (segment bases and the LEO)", got, want)
	}
	entries := readSnapshotFile(t, snapPath(crashed, leo))
	if len(entries) != 1 || entries[0].lastSeq != 26 || entries[0].lastOffset != leo-1 {
		t.Fatalf("snapshot at the LEO %+v", entries)
	}
}

// A clean shutdown with no snapshot at all (a log written before producer
// state existed) writes empty snapshots at the last two segment bases and
// the log end offset instead of reading the log, as Kafka does.
func TestProducerCleanOpenWithoutSnapshots(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 300
	tl := newTestLog(t, cfg)
	for i := 0; i < 9; i++ {
		tl.appendLeader(idemBatch(t, 7, 0, int32(3*i), 3, false, baseTime), 0)
	}
	bases := tl.log.SegmentBaseOffsets()
	leo := int64(tl.log.LogEndOffset())
	tl.log.Close()
	for _, off := range snapshotsIn(t, tl.dir) {
		os.Remove(snapPath(tl.dir, off))
	}
	l := openLog(t, tl.dir, commitlog.Options{Config: cfg, Now: tl.clock.Now, HadCleanShutdown: true})
	want := []int64{int64(bases[len(bases)-2]), int64(bases[len(bases)-1]), leo}
	if got := snapshotsIn(t, tl.dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("snapshots %v, want %v", got, want)
	}
	for _, off := range want {
		if e := readSnapshotFile(t, snapPath(tl.dir, off)); len(e) != 0 {
			t.Fatalf("snapshot %d has %d entries", off, len(e))
		}
	}
	if got := l.ActiveProducers(); len(got) != 0 {
		t.Fatalf("producers %+v", got)
	}
}

// Truncation goes back to the state at the target: batches after it are
// forgotten (their sequences may come again), batches before it are still
// duplicates.
func TestProducerStateAfterTruncation(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 300
	tl := newTestLog(t, cfg)
	var bs [][]byte
	for i := 0; i < 9; i++ {
		b := idemBatch(t, 11, 0, int32(3*i), 3, false, baseTime)
		bs = append(bs, b)
		tl.appendLeader(clone(b), 0)
	}
	if tl.log.NumSegments() < 3 {
		t.Fatalf("%d segments", tl.log.NumSegments())
	}
	if _, err := tl.log.TruncateTo(15); err != nil { // keeps batches 0-4
		t.Fatal(err)
	}
	for _, off := range snapshotsIn(t, tl.dir) {
		if off > 15 {
			t.Fatalf("snapshot %d past the truncation point", off)
		}
	}
	if got := snapshotsIn(t, tl.dir); got[len(got)-1] != 15 {
		t.Fatalf("snapshots %v: want one at the truncation point", got)
	}
	expectDuplicate(t, tl.log, bs[4], 12, 14)
	info := tl.appendLeader(clone(bs[5]), 0)
	if info.Duplicate || info.FirstOffset != 15 {
		t.Fatalf("batch 5 after truncation: %+v", info)
	}
	// A follower that truncates and takes other batches from its leader.
	if _, err := tl.log.TruncateTo(6); err != nil {
		t.Fatal(err)
	}
	other := idemBatch(t, 11, 0, 6, 2, false, baseTime)
	spec := record.NewSpec()
	spec.BaseOffset, spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence = 6, 11, 0, 6
	tl.appendFollower(build(t, spec, recs(2, baseTime)))
	expectDuplicate(t, tl.log, other, 6, 7)
	// Truncating everything forgets every producer and snapshot.
	if err := tl.log.TruncateFullyAndStartAt(100); err != nil {
		t.Fatal(err)
	}
	if len(tl.log.ActiveProducers()) != 0 || len(snapshotsIn(t, tl.dir)) != 0 {
		t.Fatalf("after full truncation: producers %+v snapshots %v", tl.log.ActiveProducers(), snapshotsIn(t, tl.dir))
	}
}

// A follower's batches update the state without checks; a new leader then
// detects retries of them.
func TestProducerStateFromFollowerAppends(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	var chunk []byte
	for i := 0; i < 3; i++ {
		spec := record.NewSpec()
		spec.BaseOffset, spec.PartitionLeaderEpoch = int64(2*i), 0
		spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence = 77, 0, int32(10*i) // gaps: not checked
		chunk = append(chunk, build(t, spec, recs(2, baseTime))...)
	}
	tl.appendFollower(chunk)
	expectDuplicate(t, tl.log, idemBatch(t, 77, 0, 20, 2, false, baseTime), 4, 5)
	e, ok := tl.log.ProducerState(77)
	if !ok || e.LastSeq() != 21 || len(e.Batches()) != 3 {
		t.Fatalf("state %+v ok=%v", e, ok)
	}
}

// Retention deletes the snapshots at the bases of the deleted segments.
func TestProducerSnapshotsFollowRetention(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 300
	tl := newTestLog(t, cfg)
	for i := 0; i < 9; i++ {
		tl.appendLeader(idemBatch(t, 7, 0, int32(3*i), 3, false, baseTime), 0)
	}
	bases := tl.log.SegmentBaseOffsets()
	tl.log.SetHighWatermark(tl.log.LogEndOffset())
	if err := tl.log.IncrementLogStartOffset(bases[2]); err != nil {
		t.Fatal(err)
	}
	if _, err := tl.log.DeleteOldSegments(); err != nil {
		t.Fatal(err)
	}
	for _, off := range snapshotsIn(t, tl.dir) {
		if off < int64(bases[2]) {
			t.Fatalf("snapshot %d of a deleted segment kept", off)
		}
	}
	// The in-memory state is kept (Kafka does not prune it on retention).
	if _, ok := tl.log.ProducerState(7); !ok {
		t.Fatal("producer forgotten by retention")
	}
}

func TestProducerExpiry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "foo-0")
	clock := newFakeClock(baseTime)
	l := openLog(t, dir, commitlog.Options{Config: commitlog.DefaultConfig(), Now: clock.Now, HadCleanShutdown: true,
		ProducerIDExpirationMs: 60000, ProducerIDExpirationCheckIntervalMs: -1, Logger: zerolog.Nop()})
	b := idemBatch(t, 1, 0, 0, 1, false, baseTime)
	if _, err := l.AppendAsLeader(clone(b), 0, record.FromClient); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AppendAsLeader(idemBatch(t, 2, 0, 0, 1, true, baseTime), 0, record.FromClient); err != nil {
		t.Fatal(err)
	}
	clock.Set(baseTime + 59999)
	if n := l.RemoveExpiredProducers(); n != 0 {
		t.Fatalf("expired %d early", n)
	}
	clock.Set(baseTime + 60000)
	if n := l.RemoveExpiredProducers(); n != 1 {
		t.Fatalf("expired %d, want 1 (the one without a transaction)", n)
	}
	// Forgotten: the retry is no longer a duplicate, and any sequence goes.
	if info, err := l.AppendAsLeader(clone(b), 0, record.FromClient); err != nil || info.Duplicate {
		t.Fatalf("after expiry: %+v %v", info, err)
	}
}
