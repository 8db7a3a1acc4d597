package commitlog_test

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
)

// segment.bytes: roll before an append when size > segment.bytes - batch
// size. The new segment is named by the first offset of the batch.
func TestRollOnSegmentBytes(t *testing.T) {
	one := clientBatch(t, recs(1, baseTime))
	s := int64(len(one))
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 2 * s
	tl := newTestLog(t, cfg)
	for i := 0; i < 5; i++ {
		if info := tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0); info.FirstOffset != model.Offset(i) {
			t.Fatalf("append %d got offset %d", i, info.FirstOffset)
		}
	}
	checkBases(t, tl.log, 0, 2, 4)
	for _, seg := range []struct {
		base  int64
		size  int64
		first []int64
	}{{0, 2 * s, []int64{0, 1}}, {2, 2 * s, []int64{2, 3}}, {4, s, []int64{4}}} {
		if n := fileSize(t, tl.path(seg.base, ".log")); n != seg.size {
			t.Errorf("%s is %d bytes, want %d", segName(seg.base, ".log"), n, seg.size)
		}
		bs := batchesOfFile(t, tl.path(seg.base, ".log"))
		for i, b := range bs {
			if b.baseOffset != seg.first[i] {
				t.Errorf("%s batch %d has base offset %d, want %d", segName(seg.base, ".log"), i, b.baseOffset, seg.first[i])
			}
		}
	}
	mustExist(t, tl.path(2, ".index"), tl.path(2, ".timeindex"), tl.path(4, ".index"), tl.path(4, ".timeindex"))
}

// A follower's roll starts the new segment at the first offset of the
// incoming batch, even past the log end (UnifiedLog.maybeRoll).
func TestRollFollowerBaseIsFirstOffsetOfBatch(t *testing.T) {
	s := int64(len(replicaBatch(t, 0, 0, recs(1, baseTime))))
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 2 * s
	tl := newTestLog(t, cfg)
	tl.appendFollower(replicaBatch(t, 0, 0, recs(1, baseTime)))
	tl.appendFollower(replicaBatch(t, 1, 0, recs(1, baseTime)))
	tl.appendFollower(replicaBatch(t, 100, 0, recs(1, baseTime)))
	checkBases(t, tl.log, 0, 100)
	mustExist(t, tl.path(100, ".log"), tl.path(100, ".index"), tl.path(100, ".timeindex"))
	mustNotExist(t, tl.path(2, ".log"))
	bs := batchesOfFile(t, tl.path(100, ".log"))
	if len(bs) != 1 || bs[0].baseOffset != 100 {
		t.Fatalf("new segment holds %+v", bs)
	}
	if tl.log.LogEndOffset() != 101 {
		t.Fatalf("LEO = %d, want 101", tl.log.LogEndOffset())
	}
}

// segment.ms with record timestamps: the wait is the incoming batch's max
// timestamp minus the max timestamp of the segment's FIRST batch (not the
// segment's largest, not the base timestamp, not the wall clock), and the
// segment rolls only when it is strictly greater than segment.ms (jitter 0).
func TestRollOnSegmentMsUsesRecordTimestamps(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentMs = 1000
	cfg.SegmentJitterMs = 0
	tl := newTestLog(t, cfg)
	const T = baseTime
	// First batch: base timestamp T-500, max T.
	tl.appendLeader(clientBatch(t, recsAt(T-500, T)), 0)
	// The wall clock is irrelevant when records carry timestamps.
	tl.clock.Advance(100 * cfg.SegmentMs)
	tl.appendLeader(clientBatch(t, recsAt(T+900)), 0)  // 900 after the first batch
	tl.appendLeader(clientBatch(t, recsAt(T+1000)), 0) // exactly segment.ms: no roll
	checkBases(t, tl.log, 0)
	tl.appendLeader(clientBatch(t, recsAt(T+1001)), 0) // 1001 > 1000: roll
	checkBases(t, tl.log, 0, 4)
	if bs := batchesOfFile(t, tl.path(4, ".log")); len(bs) != 1 || bs[0].maxTS != T+1001 {
		t.Fatalf("new segment holds %+v", bs)
	}
	// The new segment measures from its own first batch (T+1001).
	tl.appendLeader(clientBatch(t, recsAt(T+2001)), 0)
	checkBases(t, tl.log, 0, 4)
	tl.appendLeader(clientBatch(t, recsAt(T+2002)), 0)
	checkBases(t, tl.log, 0, 4, 6)
}

// Without record timestamps the wait is measured on the broker clock from
// the segment's creation.
func TestRollOnSegmentMsWithoutTimestamps(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentMs = 1000
	tl := newTestLog(t, cfg)
	noTS := func() []byte { return clientBatch(t, recsAt(-1)) }
	tl.appendLeader(noTS(), 0)
	tl.clock.Advance(1000)
	tl.appendLeader(noTS(), 0)
	checkBases(t, tl.log, 0)
	tl.clock.Advance(1)
	tl.appendLeader(noTS(), 0)
	checkBases(t, tl.log, 0, 2)
}

