package commitlog_test

import (
	"bytes"
	"errors"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
)

// readLog is a log with three batches in one segment: [0..2], [3..4],
// [5..9], all below the high watermark.
type readLog struct {
	*testLog
	sizes [3]int
	file  []byte
}

func newReadLog(t *testing.T) *readLog {
	t.Helper()
	tl := newTestLog(t, commitlog.DefaultConfig())
	rl := &readLog{testLog: tl}
	for i, n := range []int{3, 2, 5} {
		b := clientBatch(t, recs(n, baseTime+int64(i)))
		rl.sizes[i] = len(b)
		tl.appendLeader(b, 1)
	}
	tl.log.SetHighWatermark(10)
	rl.file = readFile(t, tl.path(0, ".log"))
	return rl
}

// rangeBytes reads what a ReadResult points at.
func rangeBytes(t *testing.T, r commitlog.ReadResult) []byte {
	t.Helper()
	buf := make([]byte, r.Range.Size)
	if r.Range.Size == 0 {
		return buf
	}
	if _, err := r.Range.File.ReadAt(buf, r.Range.Position); err != nil {
		t.Fatalf("reading the range: %v", err)
	}
	return buf
}

func mustRead(t *testing.T, l *commitlog.Log, offset model.Offset, maxBytes int, bound model.Offset, minOne bool) commitlog.ReadResult {
	t.Helper()
	r, err := l.Read(offset, maxBytes, bound, minOne)
	if err != nil {
		t.Fatalf("Read(%d, %d, %d, %v): %v", offset, maxBytes, bound, minOne, err)
	}
	return r
}

// Reads return whole batches from the one holding the offset, as many as fit
// in maxBytes, and the bytes are the file's.
func TestReadWholeBatches(t *testing.T) {
	rl := newReadLog(t)
	s0, s1, s2 := rl.sizes[0], rl.sizes[1], rl.sizes[2]
	cases := []struct {
		offset   model.Offset
		maxBytes int
		pos      int
		size     int
		first    model.Offset
		next     model.Offset
	}{
		{0, s0 + s1 + s2, 0, s0 + s1 + s2, 0, 10},
		{0, s0 + s1 + s2 - 1, 0, s0 + s1, 0, 5},
		{0, s0 + s1 - 1, 0, s0, 0, 3},
		{0, math.MaxInt32, 0, s0 + s1 + s2, 0, 10},
		{1, s0, 0, s0, 0, 3},                   // offset inside the first batch: the whole batch
		{4, math.MaxInt32, s0, s1 + s2, 3, 10}, // inside the second
		{9, math.MaxInt32, s0 + s1, s2, 5, 10},
	}
	for _, c := range cases {
		r := mustRead(t, rl.log, c.offset, c.maxBytes, 10, true)
		if r.Range.Position != int64(c.pos) || r.Range.Size != int64(c.size) || r.FirstOffset != c.first || r.NextOffset != c.next || r.FirstBatchTooLarge {
			t.Errorf("Read(%d, max %d) = pos %d size %d first %d next %d tooLarge %v; want pos %d size %d first %d next %d",
				c.offset, c.maxBytes, r.Range.Position, r.Range.Size, r.FirstOffset, r.NextOffset, r.FirstBatchTooLarge, c.pos, c.size, c.first, c.next)
			continue
		}
		got := rangeBytes(t, r)
		if !bytes.Equal(got, rl.file[c.pos:c.pos+c.size]) {
			t.Errorf("Read(%d): range bytes differ from the .log bytes", c.offset)
		}
		parseBatches(t, got) // whole batches only
	}
	if r := mustRead(t, rl.log, 0, 100, 10, true); r.HighWatermark != 10 || r.LogEndOffset != 10 || r.LogStartOffset != 0 {
		t.Errorf("result offsets = HW %d, LEO %d, start %d", r.HighWatermark, r.LogEndOffset, r.LogStartOffset)
	}
}

