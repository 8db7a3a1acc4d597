package netserver

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// maxKeptWriteBuffer: a larger encoding buffer is not kept for reuse.
const maxKeptWriteBuffer = 1 << 20

// errShortFile: the file ended before Offset+Size.
var errShortFile = errors.New("file shorter than the range to send")

func (c *connection) writeLoop() {
	defer c.s.wg.Done()
	failed := false
	for out := range c.queue {
		if !failed && !out.noResponse {
			if err := c.writeResponse(out); err != nil {
				failed = true
				c.logWriteError(err)
				c.abort()
			}
		}
		out.release()
		c.lastWrite.Store(time.Now().UnixNano())
		c.pending.Add(-1)
		if out.close && !failed {
			failed = true
			c.log.Debug().Msg("closing connection as the handler asked")
			c.abort()
		}
	}
	// The reader has finished (it closed the queue): everything queued is
	// written, so the socket can go.
	c.abort()
	c.s.forget(c)
	c.log.Debug().Msg("connection finished")
}

func (c *connection) logWriteError(err error) {
	switch {
	case errors.Is(err, errShortFile), errors.Is(err, errSplice), errors.Is(err, errEncode):
		c.log.Error().Err(err).Msg("cannot write response; closing connection")
	case errors.Is(err, net.ErrClosed), c.ctx.Err() != nil:
		c.log.Debug().Err(err).Msg("write on a closed connection")
	default:
		c.log.Info().Err(err).Msg("write failed; closing connection")
	}
}

var errEncode = errors.New("netserver: encode response")

// encode appends the response frame (size placeholder, header, body) to
// c.wbuf and returns it with the offset where the body starts.
func (c *connection) encode(out *outgoing) (frame []byte, bodyStart int, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.s.stats.panics.Add(1)
			c.log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).
				Int16("key", out.msg.Key()).Msg("encoding the response panicked")
			err = fmt.Errorf("%w: %v", errEncode, r)
		}
	}()
	b := append(c.wbuf[:0], 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(out.corr))
	// Response header v1 (a tag byte) for flexible versions, except
	// ApiVersions, whose response header is always v0 (KIP-511).
	if out.msg.IsFlexible() && out.msg.Key() != apiVersionsKey {
		b = append(b, 0)
	}
	bodyStart = len(b)
	b = out.msg.AppendTo(b)
	if len(b)-4 > math.MaxInt32 {
		return nil, 0, fmt.Errorf("%w: %d bytes exceed the frame limit", errEncode, len(b)-4)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	if cap(b) <= maxKeptWriteBuffer {
		c.wbuf = b[:0]
	} else {
		c.wbuf = nil
	}
	return b, bodyStart, nil
}

func (c *connection) armWrite() {
	if d := c.s.cfg.IdleTimeout; d > 0 {
		_ = c.nc.SetWriteDeadline(time.Now().Add(d))
	}
}

func (c *connection) writeResponse(out *outgoing) error {
	frame, bodyStart, err := c.encode(out)
	if err != nil {
		return err
	}
	if len(out.files) == 0 {
		c.armWrite()
		n, err := c.nc.Write(frame)
		c.s.stats.bytesOut.Add(uint64(n))
		return err
	}
	sp, err := splice(frame, bodyStart, out.files, out.msg.IsFlexible())
	if err != nil {
		return err
	}
	// Detect files that are already too short before writing anything.
	for i := range out.files {
		if err := checkFileSize(&out.files[i]); err != nil {
			return err
		}
	}
	var pending net.Buffers
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		c.armWrite()
		n, err := pending.WriteTo(c.nc) // writev on TCP
		c.s.stats.bytesOut.Add(uint64(n))
		pending = pending[:0]
		return err
	}
	for _, ch := range sp.chunks {
		if ch.file == nil {
			pending = append(pending, ch.data)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := c.sendRange(ch.file); err != nil {
			return err
		}
	}
	return flush()
}

func checkFileSize(fd *FileData) error {
	st, ok := fd.File.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		return nil
	}
	fi, err := st.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil // the send itself will tell
	}
	if fi.Size() < fd.Offset+fd.Size {
		return fmt.Errorf("%w: [%d, %d) requested, file has %d bytes", errShortFile, fd.Offset, fd.Offset+fd.Size, fi.Size())
	}
	return nil
}

// sendRange sends one file range: sendfile when possible, else pread and
// write from where sendfile stopped.
func (c *connection) sendRange(fd *FileData) error {
	var sent int64
	use := !c.local
	switch c.s.sendfilePolicy.Load() {
	case sendfileAlways:
		use = true
	case sendfileNever:
		use = false
	}
	if use && fd.Size > 0 {
		if sc, ok := c.nc.(syscall.Conn); ok {
			if raw, err := sc.SyscallConn(); err == nil {
				n, err := sendfile(raw, fd.File, fd.Offset, fd.Size, c.armWrite)
				sent = n
				c.s.stats.bytesOut.Add(uint64(n))
				c.s.stats.sendfileBytes.Add(uint64(n))
				if err != nil && !errors.Is(err, errNoSendfile) {
					return err
				}
			}
		}
	}
	if sent < fd.Size {
		return c.copyRange(fd, fd.Offset+sent, fd.Size-sent)
	}
	return nil
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// copyRange sends [off, off+size) of the file with ReadAt and Write.
func (c *connection) copyRange(fd *FileData, off, size int64) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for size > 0 {
		want := int(min(int64(len(buf)), size))
		n, err := fd.File.ReadAt(buf[:want], off)
		if n < want {
			if err == nil || errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: read %d of %d bytes at offset %d", errShortFile, n, want, off)
			}
			return fmt.Errorf("netserver: read file range: %w", err)
		}
		c.armWrite()
		w, err := c.nc.Write(buf[:n])
		c.s.stats.bytesOut.Add(uint64(w))
		if err != nil {
			return err
		}
		off += int64(n)
		size -= int64(n)
	}
	return nil
}
