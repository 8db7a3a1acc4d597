package commitlog_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/internal/faultfs"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

func ftOpen(t *testing.T, cfg commitlog.Config, fs *faultfs.FS) (*commitlog.Log, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "fault-0")
	l, err := commitlog.Open(dir, commitlog.Options{Config: cfg, FS: fs, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, dir
}

func ftIsStorageError(err error) bool {
	var se *segment.StorageError
	return errors.As(err, &se)
}

// A failed write is reported as a storage error, nothing is counted as
// appended, and the log refuses everything afterwards with
// KAFKA_STORAGE_ERROR instead of trying the disk again.
func TestFailedWriteTakesLogOffline(t *testing.T) {
	fs := faultfs.New()
	l, dir := ftOpen(t, commitlog.DefaultConfig(), fs)
	if _, err := l.AppendAsLeader(rtBatch(t, 0, 50), 0, record.FromClient); err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(dir, segment.FileName(0, segment.LogSuffix))
	before, _ := os.Stat(logPath)
	fs.Fail(faultfs.Write, segment.LogSuffix, syscall.ENOSPC)

	_, err := l.AppendAsLeader(rtBatch(t, 1, 50), 0, record.FromClient)
	if !ftIsStorageError(err) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want a storage error wrapping ENOSPC", err)
	}
	if l.LogEndOffset() != 2 {
		t.Fatalf("log end offset %d after a failed write, want 2", l.LogEndOffset())
	}
	if after, _ := os.Stat(logPath); after.Size() != before.Size() {
		t.Fatalf(".log grew from %d to %d bytes on a failed write", before.Size(), after.Size())
	}
	fs.Heal()
	_, err = l.AppendAsLeader(rtBatch(t, 2, 50), 0, record.FromClient)
	if !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("append after a storage error: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if _, err := l.Read(0, 1000, 10, true); !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("read after a storage error: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if l.Err() == nil {
		t.Fatal("Err() is nil on an offline log")
	}
	if fs.Hits(faultfs.Write) != 1 {
		t.Fatalf("%d failed writes: the failure was retried", fs.Hits(faultfs.Write))
	}
}

// A failed fsync (flush.messages=1 forces one per append) is a storage
// error, never retried.
func TestFailedFsyncTakesLogOffline(t *testing.T) {
	fs := faultfs.New()
	cfg := commitlog.DefaultConfig()
	cfg.FlushMessages = 1
	l, _ := ftOpen(t, cfg, fs)
	if _, err := l.AppendAsLeader(rtBatch(t, 0, 50), 0, record.FromClient); err != nil {
		t.Fatal(err)
	}
	if got := l.RecoveryPoint(); got != 2 {
		t.Fatalf("flush.messages=1: recovery point %d, want 2", got)
	}
	fs.Fail(faultfs.Sync, segment.LogSuffix, syscall.EIO)
	_, err := l.AppendAsLeader(rtBatch(t, 1, 50), 0, record.FromClient)
	if !ftIsStorageError(err) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("append with a failing fsync: %v, want a storage error wrapping EIO", err)
	}
	if got := l.RecoveryPoint(); got != 2 {
		t.Fatalf("recovery point moved to %d past a failed fsync", got)
	}
	if _, err := l.AppendAsLeader(rtBatch(t, 2, 50), 0, record.FromClient); !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("append after a failed fsync: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if n := fs.Hits(faultfs.Sync); n != 1 {
		t.Fatalf("fsync failed %d times: it was retried", n)
	}
}

// The fsync that follows a roll runs off the append path; when it fails the
// log still goes offline and the recovery point stays below the roll.
func TestFailedRollFlushTakesLogOffline(t *testing.T) {
	fs := faultfs.New()
	cfg := commitlog.DefaultConfig()
	cfg.SegmentBytes = 500
	l, _ := ftOpen(t, cfg, fs)
	fs.Fail(faultfs.Sync, segment.FileName(0, segment.LogSuffix), syscall.EIO)
	for i := 0; i < 3; i++ {
		if _, err := l.AppendAsLeader(rtBatch(t, i, 300), 0, record.FromClient); err != nil && !errors.Is(err, kerr.KafkaStorageError) {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for l.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond) // polling the asynchronous flusher
	}
	if !ftIsStorageError(l.Err()) {
		t.Fatalf("Err() = %v after the roll flush failed, want a storage error", l.Err())
	}
	if got := l.RecoveryPoint(); got != 0 {
		t.Fatalf("recovery point %d after a failed flush, want 0", got)
	}
}

// Checkpoint files are written through a temp file and a rename; a failed
// rename is a storage error and leaves the old file in place.
func TestFailedCheckpointWriteKeepsOldFile(t *testing.T) {
	fs := faultfs.New()
	dir := t.TempDir()
	path := filepath.Join(dir, commitlog.RecoveryPointCheckpoint)
	tp := model.TopicPartition{Topic: "foo", Partition: 0}
	if err := commitlog.WriteOffsetCheckpoint(fs, path, map[model.TopicPartition]int64{tp: 5}); err != nil {
		t.Fatal(err)
	}
	fs.Fail(faultfs.Rename, ".tmp", syscall.EIO)
	err := commitlog.WriteOffsetCheckpoint(fs, path, map[model.TopicPartition]int64{tp: 9})
	if !ftIsStorageError(err) {
		t.Fatalf("checkpoint with a failing rename: %v, want a storage error", err)
	}
	got, err := commitlog.ReadOffsetCheckpoint(path)
	if err != nil || got[tp] != 5 {
		t.Fatalf("checkpoint after a failed write: %v %v, want the old value 5", got, err)
	}
	fs.Heal()
	fs.Fail(faultfs.Sync, ".tmp", syscall.EIO)
	if err := commitlog.WriteOffsetCheckpoint(fs, path, map[model.TopicPartition]int64{tp: 9}); !ftIsStorageError(err) {
		t.Fatalf("checkpoint with a failing fsync: %v, want a storage error", err)
	}
	if got, _ := commitlog.ReadOffsetCheckpoint(path); got[tp] != 5 {
		t.Fatalf("a checkpoint whose fsync failed replaced the old one: %v", got)
	}
}

// A snapshot that cannot be written at a roll is a storage error like any
// other write: the log goes offline.
func TestFailedSnapshotWriteTakesLogOffline(t *testing.T) {
	fs := faultfs.New()
	l, _ := ftOpen(t, commitlog.DefaultConfig(), fs)
	if _, err := l.AppendAsLeader(rtBatch(t, 0, 50), 0, record.FromClient); err != nil {
		t.Fatal(err)
	}
	fs.Fail(faultfs.Write, commitlog.SnapshotSuffix, syscall.ENOSPC)
	if err := l.Roll(); !ftIsStorageError(err) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("roll with a failing snapshot write: %v, want a storage error wrapping ENOSPC", err)
	}
	fs.Heal()
	if _, err := l.AppendAsLeader(rtBatch(t, 1, 50), 0, record.FromClient); !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("append after the failed snapshot: %v, want KAFKA_STORAGE_ERROR", err)
	}
}
