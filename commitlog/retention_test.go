package commitlog_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
)

// retLog builds a log with one 2-record batch per segment: segment 2i holds
// offsets 2i, 2i+1 with record timestamp ts[i] and leader epoch i+1. The
// high watermark is not set (0) unless the test sets it.
func retLog(t *testing.T, cfg commitlog.Config, ts ...int64) *testLog {
	t.Helper()
	mk := func(i int) []record.NewRecord { return recs(2, ts[i]) }
	cfg.SegmentBytes = int64(len(clientBatch(t, mk(0)))) // each append after the first rolls
	tl := newTestLog(t, cfg)
	for i := range ts {
		tl.appendLeader(clientBatch(t, mk(i)), model.LeaderEpoch(i+1))
	}
	want := make([]model.Offset, len(ts))
	for i := range want {
		want[i] = model.Offset(2 * i)
	}
	checkBases(t, tl.log, want...)
	// Fix the recovery point at the log end so the asynchronous flush after
	// each roll cannot race the assertions.
	if err := tl.log.FlushAll(); err != nil {
		t.Fatal(err)
	}
	return tl
}

func deleteOld(t *testing.T, l *commitlog.Log, want int) {
	t.Helper()
	n, err := l.DeleteOldSegments()
	if err != nil {
		t.Fatalf("DeleteOldSegments: %v", err)
	}
	if n != want {
		t.Fatalf("DeleteOldSegments deleted %d segments, want %d", n, want)
	}
}

// checkSegmentDeleted checks the files of a deleted segment were renamed
// *.deleted (and still exist).
func checkSegmentDeleted(t *testing.T, tl *testLog, base int64) {
	t.Helper()
	for _, suf := range segSuffixes {
		mustNotExist(t, tl.path(base, suf))
		mustExist(t, tl.path(base, suf+".deleted"))
	}
}

func checkSegmentLive(t *testing.T, tl *testLog, base int64) {
	t.Helper()
	for _, suf := range segSuffixes {
		mustExist(t, tl.path(base, suf))
	}
}

// retention.ms compares the clock with each segment's largest record
// timestamp, strictly: now - largest > retention.ms.
func TestRetentionByTime(t *testing.T) {
	const T = baseTime
	cfg := commitlog.DefaultConfig()
	cfg.RetentionMs = 1000
	tl := retLog(t, cfg, T, T+100, T+5000, T+5100)
	tl.log.SetHighWatermark(8)
	seg0 := readFile(t, tl.path(0, ".log"))

	tl.clock.Set(T + 1100) // segment 0: 1100 > 1000; segment 2: 1000, not > 1000
	deleteOld(t, tl.log, 1)
	checkBases(t, tl.log, 2, 4, 6)
	checkSegmentDeleted(t, tl, 0)
	checkSegmentLive(t, tl, 2)
	if got := readFile(t, tl.path(0, ".log.deleted")); !bytes.Equal(got, seg0) {
		t.Fatalf("renamed .log differs from the segment")
	}
	if tl.log.LogStartOffset() != 2 {
		t.Fatalf("log start = %d, want 2 (first remaining base)", tl.log.LogStartOffset())
	}

	tl.clock.Set(T + 1101)
	deleteOld(t, tl.log, 1)
	checkBases(t, tl.log, 4, 6)
	checkSegmentDeleted(t, tl, 2)
	checkOffsets(t, tl.log, 8, 8, 4, 8)
	checkEpochs(t, tl.log.EpochEntries(), ep(3, 4), ep(4, 6))
	if got, want := string(readFile(t, filepath.Join(tl.dir, commitlog.LeaderEpochCheckpoint))), "0\n2\n3 4\n4 6\n"; got != want {
		t.Fatalf("leader-epoch-checkpoint = %q, want %q", got, want)
	}
	if _, err := tl.log.Read(3, 1000, 8, true); !errors.Is(err, kerr.OffsetOutOfRange) {
		t.Fatalf("reading a deleted offset: %v, want OFFSET_OUT_OF_RANGE", err)
	}

	// Physically removed only after file.delete.delay.ms, counted from each
	// deletion.
	tl.clock.Set(T + 1100 + cfg.FileDeleteDelayMs)
	if n, err := tl.log.RemoveDeletedFiles(); err != nil || n != 1 {
		t.Fatalf("RemoveDeletedFiles = %d, %v; want 1 still pending", n, err)
	}
	for _, suf := range segSuffixes {
		mustNotExist(t, tl.path(0, suf+".deleted"))
	}
	checkSegmentDeleted(t, tl, 2)
	tl.clock.Advance(1)
	if n, err := tl.log.RemoveDeletedFiles(); err != nil || n != 0 {
		t.Fatalf("RemoveDeletedFiles = %d, %v; want 0 pending", n, err)
	}
	if d := filesWithSuffix(t, tl.dir, ".deleted"); len(d) != 0 {
		t.Fatalf("left over: %v", d)
	}
	checkSegmentLive(t, tl, 4)
	checkSegmentLive(t, tl, 6)
}

