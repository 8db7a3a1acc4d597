package faultfs

import (
	"os"
	"strings"
	"sync"

	"github.com/kbroker/kbroker/segment"
)

// Op names an operation that can be made to fail.
type Op string

const (
	Write    Op = "write"
	Sync     Op = "sync"
	Truncate Op = "truncate"
	Rename   Op = "rename"
	Open     Op = "open"
)

type rule struct {
	op   Op
	path string
	err  error
}

// FS wraps segment.OS with armed faults.
type FS struct {
	mu    sync.Mutex
	rules []rule
	hits  map[Op]int
	// NoSync turns fsync into a no-op (fast fuzzing; never for durability tests).
	NoSync bool
}

// New returns a file system with no faults armed.
func New() *FS { return &FS{hits: map[Op]int{}} }

// Fail makes every later op on a path containing pathPart fail with err.
func (f *FS) Fail(op Op, pathPart string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, rule{op, pathPart, err})
}

// Heal removes every armed fault.
func (f *FS) Heal() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = nil
}

// Hits is how many operations of a kind failed.
func (f *FS) Hits(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[op]
}

func (f *FS) check(op Op, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.rules {
		if r.op == op && strings.Contains(path, r.path) {
			f.hits[op]++
			return &os.PathError{Op: string(op), Path: path, Err: r.err}
		}
	}
	return nil
}

// OpenFile opens through the OS unless an Open fault matches.
func (f *FS) OpenFile(name string, flag int, perm os.FileMode) (segment.File, error) {
	if err := f.check(Open, name); err != nil {
		return nil, err
	}
	file, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &File{File: file, fs: f}, nil
}

// Rename renames unless a Rename fault matches the old path.
func (f *FS) Rename(oldpath, newpath string) error {
	if err := f.check(Rename, oldpath); err != nil {
		return err
	}
	return os.Rename(oldpath, newpath)
}

// Remove removes through the OS.
func (f *FS) Remove(name string) error { return os.Remove(name) }

// File is an *os.File whose writes, fsyncs and truncates can fail.
type File struct {
	*os.File
	fs *FS
}

// WriteAt fails when a Write fault matches, else writes.
func (f *File) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(Write, f.Name()); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

// Sync fails when a Sync fault matches, else fsyncs.
func (f *File) Sync() error {
	if err := f.fs.check(Sync, f.Name()); err != nil {
		return err
	}
	if f.fs.NoSync {
		return nil
	}
	return f.File.Sync()
}

// Truncate fails when a Truncate fault matches, else truncates.
func (f *File) Truncate(size int64) error {
	if err := f.fs.check(Truncate, f.Name()); err != nil {
		return err
	}
	return f.File.Truncate(size)
}
