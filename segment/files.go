package segment

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// File suffixes of a segment, and the suffixes appended while a file is
// being deleted, cleaned or swapped in.
const (
	LogSuffix       = ".log"
	IndexSuffix     = ".index"
	TimeIndexSuffix = ".timeindex"
	TxnIndexSuffix  = ".txnindex"
	DeletedSuffix   = ".deleted"
	CleanedSuffix   = ".cleaned"
	SwapSuffix      = ".swap"
)

// FileName is the 20-digit zero-padded base offset followed by the suffix,
// e.g. 00000000000000368769.log.
func FileName(base int64, suffix string) string {
	return fmt.Sprintf("%020d%s", base, suffix)
}

// ParseFileName splits a segment file name into base offset and suffix
// (everything after the digits, e.g. ".log" or ".log.deleted").
func ParseFileName(name string) (base int64, suffix string, ok bool) {
	if len(name) < 21 || name[20] != '.' {
		return 0, "", false
	}
	v, err := strconv.ParseInt(name[:20], 10, 64)
	if err != nil || v < 0 {
		return 0, "", false
	}
	return v, name[20:], true
}

// File is what the storage layer needs of an open file. *os.File satisfies
// it; a fault-injecting wrapper lets tests fail writes and fsyncs.
type File interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Close() error
	Name() string
	// Fd is used to memory-map index files and to sendfile log ranges.
	Fd() uintptr
}

// FS opens, renames and removes files. OS is the real file system.
type FS interface {
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Rename(oldpath, newpath string) error
	Remove(name string) error
}

// OS is the operating system's file system.
type OS struct{}

// OpenFile opens a file with os.OpenFile.
func (OS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Rename renames with os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove removes with os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// StorageError marks a failed write, fsync, truncate or rename. The owner of
// the log directory takes the directory offline; it is never retried.
type StorageError struct {
	Op   string
	Path string
	Err  error
}

func (e *StorageError) Error() string {
	return fmt.Sprintf("storage error: %s %s: %v", e.Op, e.Path, e.Err)
}

func (e *StorageError) Unwrap() error { return e.Err }

func storageErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	return &StorageError{Op: op, Path: path, Err: err}
}

func segPath(dir string, base int64, suffix string) string {
	return filepath.Join(dir, FileName(base, suffix))
}