// Deletion walks from the oldest segment and stops at the first one that
// does not qualify, even if later ones would.
func TestRetentionStopsAtFirstNonQualifyingSegment(t *testing.T) {
	const T = baseTime
	cfg := commitlog.DefaultConfig()
	cfg.RetentionMs = 1000
	tl := retLog(t, cfg, T, T+5000, T, T)
	tl.log.SetHighWatermark(8)
	tl.clock.Set(T + 2000)
	deleteOld(t, tl.log, 1)
	checkBases(t, tl.log, 2, 4, 6)
	checkSegmentLive(t, tl, 4)
}

// A segment is deleted only when its upper bound (the next segment's base)
// is at or below the high watermark.
func TestRetentionNeverPassesHighWatermark(t *testing.T) {
	const T = baseTime
	cfg := commitlog.DefaultConfig()
	cfg.RetentionMs = 1000
	tl := retLog(t, cfg, T, T, T, T)
	tl.clock.Set(T + 10000)
	deleteOld(t, tl.log, 0) // HW 0
	tl.log.SetHighWatermark(3)
	deleteOld(t, tl.log, 1) // segment 0 ends at 2 <= 3; segment 2 ends at 4 > 3
	checkBases(t, tl.log, 2, 4, 6)
	tl.log.SetHighWatermark(4)
	deleteOld(t, tl.log, 1)
	checkBases(t, tl.log, 4, 6)
	checkSegmentDeleted(t, tl, 2)
}

