package segment

import (
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
)

// index is the file and memory mapping behind .index and .timeindex. Entries
// are written with WriteAt, so a full disk is an error rather than a fault in
// a mapped page, and read through a read-only shared mapping of the file.
//
// New entries collect in pending and are written together (pendingMax bytes
// at a time, and before any fsync, resize or close), which saves a system
// call per appended batch. Reads see them through entry. Entries lost in a
// crash are no loss: the active segment is always recovered after an unclean
// shutdown, rebuilding its indexes.
type index struct {
	fs         FS
	f          File
	path       string
	base       int64
	entrySize  int
	entries    int // written + pending
	written    int // entries on file
	pending    []byte
	maxEntries int
	length     int64  // file length
	mm         []byte // mapping of [0, length)
}

// pendingMax bounds the entries held in memory before they are written.
const pendingMax = 4096

// errCorruptIndex marks an index that failed its checks; the segment
// rebuilds it from the .log.
type errCorruptIndex struct{ msg string }

func (e *errCorruptIndex) Error() string { return e.msg }

func corruptIndex(format string, args ...any) error {
	return &errCorruptIndex{msg: fmt.Sprintf(format, args...)}
}

func roundDown(n int64, m int) int64 { return n / int64(m) * int64(m) }

// openIndex opens or creates an index file. A new file is preallocated to
// maxSize rounded down to the entry size and starts empty; an existing file
// holds length/entrySize entries, to be checked by the caller.
func openIndex(fs FS, path string, base int64, entrySize int, maxSize int) (*index, error) {
	f, err := fs.OpenFile(path, os.O_RDWR, 0)
	created := false
	if os.IsNotExist(err) {
		f, err = fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		created = true
	}
	if err != nil {
		return nil, storageErr("open", path, err)
	}
	ix := &index{fs: fs, f: f, path: path, base: base, entrySize: entrySize}
	if created {
		if maxSize < entrySize {
			f.Close()
			return nil, fmt.Errorf("invalid max index size: %d", maxSize)
		}
		if err := ix.setLength(roundDown(int64(maxSize), entrySize)); err != nil {
			f.Close()
			return nil, err
		}
		return ix, nil
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, storageErr("stat", path, err)
	}
	if err := ix.mapLength(st.Size()); err != nil {
		f.Close()
		return nil, err
	}
	ix.entries = int(st.Size() / int64(entrySize))
	ix.written = ix.entries
	return ix, nil
}

// setLength truncates or extends the file and remaps it. A failed truncate
// leaves the old mapping in place; a failed remap leaves an index with no
// entries and no room (reads see an empty index, appends fail).
func (ix *index) setLength(n int64) error {
	if err := ix.writePending(); err != nil {
		return err
	}
	if err := ix.f.Truncate(n); err != nil {
		return storageErr("truncate", ix.path, err)
	}
	ix.unmap()
	if err := ix.mapLength(n); err != nil {
		ix.entries, ix.written, ix.maxEntries, ix.length = 0, 0, 0, 0
		return err
	}
	return nil
}

func (ix *index) mapLength(n int64) error {
	ix.length = n
	ix.maxEntries = int(n / int64(ix.entrySize))
	if n == 0 {
		return nil
	}
	mm, err := syscall.Mmap(int(ix.f.Fd()), 0, int(n), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		ix.maxEntries = 0
		return storageErr("mmap", ix.path, err)
	}
	ix.mm = mm
	return nil
}

func (ix *index) unmap() {
	if ix.mm != nil {
		_ = syscall.Munmap(ix.mm)
		ix.mm = nil
	}
}

func (ix *index) isFull() bool { return ix.entries >= ix.maxEntries }

func (ix *index) entry(i int) []byte {
	if i >= ix.written {
		at := (i - ix.written) * ix.entrySize
		return ix.pending[at : at+ix.entrySize]
	}
	return ix.mm[i*ix.entrySize : (i+1)*ix.entrySize]
}

// appendEntry adds one entry after the last (written with the next batch of
// pending entries).
func (ix *index) appendEntry(e []byte) error {
	if ix.isFull() {
		return fmt.Errorf("attempt to append to a full index %s (size = %d)", ix.path, ix.entries)
	}
	ix.pending = append(ix.pending, e...)
	ix.entries++
	if len(ix.pending) >= pendingMax {
		return ix.writePending()
	}
	return nil
}

// writePending writes the pending entries. On failure they stay pending
// (and the storage error is sticky above this layer).
func (ix *index) writePending() error {
	if len(ix.pending) == 0 {
		return nil
	}
	if _, err := ix.f.WriteAt(ix.pending, int64(ix.written*ix.entrySize)); err != nil {
		return storageErr("write", ix.path, err)
	}
	ix.written = ix.entries
	ix.pending = ix.pending[:0]
	return nil
}

// truncateToEntries forgets entries from n on. Written bytes stay until the
// next trim; they are outside the entry count.
func (ix *index) truncateToEntries(n int) {
	if n >= ix.entries {
		return
	}
	if n >= ix.written {
		ix.pending = ix.pending[:(n-ix.written)*ix.entrySize]
	} else {
		ix.written = n
		ix.pending = ix.pending[:0]
	}
	ix.entries = n
}

// resize writes the pending entries and sets the file length to size
// rounded down to the entry size, keeping the entries.
func (ix *index) resize(size int) error {
	if err := ix.writePending(); err != nil {
		return err
	}
	n := roundDown(int64(size), ix.entrySize)
	if n == ix.length {
		return nil
	}
	if n < int64(ix.entries*ix.entrySize) {
		n = int64(ix.entries * ix.entrySize)
	}
	return ix.setLength(n)
}

// trim shrinks the file to exactly its entries.
func (ix *index) trim() error { return ix.resize(ix.entries * ix.entrySize) }

func (ix *index) flush() error {
	if err := ix.writePending(); err != nil {
		return err
	}
	return storageErr("fsync", ix.path, ix.f.Sync())
}

// reset drops every entry and preallocates maxSize again.
func (ix *index) reset(maxSize int) error {
	ix.entries, ix.written = 0, 0
	ix.pending = ix.pending[:0]
	if err := ix.setLength(0); err != nil {
		return err
	}
	return ix.setLength(roundDown(int64(maxSize), ix.entrySize))
}

func (ix *index) close() error {
	werr := ix.writePending()
	ix.unmap()
	if err := ix.f.Close(); err != nil {
		return err
	}
	return werr
}

func (ix *index) relative(offset int64) (int32, error) {
	d := offset - ix.base
	if d < 0 || d > 1<<31-1 {
		return 0, fmt.Errorf("offset %d cannot be expressed relative to base offset %d of %s", offset, ix.base, ix.path)
	}
	return int32(d), nil
}

func be32(b []byte) int32 { return int32(binary.BigEndian.Uint32(b)) }
func be64(b []byte) int64 { return int64(binary.BigEndian.Uint64(b)) }