// KIP-74: with minOneBatch the first batch comes back even when larger than
// maxBytes, flagged; without it, nothing comes back.
func TestReadFirstBatchTooLarge(t *testing.T) {
	rl := newReadLog(t)
	r := mustRead(t, rl.log, 0, 10, 10, true)
	if r.Range.Size != int64(rl.sizes[0]) || !r.FirstBatchTooLarge || r.NextOffset != 3 {
		t.Fatalf("minOneBatch: size %d, tooLarge %v, next %d; want %d, true, 3", r.Range.Size, r.FirstBatchTooLarge, r.NextOffset, rl.sizes[0])
	}
	if !bytes.Equal(rangeBytes(t, r), rl.file[:rl.sizes[0]]) {
		t.Fatalf("range bytes differ from the first batch")
	}
	r = mustRead(t, rl.log, 0, 10, 10, false)
	if r.Range.Size != 0 || !r.FirstBatchTooLarge {
		t.Fatalf("without minOneBatch: size %d, tooLarge %v; want 0, true", r.Range.Size, r.FirstBatchTooLarge)
	}
	// Exactly the first batch's size is not "too large".
	r = mustRead(t, rl.log, 0, rl.sizes[0], 10, false)
	if r.Range.Size != int64(rl.sizes[0]) || r.FirstBatchTooLarge {
		t.Fatalf("maxBytes = batch size: size %d, tooLarge %v", r.Range.Size, r.FirstBatchTooLarge)
	}
}

// No batch at or after the upper bound (high watermark for consumers, log
// end for followers) is returned; a bound inside a batch excludes that batch.
func TestReadUpperBound(t *testing.T) {
	rl := newReadLog(t)
	s0, s1 := int64(rl.sizes[0]), int64(rl.sizes[1])
	cases := []struct {
		offset, bound model.Offset
		size          int64
		next          model.Offset
	}{
		{0, 5, s0 + s1, 5},
		{0, 4, s0, 3}, // bound inside [3..4]
		{0, 3, s0, 3},
		{0, 1, 0, 0}, // bound inside the first batch: nothing
		{3, 4, 0, 3},
		{3, 5, s1, 5},
		{5, 5, 0, 5},
		{0, 100, s0 + s1 + int64(rl.sizes[2]), 10}, // bound past LEO is LEO
	}
	for _, c := range cases {
		for _, minOne := range []bool{true, false} {
			r := mustRead(t, rl.log, c.offset, math.MaxInt32, c.bound, minOne)
			if r.Range.Size != c.size {
				t.Errorf("Read(%d, bound %d, minOne %v): size %d, want %d", c.offset, c.bound, minOne, r.Range.Size, c.size)
			}
			if c.size > 0 && r.NextOffset != c.next {
				t.Errorf("Read(%d, bound %d): next %d, want %d", c.offset, c.bound, r.NextOffset, c.next)
			}
		}
	}
	// A consumer reading up to the high watermark.
	rl.log.SetHighWatermark(5)
	r := mustRead(t, rl.log, 0, math.MaxInt32, rl.log.HighWatermark(), true)
	if r.Range.Size != s0+s1 || r.HighWatermark != 5 {
		t.Fatalf("read to HW 5: size %d (want %d), HW %d", r.Range.Size, s0+s1, r.HighWatermark)
	}
	if bs := parseBatches(t, rangeBytes(t, r)); len(bs) != 2 || bs[1].lastOffset != 4 {
		t.Fatalf("read to HW returned %+v", bs)
	}
}

// Offsets below the log start or above the log end are OFFSET_OUT_OF_RANGE;
// the log end itself reads empty.
func TestReadOutOfRange(t *testing.T) {
	rl := newReadLog(t)
	if _, err := rl.log.Read(11, 1000, 10, true); !errors.Is(err, kerr.OffsetOutOfRange) {
		t.Fatalf("Read(LEO+1): error %v, want OFFSET_OUT_OF_RANGE", err)
	}
	r := mustRead(t, rl.log, 10, 1000, 10, true)
	if r.Range.Size != 0 {
		t.Fatalf("Read(LEO) returned %d bytes", r.Range.Size)
	}
	if err := rl.log.IncrementLogStartOffset(3); err != nil {
		t.Fatal(err)
	}
	for _, off := range []model.Offset{0, 2} {
		if _, err := rl.log.Read(off, 1000, 10, true); !errors.Is(err, kerr.OffsetOutOfRange) {
			t.Fatalf("Read(%d) below log start 3: error %v, want OFFSET_OUT_OF_RANGE", off, err)
		}
	}
	r = mustRead(t, rl.log, 3, math.MaxInt32, 10, true)
	if r.FirstOffset != 3 || r.Range.Position != int64(rl.sizes[0]) || r.LogStartOffset != 3 {
		t.Fatalf("Read(3) = first %d pos %d start %d", r.FirstOffset, r.Range.Position, r.LogStartOffset)
	}
}