// A full offset index rolls the segment. With segment.index.bytes = 44 the
// offset index holds 5 entries (40 bytes) and the time index 3 (36 bytes);
// after the roll the old indexes are trimmed to their entries and the new
// ones are preallocated to the rounded-down sizes.
func TestRollWhenOffsetIndexFull(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentIndexBytes = 44
	cfg.IndexIntervalBytes = 1
	tl := newTestLog(t, cfg)
	if a, b := fileSize(t, tl.path(0, ".index")), fileSize(t, tl.path(0, ".timeindex")); a != 40 || b != 36 {
		t.Fatalf("preallocated index sizes = %d, %d; want 40, 36", a, b)
	}
	s := int32(len(clientBatch(t, recs(1, baseTime))))
	// Equal timestamps keep the time index at one entry; every append after
	// the first adds an offset-index entry.
	for i := 0; i < 6; i++ {
		tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	}
	checkBases(t, tl.log, 0)
	tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	checkBases(t, tl.log, 0, 6)

	got := offsetIndexEntries(t, tl.path(0, ".index"))
	var want []offsetEntry
	for k := int32(1); k <= 5; k++ {
		want = append(want, offsetEntry{relOffset: k, position: k * s})
	}
	if len(got) != len(want) {
		t.Fatalf("old .index has %d entries %v, want %v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("old .index = %v, want %v", got, want)
		}
	}
	if te := timeIndexEntries(t, tl.path(0, ".timeindex")); len(te) != 1 || te[0] != (timeEntry{baseTime, 0}) {
		t.Fatalf("old .timeindex = %v, want [{%d 0}]", te, baseTime)
	}
	if a, b := fileSize(t, tl.path(6, ".index")), fileSize(t, tl.path(6, ".timeindex")); a != 40 || b != 36 {
		t.Fatalf("new segment's index sizes = %d, %d; want 40, 36", a, b)
	}
}

// The time index is full one entry early: its last slot is kept for the
// entry written when the segment becomes inactive (TimeIndex.isFull).
func TestRollWhenTimeIndexFull(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.SegmentIndexBytes = 36 // offset index: 4 entries; time index: 3, full at 2
	cfg.IndexIntervalBytes = 1
	tl := newTestLog(t, cfg)
	for i := int64(0); i < 3; i++ {
		tl.appendLeader(clientBatch(t, recs(1, baseTime+i)), 0)
	}
	checkBases(t, tl.log, 0)
	tl.appendLeader(clientBatch(t, recs(1, baseTime+3)), 0)
	checkBases(t, tl.log, 0, 3)
	if te := timeIndexEntries(t, tl.path(0, ".timeindex")); len(te) != 2 || te[0] != (timeEntry{baseTime + 1, 1}) || te[1] != (timeEntry{baseTime + 2, 2}) {
		t.Fatalf("old .timeindex = %v", te)
	}
	if oe := offsetIndexEntries(t, tl.path(0, ".index")); len(oe) != 2 {
		t.Fatalf("old .index = %v, want 2 entries", oe)
	}
}

// An append whose last offset is more than MaxInt32 past the active
// segment's base cannot be indexed there: roll at the batch's first offset.
func TestRollOnOffsetOverflow(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	tl.appendFollower(replicaBatch(t, 0, 0, recs(1, baseTime)))
	// Last offset exactly MaxInt32 past the base still fits.
	tl.appendFollower(replicaBatch(t, math.MaxInt32, 0, recs(1, baseTime)))
	checkBases(t, tl.log, 0)

	tl2 := newTestLog(t, commitlog.DefaultConfig())
	tl2.appendFollower(replicaBatch(t, 0, 0, recs(1, baseTime)))
	// First offset fits, last offset (2147483648) does not.
	first := int64(math.MaxInt32 - 1)
	tl2.appendFollower(replicaBatch(t, first, 0, recs(3, baseTime)))
	checkBases(t, tl2.log, 0, 2147483646)
	mustExist(t, tl2.path(0, ".log"))
	if got := segName(first, ".log"); got != "00000000002147483646.log" {
		t.Fatalf("segName = %s", got)
	}
	for _, name := range []string{"00000000002147483646.log", "00000000002147483646.index", "00000000002147483646.timeindex"} {
		mustExist(t, filepath.Join(tl2.dir, name))
	}
	if bs := batchesOfFile(t, tl2.path(first, ".log")); len(bs) != 1 || bs[0].baseOffset != first || bs[0].lastOffset != first+2 {
		t.Fatalf("new segment holds %+v", bs)
	}
	if tl2.log.LogEndOffset() != 2147483649 {
		t.Fatalf("LEO = %d", tl2.log.LogEndOffset())
	}
}

