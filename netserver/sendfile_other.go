//go:build !linux

package netserver

import (
	"errors"
	"io"
	"syscall"
)

var errNoSendfile = errors.New("sendfile not usable")

// sendfile is used on Linux only; elsewhere file ranges are copied.
func sendfile(_ syscall.RawConn, _ io.ReaderAt, _, _ int64, _ func()) (int64, error) {
	return 0, errNoSendfile
}