// When every segment is deletable Kafka rolls first, so the log keeps an
// (empty) active segment at the log end; that segment is never deleted.
func TestRetentionRollsWhenEverySegmentIsDeletable(t *testing.T) {
	const T = baseTime
	cfg := commitlog.DefaultConfig()
	cfg.RetentionMs = 1000
	tl := retLog(t, cfg, T, T, T, T)
	tl.log.SetHighWatermark(8)
	// Far enough ahead that even an empty segment's file mtime is old.
	tl.clock.Set(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	deleteOld(t, tl.log, 4)
	checkBases(t, tl.log, 8)
	for _, base := range []int64{0, 2, 4, 6} {
		checkSegmentDeleted(t, tl, base)
	}
	if n := fileSize(t, tl.path(8, ".log")); n != 0 {
		t.Fatalf("new active segment is %d bytes", n)
	}
	if a, b := fileSize(t, tl.path(8, ".index")), fileSize(t, tl.path(8, ".timeindex")); a != defaultIndexFileSize || b != defaultTimeIndexFileSize {
		t.Fatalf("new active segment's index sizes %d, %d", a, b)
	}
	checkOffsets(t, tl.log, 8, 8, 8, 8)
	checkEpochs(t, tl.log.EpochEntries(), ep(4, 8))
	// The rolled segment's final time-index entry was written before it was
	// renamed.
	if te := timeIndexEntries(t, tl.path(6, ".timeindex.deleted")); len(te) != 1 || te[0] != (timeEntry{T, 1}) {
		t.Fatalf("segment 6 .timeindex = %v, want [{T 1}]", te)
	}

	deleteOld(t, tl.log, 0)
	checkBases(t, tl.log, 8)
	if info := tl.appendLeader(clientBatch(t, recs(2, T)), 5); info.FirstOffset != 8 {
		t.Fatalf("append got offset %d, want 8", info.FirstOffset)
	}
}

// retention.bytes: delete the oldest segments while the excess still covers
// a whole segment.
func TestRetentionBySize(t *testing.T) {
	const T = baseTime
	cfg := commitlog.DefaultConfig()
	cfg.RetentionMs = -1
	tl := retLog(t, cfg, T, T, T, T)
	cfg = tl.log.Config()
	s := fileSize(t, tl.path(0, ".log"))
	tl.log.SetHighWatermark(8)
	if total := tl.log.Size(); total != 4*s {
		t.Fatalf("log size %d, want %d", total, 4*s)
	}

	cfg.RetentionBytes = 2*s + 1 // excess 2s-1 covers one segment
	tl.log.SetConfig(cfg)
	deleteOld(t, tl.log, 1)
	checkBases(t, tl.log, 2, 4, 6)

	cfg.RetentionBytes = s // excess 2s covers two
	tl.log.SetConfig(cfg)
	deleteOld(t, tl.log, 2)
	checkBases(t, tl.log, 6)
	checkSegmentDeleted(t, tl, 2)
	checkSegmentDeleted(t, tl, 4)
	if tl.log.LogStartOffset() != 6 {
		t.Fatalf("log start = %d, want 6", tl.log.LogStartOffset())
	}
	deleteOld(t, tl.log, 0) // exactly at retention.bytes
}

// The log start offset (DeleteRecords, or a follower following its leader)
// deletes the segments wholly below it, with or without cleanup.policy
// delete; the log start itself does not move back to the segment base.
func TestRetentionByLogStartOffset(t *testing.T) {
	const T = baseTime
	cfg := commitlog.DefaultConfig()
	cfg.RetentionMs = -1
	tl := retLog(t, cfg, T, T, T, T)
	tl.log.SetHighWatermark(8)
	if err := tl.log.IncrementLogStartOffset(9); !errors.Is(err, kerr.OffsetOutOfRange) {
		t.Fatalf("log start past the HW: %v, want OFFSET_OUT_OF_RANGE", err)
	}
	if err := tl.log.IncrementLogStartOffset(5); err != nil {
		t.Fatal(err)
	}
	checkBases(t, tl.log, 0, 2, 4, 6) // nothing deleted yet
	checkSegmentLive(t, tl, 0)
	if _, err := tl.log.Read(4, 1000, 8, true); !errors.Is(err, kerr.OffsetOutOfRange) {
		t.Fatalf("Read(4) below log start 5: %v", err)
	}
	deleteOld(t, tl.log, 2)
	checkBases(t, tl.log, 4, 6)
	checkSegmentDeleted(t, tl, 0)
	checkSegmentDeleted(t, tl, 2)
	if tl.log.LogStartOffset() != 5 {
		t.Fatalf("log start = %d, want 5", tl.log.LogStartOffset())
	}
	checkEpochs(t, tl.log.EpochEntries(), ep(3, 5), ep(4, 6))
	// Moving it backwards is a no-op.
	if err := tl.log.IncrementLogStartOffset(1); err != nil || tl.log.LogStartOffset() != 5 {
		t.Fatalf("IncrementLogStartOffset(1) = %v, start %d", err, tl.log.LogStartOffset())
	}
}

// cleanup.policy=compact only: retention.ms and retention.bytes do not
// apply, the log start offset does.
func TestRetentionCompactedTopicOnlyLogStart(t *testing.T) {
	const T = baseTime
	cfg := commitlog.DefaultConfig()
	cfg.CleanupDelete = false
	cfg.CleanupCompact = true
	cfg.RetentionMs = 0
	cfg.RetentionBytes = 0
	tl := retLog(t, cfg, T, T, T, T)
	tl.log.SetHighWatermark(8)
	tl.clock.Set(T + 1_000_000)
	deleteOld(t, tl.log, 0)
	if err := tl.log.IncrementLogStartOffset(4); err != nil {
		t.Fatal(err)
	}
	deleteOld(t, tl.log, 2)
	checkBases(t, tl.log, 4, 6)
}

// A segment without record timestamps is aged by its .log file's mtime.
func TestRetentionByFileMtimeWithoutTimestamps(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.RetentionMs = 1000
	tl := retLog(t, cfg, -1, -1, -1)
	tl.log.SetHighWatermark(6)
	old := time.UnixMilli(baseTime)
	for _, base := range []int64{0, 2} {
		if err := os.Chtimes(tl.path(base, ".log"), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// Segment 4's mtime is the real now, far after the fake clock.
	tl.clock.Set(baseTime + 1000)
	deleteOld(t, tl.log, 0)
	tl.clock.Set(baseTime + 1001)
	deleteOld(t, tl.log, 2)
	checkBases(t, tl.log, 4)
	checkSegmentLive(t, tl, 4)
}
