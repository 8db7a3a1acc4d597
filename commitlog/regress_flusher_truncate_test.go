package commitlog_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// gateFS is the real file system that records which files were written
// since their last fsync, and can hold the first fsync of one file until
// released.
type gateFS struct {
	mu      sync.Mutex
	dirty   map[string]bool
	holdFor string        // base name whose first Sync is held
	entered chan struct{} // closed when the held Sync starts
	release chan struct{} // close to let it proceed
	held    bool
}

func newGateFS(holdFor string) *gateFS {
	return &gateFS{dirty: map[string]bool{}, holdFor: holdFor, entered: make(chan struct{}), release: make(chan struct{})}
}

func (g *gateFS) OpenFile(name string, flag int, perm os.FileMode) (segment.File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &gateFile{File: f, fs: g}, nil
}
func (g *gateFS) Rename(o, n string) error { return os.Rename(o, n) }
func (g *gateFS) Remove(n string) error    { return os.Remove(n) }

func (g *gateFS) isDirty(name string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.dirty[name]
}

type gateFile struct {
	*os.File
	fs *gateFS
}

func (f *gateFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	f.fs.dirty[filepath.Base(f.Name())] = true
	f.fs.mu.Unlock()
	return f.File.WriteAt(p, off)
}

func (f *gateFile) Sync() error {
	name := filepath.Base(f.Name())
	f.fs.mu.Lock()
	hold := !f.fs.held && name == f.fs.holdFor
	if hold {
		f.fs.held = true
	}
	f.fs.mu.Unlock()
	if hold {
		close(f.fs.entered)
		<-f.fs.release
	}
	f.fs.mu.Lock()
	f.fs.dirty[name] = false
	f.fs.mu.Unlock()
	return f.File.Sync()
}

// The flusher takes its target (the roll point) under the read lock, fsyncs
// without the lock, then sets the recovery point to that target if it is
// still <= LEO. A truncation below the target while the fsync runs, followed
// by appends and rolls that bring the LEO back past it, makes the flusher
// claim offsets it never fsynced: here offsets 7..8 live in segment 7, which
// was never fsynced, yet the recovery point becomes 10 (recovery after a
// crash starts at segment 9, so segment 7 would not even be checked).
func TestRegressionFlusherRecoveryPointAfterTruncation(t *testing.T) {
	g := newGateFS(segName(0, ".log"))
	cfg := commitlog.DefaultConfig()
	tl := newTestLogFS(t, cfg, g)
	l := tl.log
	one := func(i int) {
		t.Helper()
		if _, err := l.AppendAsLeader(clientBatch(t, recs(1, baseTime+int64(i))), 0, record.FromClient); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		one(i)
	}
	if err := l.Roll(); err != nil { // flusher: fsync segment 0, then recovery point 10
		t.Fatal(err)
	}
	<-g.entered // the flusher is inside fsync(segment 0) with target 10

	if _, err := l.TruncateTo(5); err != nil {
		t.Fatal(err)
	}
	one(5)
	one(6)
	if err := l.Roll(); err != nil { // segment 7
		t.Fatal(err)
	}
	one(7)
	one(8)
	if err := l.Roll(); err != nil { // segment 9
		t.Fatal(err)
	}
	for i := 9; i < 13; i++ {
		one(i)
	}
	close(g.release)
	waitFor(t, "the flusher to finish", func() bool { return l.RecoveryPoint() > 0 })

	rp := l.RecoveryPoint()
	if rp > 7 && g.isDirty(segName(7, ".log")) {
		t.Fatalf("recovery point %d covers offsets 7..8, but %s was written and never fsynced", rp, segName(7, ".log"))
	}
}
