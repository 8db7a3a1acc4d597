//go:build linux

package netserver

import (
	"errors"
	"fmt"
	"io"
	"syscall"
)

// maxSendfileChunk keeps each sendfile call under Linux's 0x7ffff000 cap.
const maxSendfileChunk = 1 << 30

// errNoSendfile: sendfile cannot be used here; copy the rest instead.
var errNoSendfile = errors.New("sendfile not usable")

// sendfile sends [off, off+size) of f to the socket behind sock with
// sendfile(2), using an explicit offset (never the file's shared
// position). It returns how many bytes were sent. errNoSendfile (possibly
// after some bytes) asks the caller to copy the rest. arm refreshes the
// write deadline; it is called before every wait for writability that
// follows progress.
func sendfile(sock syscall.RawConn, f io.ReaderAt, off, size int64, arm func()) (int64, error) {
	sc, ok := f.(syscall.Conn)
	if !ok {
		return 0, errNoSendfile
	}
	frc, err := sc.SyscallConn()
	if err != nil {
		return 0, errNoSendfile
	}
	var sent int64
	var serr error
	// Control holds a reference on the file descriptor, so a concurrent
	// Close of the file cannot let the number be reused under us.
	cerr := frc.Control(func(ffd uintptr) {
		for sent < size && serr == nil {
			arm()
			progressed := false
			werr := sock.Write(func(sfd uintptr) bool {
				for sent < size {
					pos := off + sent
					n, err := syscall.Sendfile(int(sfd), int(ffd), &pos, int(min(size-sent, maxSendfileChunk)))
					if n > 0 {
						sent += int64(n)
						progressed = true
					}
					switch {
					case err == syscall.EINTR:
					case err == syscall.EAGAIN:
						// Wait for writability, but first go back out
						// to refresh the deadline if we made progress.
						return progressed
					case err != nil:
						serr = err
						return true
					case n == 0:
						serr = errShortFile
						return true
					}
				}
				return true
			})
			if werr != nil && serr == nil {
				serr = werr
			}
		}
	})
	if cerr != nil && serr == nil {
		serr = cerr
	}
	switch {
	case serr == nil:
		return sent, nil
	case errors.Is(serr, errShortFile):
		return sent, fmt.Errorf("%w: sendfile reached end of file at offset %d (wanted [%d, %d))", errShortFile, off+sent, off, off+size)
	case errors.Is(serr, syscall.EINVAL), errors.Is(serr, syscall.ENOSYS), errors.Is(serr, syscall.EOPNOTSUPP):
		return sent, errNoSendfile
	default:
		return sent, fmt.Errorf("sendfile: %w", serr)
	}
}