// A read never spans segments; an offset past the last batch of a segment
// (a gap left by a follower, or the segment's end) continues in the next.
func TestReadAcrossSegments(t *testing.T) {
	s := int64(len(replicaBatch(t, 0, 0, recs(1, baseTime))))
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 2 * s
	tl := newTestLog(t, cfg)
	for _, off := range []int64{0, 1, 10, 11, 20} {
		tl.appendFollower(replicaBatch(t, off, 0, recs(1, baseTime)))
	}
	checkBases(t, tl.log, 0, 10, 20)
	tl.log.SetHighWatermark(21)
	seg10 := readFile(t, tl.path(10, ".log"))

	r := mustRead(t, tl.log, 0, math.MaxInt32, 21, true)
	if r.Range.Size != 2*s || r.NextOffset != 2 {
		t.Fatalf("Read(0): size %d next %d; want %d, 2 (first segment only)", r.Range.Size, r.NextOffset, 2*s)
	}
	for _, off := range []model.Offset{2, 5, 9, 10} {
		r := mustRead(t, tl.log, off, math.MaxInt32, 21, true)
		if r.FirstOffset != 10 || r.NextOffset != 12 || r.Range.Position != 0 || r.Range.Size != 2*s {
			t.Fatalf("Read(%d) = first %d next %d pos %d size %d; want the segment at 10", off, r.FirstOffset, r.NextOffset, r.Range.Position, r.Range.Size)
		}
		if !bytes.Equal(rangeBytes(t, r), seg10) {
			t.Fatalf("Read(%d): bytes are not segment 10's", off)
		}
	}
	if r := mustRead(t, tl.log, 12, math.MaxInt32, 21, true); r.FirstOffset != 20 || r.Range.Size != s {
		t.Fatalf("Read(12) = first %d size %d; want 20, %d", r.FirstOffset, r.Range.Size, s)
	}
	// Bounded by a high watermark inside the second segment.
	if r := mustRead(t, tl.log, 2, math.MaxInt32, 11, true); r.FirstOffset != 10 || r.NextOffset != 11 || r.Range.Size != s {
		t.Fatalf("Read(2, bound 11) = first %d next %d size %d", r.FirstOffset, r.NextOffset, r.Range.Size)
	}
	// Bounded at the second segment's base: nothing after 2 is readable.
	if r := mustRead(t, tl.log, 2, math.MaxInt32, 10, true); r.Range.Size != 0 {
		t.Fatalf("Read(2, bound 10) returned %d bytes", r.Range.Size)
	}
	if r := mustRead(t, tl.log, 21, math.MaxInt32, 21, true); r.Range.Size != 0 {
		t.Fatalf("Read(LEO) returned %d bytes", r.Range.Size)
	}
}

// ListOffsets by timestamp: the first offset (not the closest timestamp)
// whose record timestamp is >= the target, at or after the log start.
func TestFindOffsetByTimestamp(t *testing.T) {
	const T = baseTime
	tl := newTestLog(t, commitlog.DefaultConfig())
	tl.appendLeader(clientBatch(t, recsAt(T+100, T+200)), 0) // 0, 1
	tl.appendLeader(clientBatch(t, recsAt(T+150, T+300)), 0) // 2, 3
	tl.appendLeader(clientBatch(t, recsAt(T+400)), 0)        // 4
	if err := tl.log.Roll(); err != nil {
		t.Fatal(err)
	}
	tl.appendLeader(clientBatch(t, recsAt(T+500)), 0) // 5, second segment
	cases := []struct {
		ts     int64
		offset model.Offset
		found  int64 // timestamp; -1 = not found
	}{
		{0, 0, T + 100},
		{T + 100, 0, T + 100},
		{T + 101, 1, T + 200},
		{T + 150, 1, T + 200}, // offset 2 has T+150 but offset 1 comes first
		{T + 201, 3, T + 300},
		{T + 300, 3, T + 300},
		{T + 301, 4, T + 400},
		{T + 450, 5, T + 500},
		{T + 501, 0, -1},
	}
	for _, c := range cases {
		off, ts, found, err := tl.log.FindOffsetByTimestamp(c.ts)
		if err != nil {
			t.Fatalf("FindOffsetByTimestamp(%d): %v", c.ts, err)
		}
		if c.found < 0 {
			if found {
				t.Errorf("FindOffsetByTimestamp(T%+d) = %d, want not found", c.ts-T, off)
			}
			continue
		}
		if !found || off != c.offset || ts != c.found {
			t.Errorf("FindOffsetByTimestamp(T%+d) = (%d, T%+d, %v), want (%d, T%+d)", c.ts-T, off, ts-T, found, c.offset, c.found-T)
		}
	}
	tl.log.SetHighWatermark(6)
	if err := tl.log.IncrementLogStartOffset(1); err != nil {
		t.Fatal(err)
	}
	if off, ts, found, _ := tl.log.FindOffsetByTimestamp(0); !found || off != 1 || ts != T+200 {
		t.Fatalf("after log start 1: (%d, %d, %v), want (1, T+200)", off, ts, found)
	}
}
