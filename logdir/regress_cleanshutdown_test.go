package logdir_test

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/internal/faultfs"
	"github.com/kbroker/kbroker/logdir"
	"github.com/kbroker/kbroker/record"
)

// A log taken offline by a failed fsync on the produce path (not by one of
// the directory's own tasks) never reaches Dir.offline: Log.Close skips the
// flush of a failed log and returns nil, so Dir.Close sees no error and
// writes .kafka_cleanshutdown. The next start then skips recovery for every
// log in the directory although the failed log's data was never fsynced
// (ARCHITECTURE.md: the marker is written "only if nothing failed"; Kafka
// writes none for a directory with an offline log).
func TestRegressionNoCleanShutdownMarkerAfterLogStorageError(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	cfg := commitlog.DefaultConfig()
	cfg.FlushMessages = 1
	fs := faultfs.New()
	opts := dirOptions(root, clk, cfg)
	opts.FS = fs
	d := openDir(t, opts)
	l := getOrCreate(t, d, tpOf("foo", 0), [16]byte{})
	appendN(t, l, 1, 3, baseTime)

	fs.Fail(faultfs.Sync, ".log", syscall.EIO)
	if _, err := l.AppendAsLeader(clientBatch(t, 3, baseTime), 1, record.FromClient); err == nil {
		t.Fatal("append with a failing fsync succeeded")
	}
	if l.Err() == nil {
		t.Fatal("log not offline after a failed fsync")
	}
	fs.Heal()
	closeErr := d.Close()
	if exists(filepath.Join(root, logdir.CleanShutdownFile)) {
		t.Fatalf("Close (err=%v) wrote %s although log foo-0 went offline after a failed fsync", closeErr, logdir.CleanShutdownFile)
	}
}
