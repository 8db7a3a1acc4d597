package commitlog_test

import (
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
)

// flush.messages = N: after an append leaves N or more messages above the
// recovery point the log is fsynced and the recovery point moves to the log
// end (UnifiedLog.append: unflushedMessages >= flushInterval).
func TestFlushMessages(t *testing.T) {
	fs := newSyncCountFS()
	cfg := commitlog.DefaultConfig()
	cfg.FlushMessages = 3
	tl := newTestLogFS(t, cfg, fs)
	logName := segName(0, ".log")

	tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	if rp := tl.log.RecoveryPoint(); rp != 0 {
		t.Fatalf("recovery point = %d after 2 messages, want 0", rp)
	}
	if n := fs.Syncs(logName); n != 0 {
		t.Fatalf(".log fsynced %d times before flush.messages was reached", n)
	}
	tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	if rp := tl.log.RecoveryPoint(); rp != 3 {
		t.Fatalf("recovery point = %d after 3 messages, want 3", rp)
	}
	if n := fs.Syncs(logName); n != 1 {
		t.Fatalf(".log fsynced %d times, want 1", n)
	}
	// A batch of 4 records crosses the threshold by itself.
	tl.appendLeader(clientBatch(t, recs(4, baseTime)), 0)
	if rp := tl.log.RecoveryPoint(); rp != 7 {
		t.Fatalf("recovery point = %d, want 7", rp)
	}
	if n := fs.Syncs(logName); n != 2 {
		t.Fatalf(".log fsynced %d times, want 2", n)
	}
}

// Flush(offset) fsyncs and moves the recovery point to offset (clamped to
// the log end), never backwards.
func TestFlushToOffset(t *testing.T) {
	fs := newSyncCountFS()
	tl := newTestLogFS(t, commitlog.DefaultConfig(), fs)
	for i := 0; i < 5; i++ {
		tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	}
	if rp := tl.log.RecoveryPoint(); rp != 0 {
		t.Fatalf("recovery point = %d with default flush settings, want 0", rp)
	}
	if err := tl.log.Flush(2); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != 2 {
		t.Fatalf("recovery point = %d, want 2", rp)
	}
	if n := fs.Syncs(segName(0, ".log")); n != 1 {
		t.Fatalf(".log fsynced %d times, want 1", n)
	}
	if err := tl.log.Flush(1); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != 2 {
		t.Fatalf("recovery point went back to %d", rp)
	}
	if err := tl.log.Flush(100); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != 5 {
		t.Fatalf("recovery point = %d, want the log end 5", rp)
	}
}

// After a roll the old segment is fsynced off the append path and the
// recovery point reaches the new segment's base.
func TestFlushAfterRoll(t *testing.T) {
	fs := newSyncCountFS()
	s := int64(len(clientBatch(t, recs(1, baseTime))))
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 2 * s
	tl := newTestLogFS(t, cfg, fs)
	for i := 0; i < 3; i++ {
		tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	}
	checkBases(t, tl.log, 0, 2)
	waitFor(t, "recovery point 2 after the roll", func() bool { return tl.log.RecoveryPoint() == 2 })
	if n := fs.Syncs(segName(0, ".log")); n < 1 {
		t.Fatalf("rolled segment's .log was not fsynced")
	}
	if n := fs.Syncs(segName(2, ".log")); n != 0 {
		t.Fatalf("active segment fsynced %d times by the roll", n)
	}
	for i := 0; i < 2; i++ {
		tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	}
	checkBases(t, tl.log, 0, 2, 4)
	waitFor(t, "recovery point 4 after the second roll", func() bool { return tl.log.RecoveryPoint() == 4 })
}