// With the default segment.index.bytes a new segment's indexes are
// preallocated to 10485760 and 10485756 bytes; the rolled segment's are
// trimmed to their entries, the time index holding the final entry.
func TestRollTrimsOldIndexesAndPreallocatesNew(t *testing.T) {
	s := int64(len(clientBatch(t, recs(2, baseTime))))
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 2 * s
	tl := newTestLog(t, cfg)
	if a, b := fileSize(t, tl.path(0, ".index")), fileSize(t, tl.path(0, ".timeindex")); a != defaultIndexFileSize || b != defaultTimeIndexFileSize {
		t.Fatalf("active segment's index sizes = %d, %d; want %d, %d", a, b, defaultIndexFileSize, defaultTimeIndexFileSize)
	}
	tl.appendLeader(clientBatch(t, recs(2, baseTime+7)), 0)
	tl.appendLeader(clientBatch(t, recs(2, baseTime+3)), 0)
	tl.appendLeader(clientBatch(t, recs(2, baseTime+9)), 0) // rolls at 4
	checkBases(t, tl.log, 0, 4)
	if n := fileSize(t, tl.path(0, ".index")); n != 0 {
		t.Fatalf("old .index is %d bytes, want 0 (no entries below index.interval.bytes)", n)
	}
	// Final entry: the segment's max timestamp and the last offset of the
	// batch holding it (the shallow offset).
	if te := timeIndexEntries(t, tl.path(0, ".timeindex")); len(te) != 1 || te[0] != (timeEntry{baseTime + 7, 1}) {
		t.Fatalf("old .timeindex = %v, want [{%d 1}]", te, baseTime+7)
	}
	if a, b := fileSize(t, tl.path(4, ".index")), fileSize(t, tl.path(4, ".timeindex")); a != defaultIndexFileSize || b != defaultTimeIndexFileSize {
		t.Fatalf("new segment's index sizes = %d, %d; want %d, %d", a, b, defaultIndexFileSize, defaultTimeIndexFileSize)
	}
	if n := fileSize(t, tl.path(4, ".log")); n != s {
		t.Fatalf("new .log is %d bytes, want %d", n, s)
	}
}

// The final time-index entry is added on roll only when the max timestamp
// grew since the last entry; it holds the offset of the batch's last record.
func TestRollWritesFinalTimeIndexEntry(t *testing.T) {
	big := clientBatch(t, recsAt(baseTime+100, baseTime+300, baseTime+200))
	small := clientBatch(t, recsAt(baseTime+250))
	cfg := commitlog.DefaultConfig()
	// An index entry before an append when more than len(small) bytes were
	// appended since the last one: after the 3-record batch, not after a
	// 1-record one.
	cfg.IndexIntervalBytes = len(small)
	tl := newTestLog(t, cfg)
	tl.appendLeader(big, 0)                                  // offsets 0..2, no entry (first append)
	tl.appendLeader(small, 0)                                // offset 3: entries (3, pos) and (T+300, 2)
	tl.appendLeader(clientBatch(t, recsAt(baseTime+500)), 0) // offset 4: no entry
	if err := tl.log.Roll(); err != nil {
		t.Fatal(err)
	}
	checkBases(t, tl.log, 0, 5)
	oe := offsetIndexEntries(t, tl.path(0, ".index"))
	if len(oe) != 1 || oe[0] != (offsetEntry{3, int32(len(big))}) {
		t.Fatalf(".index = %v, want [{3 %d}]", oe, len(big))
	}
	te := timeIndexEntries(t, tl.path(0, ".timeindex"))
	want := []timeEntry{{baseTime + 300, 2}, {baseTime + 500, 4}}
	if len(te) != 2 || te[0] != want[0] || te[1] != want[1] {
		t.Fatalf(".timeindex = %v, want %v", te, want)
	}
}

// Roll starts a segment at the log end; on an empty active segment with that
// base it replaces it, keeping one segment.
func TestRollExplicit(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	if err := tl.log.Roll(); err != nil {
		t.Fatal(err)
	}
	checkBases(t, tl.log, 0)
	mustExist(t, tl.path(0, ".log"), tl.path(0, ".index"), tl.path(0, ".timeindex"))
	tl.appendLeader(clientBatch(t, recs(3, baseTime)), 0)
	if err := tl.log.Roll(); err != nil {
		t.Fatal(err)
	}
	checkBases(t, tl.log, 0, 3)
	if info := tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0); info.FirstOffset != 3 {
		t.Fatalf("append after roll got offset %d", info.FirstOffset)
	}
	if bs := batchesOfFile(t, tl.path(3, ".log")); len(bs) != 1 || bs[0].baseOffset != 3 {
		t.Fatalf("new segment holds %+v", bs)
	}
}
