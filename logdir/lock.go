package logdir

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

// LockFile is held while a broker uses the directory.
const LockFile = ".lock"

// fOFDSetLK is F_OFD_SETLK: an open-file-description lock. It conflicts with
// the POSIX record locks Java's FileChannel.tryLock takes (so kbroker and a
// Kafka broker keep each other out of a directory) and, unlike a classic
// POSIX lock, also with a second open of the file in the same process.
const fOFDSetLK = 37

// dirLock is an exclusive lock on <dir>/.lock.
type dirLock struct{ f *os.File }

func lockDir(dir string) (*dirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	lk := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	_, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), fOFDSetLK, uintptr(unsafe.Pointer(&lk)))
	if errno != 0 {
		f.Close()
		return nil, fmt.Errorf("failed to acquire lock on file .lock in %s. A Kafka instance in another process or thread is using this directory: %w", dir, errno)
	}
	return &dirLock{f: f}, nil
}

// release drops the lock by closing the file (the lock belongs to it).
func (l *dirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