// A roll after the log was truncated below an earlier roll point must still
// move the recovery point to the new base (Kafka schedules
// flushUptoOffsetExclusive(newBase) for each roll).
func TestFlushAfterRollFollowingTruncation(t *testing.T) {
	s := int64(len(clientBatch(t, recs(1, baseTime))))
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 2 * s
	tl := newTestLog(t, cfg)
	for i := 0; i < 5; i++ {
		tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	}
	checkBases(t, tl.log, 0, 2, 4)
	waitFor(t, "recovery point 4", func() bool { return tl.log.RecoveryPoint() == 4 })
	if _, err := tl.log.TruncateTo(1); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != 1 {
		t.Fatalf("recovery point = %d after truncation to 1", rp)
	}
	tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0) // offset 1, segment 0 now full
	tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0) // offset 2, rolls at 2
	checkBases(t, tl.log, 0, 2)
	waitFor(t, "recovery point 2 after the roll at 2", func() bool { return tl.log.RecoveryPoint() == 2 })
}

// flush.ms: FlushIfDue (the kafka-log-flusher task) flushes when at least
// flush.ms passed since the last flush and something is unflushed.
func TestFlushIfDue(t *testing.T) {
	fs := newSyncCountFS()
	cfg := commitlog.DefaultConfig()
	cfg.FlushMs = 1000
	tl := newTestLogFS(t, cfg, fs)
	tl.appendLeader(clientBatch(t, recs(3, baseTime)), 0)
	tl.clock.Advance(999)
	if err := tl.log.FlushIfDue(); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != 0 {
		t.Fatalf("flushed after 999 ms: recovery point %d", rp)
	}
	if n := fs.Syncs(segName(0, ".log")); n != 0 {
		t.Fatalf(".log fsynced %d times before flush.ms", n)
	}
	tl.clock.Advance(1)
	if err := tl.log.FlushIfDue(); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != 3 {
		t.Fatalf("recovery point = %d after flush.ms, want 3", rp)
	}
	if n := fs.Syncs(segName(0, ".log")); n != 1 {
		t.Fatalf(".log fsynced %d times, want 1", n)
	}
	// The last flush time moved: another append waits a full flush.ms again.
	tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	tl.clock.Advance(999)
	if err := tl.log.FlushIfDue(); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != 3 {
		t.Fatalf("flushed 999 ms after the last flush: recovery point %d", rp)
	}
	tl.clock.Advance(1)
	if err := tl.log.FlushIfDue(); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != 4 {
		t.Fatalf("recovery point = %d, want 4", rp)
	}
	// Default flush.ms (Long.MAX_VALUE) never flushes.
	tl.clock.Advance(1 << 40)
	tl.log.SetConfig(commitlog.DefaultConfig())
	tl.appendLeader(clientBatch(t, recs(1, baseTime)), 0)
	if err := tl.log.FlushIfDue(); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != 4 {
		t.Fatalf("default flush.ms flushed: recovery point %d", rp)
	}
}

// flush.ms = 0 is valid in Kafka (atLeast(0)) and means "flush at every
// check": LogManager.flushDirtyLogs flushes when timeSinceLastFlush >=
// flushMs.
func TestFlushIfDueZeroFlushMs(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.FlushMs = 0
	tl := newTestLog(t, cfg)
	tl.appendLeader(clientBatch(t, recs(2, baseTime)), 0)
	if err := tl.log.FlushIfDue(); err != nil {
		t.Fatal(err)
	}
	if rp := tl.log.RecoveryPoint(); rp != model.Offset(2) {
		t.Fatalf("recovery point = %d with flush.ms=0, want 2", rp)
	}
}

// Close fsyncs everything and the log refuses work afterwards.
func TestFlushOnClose(t *testing.T) {
	fs := newSyncCountFS()
	tl := newTestLogFS(t, commitlog.DefaultConfig(), fs)
	tl.appendLeader(clientBatch(t, recs(2, baseTime)), 0)
	if err := tl.log.Close(); err != nil {
		t.Fatal(err)
	}
	if n := fs.Syncs(segName(0, ".log")); n < 1 {
		t.Fatalf(".log not fsynced on close")
	}
	if rp := tl.log.RecoveryPoint(); rp != 2 {
		t.Fatalf("recovery point = %d after close, want 2", rp)
	}
	if _, err := tl.log.AppendAsLeader(clientBatch(t, recs(1, baseTime)), 0, record.FromClient); err == nil {
		t.Fatalf("append after close accepted")
	}
	if err := tl.log.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
