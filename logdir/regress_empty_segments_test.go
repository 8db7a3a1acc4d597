package logdir_test

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/internal/faultfs"
	"github.com/kbroker/kbroker/logdir"
	"github.com/kbroker/kbroker/model"
)

// TruncateFullyAndStartAt renames every segment away and sets l.segments to
// empty before creating the fresh segment (commitlog/truncate.go
// truncateFullyLocked / restartAtLocked). When creating it fails (an I/O
// error), the log is left with no segment at all. The log goes offline, but
// the directory does not know, and its checkpoint writer (run every 5 s by
// the task loop) calls FirstSegmentBaseOffset, which indexes segments[0] and
// panics: one disk error crashes the whole broker instead of taking one
// directory offline.
func TestRegressionCheckpointAfterFailedFullTruncationDoesNotPanic(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	fs := faultfs.New()
	opts := dirOptions(root, clk, commitlog.DefaultConfig())
	opts.FS = fs
	opts.HighWatermarkCheckpointMs = 1 << 40 // keep the task loop out of the way
	opts.RecoveryCheckpointIntervalMs = 1 << 40
	opts.StartOffsetCheckpointIntervalMs = 1 << 40
	d, err := logdir.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	l := getOrCreate(t, d, tpOf("foo", 0), [16]byte{})
	appendN(t, l, 2, 3, baseTime)

	fs.Fail(faultfs.Open, segLog(l.Dir(), 100), syscall.EIO)
	if err := l.TruncateFullyAndStartAt(model.Offset(100)); err == nil {
		t.Fatal("full truncation with a failing open succeeded")
	}
	fs.Heal()
	try := func(f func()) (p any) {
		defer func() { p = recover() }()
		f()
		return nil
	}
	p1 := try(func() { _ = d.WriteCheckpoints() })
	p2 := try(func() { _ = d.Close() })
	if p1 != nil || p2 != nil {
		t.Fatalf("after a failed full truncation: WriteCheckpoints panicked: %v; Close panicked: %v", fmt.Sprint(p1), fmt.Sprint(p2))
	}
}
