package netserver

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// queueDepth bounds the responses waiting for the writer. When the client
// stops reading, the writer blocks on the socket, the queue fills and the
// reader stops reading requests: back-pressure end to end.
const queueDepth = 8

// growThreshold: request bodies larger than this are read into a buffer
// that grows as bytes arrive, so a size prefix alone cannot make the
// server allocate up to MaxRequestSize.
const growThreshold = 1 << 20

// connection is one accepted socket with its reader and writer goroutines.
// The reader owns reading and calls Handle; the writer owns writing. The
// queue is closed by the reader only, after which the writer drains it,
// closes the socket and unregisters the connection.
type connection struct {
	s    *Server
	nc   net.Conn
	info *Conn
	log  zerolog.Logger
	br   *bufio.Reader

	ctx    context.Context // cancelled when the connection fails or closes
	cancel context.CancelFunc

	queue chan *outgoing

	// pending counts responses enqueued and not yet finished by the
	// writer; lastWrite is the unix-nano time of the last write. The
	// reader consults both before closing an idle connection.
	pending   atomic.Int64
	lastWrite atomic.Int64

	wbuf []byte // writer-owned encoding buffer, reused

	// local: the peer is on this host (see sameHost); file ranges are
	// copied rather than sent with sendfile.
	local bool
}

// outgoing is one queued response.
type outgoing struct {
	corr       int32
	msg        kmsg.Response // nil when noResponse
	files      []FileData
	noResponse bool
	close      bool
}

func (o *outgoing) release() {
	for i := range o.files {
		if r := o.files[i].Release; r != nil {
			o.files[i].Release = nil
			r()
		}
	}
}

func newConnection(s *Server, nc net.Conn, info *Conn, log zerolog.Logger) *connection {
	ctx, cancel := context.WithCancel(s.ctx)
	c := &connection{
		s: s, nc: nc, info: info, log: log,
		br:     bufio.NewReaderSize(nc, 16<<10),
		ctx:    ctx,
		cancel: cancel,
		queue:  make(chan *outgoing, queueDepth),
		local:  sameHost(nc),
	}
	c.lastWrite.Store(time.Now().UnixNano())
	return c
}

// abort closes the socket and cancels running handlers; both goroutines
// then finish on their own.
func (c *connection) abort() {
	c.cancel()
	_ = c.nc.Close()
}

// errIdle reports an idle connection.
var errIdle = errors.New("connection idle")

// protocolError closes a connection because of what the client sent.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

func protoErr(format string, args ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, args...)}
}

func (c *connection) readLoop() {
	defer c.s.wg.Done()
	defer close(c.queue)
	for {
		body, err := c.readFrame()
		if err != nil {
			c.logReadEnd(err)
			return
		}
		received := time.Now()
		req, out, err := c.parse(body)
		if err != nil {
			c.s.stats.protocolErrors.Add(1)
			c.log.Info().Err(err).Msg("closing connection: invalid request")
			return
		}
		if out == nil {
			req.Conn, req.Received, req.Size = c.info, received, int32(len(body))
			c.s.stats.requests.Add(1)
			resp, ok := c.handle(req)
			if !ok {
				return
			}
			c.log.Trace().Int16("key", req.Key).Int16("version", req.Version).
				Int32("correlation_id", req.CorrelationID).Dur("took", time.Since(received)).Msg("request handled")
			out = &outgoing{corr: req.CorrelationID, msg: resp.Msg, files: resp.Files,
				noResponse: resp.NoResponse, close: resp.Close}
			if out.noResponse {
				out.msg = nil
			}
		}
		c.pending.Add(1)
		c.queue <- out // the writer drains the queue until it is closed
		if out.close {
			return
		}
	}
}

func (c *connection) logReadEnd(err error) {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), c.ctx.Err() != nil:
		c.log.Debug().Err(err).Msg("connection closed")
	case errors.Is(err, errIdle):
		c.log.Debug().Msg("closing idle connection")
	default:
		var pe *protocolError
		if errors.As(err, &pe) {
			c.s.stats.protocolErrors.Add(1)
			c.log.Info().Err(err).Msg("closing connection: invalid frame")
			return
		}
		c.log.Debug().Err(err).Msg("connection read failed")
	}
}

// handle calls the handler, recovering a panic. ok=false closes the
// connection (after the responses queued before).
func (c *connection) handle(req *Request) (resp *Response, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			c.s.stats.panics.Add(1)
			c.log.Error().Interface("panic", r).Str("stack", string(debug.Stack())).
				Int16("key", req.Key).Int16("version", req.Version).Int32("correlation_id", req.CorrelationID).
				Msg("handler panicked; closing connection")
			resp, ok = nil, false
		}
	}()
	resp = c.s.h.Handle(c.ctx, req)
	switch {
	case resp == nil:
		c.log.Error().Int16("key", req.Key).Msg("handler returned no response; closing connection")
		return nil, false
	case resp.NoResponse:
		if len(resp.Files) > 0 {
			(&outgoing{files: resp.Files}).release()
		}
		resp.Files = nil
		return resp, true
	case resp.Msg == nil:
		c.log.Error().Int16("key", req.Key).Msg("handler returned a response without a message; closing connection")
		(&outgoing{files: resp.Files}).release()
		return nil, false
	case resp.Msg.Key() != req.Key:
		c.log.Error().Int16("key", req.Key).Int16("response_key", resp.Msg.Key()).
			Msg("handler returned a response for another key; closing connection")
		(&outgoing{files: resp.Files}).release()
		return nil, false
	}
	resp.Msg.SetVersion(req.Version)
	return resp, true
}

// readFrame reads one size-prefixed frame into a fresh buffer.
func (c *connection) readFrame() ([]byte, error) {
	var sz [4]byte
	if err := c.readFull(sz[:], true); err != nil {
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(sz[:]))
	if size < 0 || size > c.s.cfg.MaxRequestSize {
		return nil, protoErr("request size %d outside [0, %d] (socket.request.max.bytes)", size, c.s.cfg.MaxRequestSize)
	}
	var body []byte
	if size <= growThreshold {
		body = make([]byte, size)
		if err := c.readFull(body, false); err != nil {
			return nil, err
		}
	} else {
		body = make([]byte, 0, growThreshold)
		for len(body) < int(size) {
			if len(body) == cap(body) {
				body = append(body, 0)[:len(body)] // grow
			}
			n := min(cap(body), int(size)) - len(body)
			if err := c.readFull(body[len(body):len(body)+n], false); err != nil {
				return nil, err
			}
			body = body[:len(body)+n]
		}
	}
	c.s.stats.bytesIn.Add(uint64(size) + 4)
	return body, nil
}

// readFull fills p. A read that times out is resumed unless the
// connection has been idle (nothing read or written, nothing pending)
// for IdleTimeout. atStart is true when no byte of the frame is read yet,
// so a clean EOF there is io.EOF and elsewhere a truncated frame.
func (c *connection) readFull(p []byte, atStart bool) error {
	idle := c.s.cfg.IdleTimeout
	got := 0
	for got < len(p) {
		if idle > 0 {
			_ = c.nc.SetReadDeadline(time.Now().Add(idle))
		}
		n, err := c.br.Read(p[got:])
		got += n
		if err == nil || got == len(p) {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && c.ctx.Err() == nil {
			if n > 0 {
				continue
			}
			last := time.Unix(0, c.lastWrite.Load())
			if c.pending.Load() > 0 || time.Since(last) < idle {
				continue
			}
			return errIdle
		}
		if errors.Is(err, io.EOF) {
			if got > 0 || !atStart {
				return protoErr("connection closed inside a frame")
			}
			return io.EOF
		}
		return err
	}
	return nil
}

// parse parses the header and body of a request. It returns either a
// request for the handler or a response the server makes itself (the
// ApiVersions fallback), or an error that closes the connection.
func (c *connection) parse(body []byte) (*Request, *outgoing, error) {
	hdr, rest, err := parseHeader(body)
	if err != nil {
		return nil, nil, err
	}
	msg := kmsg.RequestForKey(hdr.Key)
	if msg == nil {
		return nil, nil, protoErr("unknown api key %d (version %d, correlation id %d, client %q)",
			hdr.Key, hdr.Version, hdr.CorrelationID, hdr.ClientID)
	}
	lo, hi, ok := c.s.h.VersionRange(hdr.Key)
	if !ok {
		return nil, nil, protoErr("api key %d (%s) is not served", hdr.Key, kmsg.NameForKey(hdr.Key))
	}
	if hdr.Key == apiVersionsKey && hdr.Version > hi {
		// KIP-511: answer a too-new ApiVersions with a v0 body carrying
		// UNSUPPORTED_VERSION and our ApiVersions range; the body of
		// the request is not parsed.
		r := kmsg.NewPtrApiVersionsResponse()
		r.Version = 0
		r.ErrorCode = errUnsupportedVersion
		r.ApiKeys = []kmsg.ApiVersionsResponseApiKey{{ApiKey: apiVersionsKey, MinVersion: lo, MaxVersion: hi}}
		c.log.Debug().Int16("version", hdr.Version).Str("client_id", hdr.ClientID).
			Msg("ApiVersions version too new; answering with the v0 fallback")
		return nil, &outgoing{corr: hdr.CorrelationID, msg: r}, nil
	}
	if hdr.Version < lo || hdr.Version > hi {
		return nil, nil, protoErr("unsupported version %d of api key %d (%s); served %d-%d",
			hdr.Version, hdr.Key, kmsg.NameForKey(hdr.Key), lo, hi)
	}
	msg.SetVersion(hdr.Version)
	if msg.IsFlexible() {
		if rest, err = skipTags(rest); err != nil {
			return nil, nil, protoErr("%s v%d header tags: %v", kmsg.NameForKey(hdr.Key), hdr.Version, err)
		}
	}
	if err := readBody(msg, rest); err != nil {
		return nil, nil, protoErr("%s v%d body: %v", kmsg.NameForKey(hdr.Key), hdr.Version, err)
	}
	return &Request{Header: hdr, Msg: msg}, nil, nil
}

// readBody runs ReadFrom, turning a panic into an error.
func readBody(msg kmsg.Request, b []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panicked: %v", r)
		}
	}()
	return msg.ReadFrom(b)
}

const (
	apiVersionsKey         int16 = 18
	controlledShutdownKey  int16 = 7
	errUnsupportedVersion  int16 = 35
	requestHeaderFixedSize       = 8
)

// parseHeader reads api key, api version, correlation id and (except for
// ControlledShutdown v0, request header v0) the client id, always a classic
// nullable string. It returns the bytes after the client id.
func parseHeader(b []byte) (Header, []byte, error) {
	var h Header
	if len(b) < requestHeaderFixedSize {
		return h, nil, protoErr("request of %d bytes is shorter than a request header", len(b))
	}
	h.Key = int16(binary.BigEndian.Uint16(b[0:]))
	h.Version = int16(binary.BigEndian.Uint16(b[2:]))
	h.CorrelationID = int32(binary.BigEndian.Uint32(b[4:]))
	b = b[requestHeaderFixedSize:]
	if h.Key == controlledShutdownKey && h.Version == 0 {
		return h, b, nil
	}
	if len(b) < 2 {
		return h, nil, protoErr("request header truncated before the client id")
	}
	n := int16(binary.BigEndian.Uint16(b))
	b = b[2:]
	switch {
	case n == -1:
	case n < -1 || int(n) > len(b):
		return h, nil, protoErr("bad client id length %d", n)
	default:
		h.ClientID = string(b[:n])
		b = b[n:]
	}
	return h, b, nil
}

// skipTags skips a tagged-field section: uvarint count, then per field
// uvarint tag, uvarint size and the bytes.
func skipTags(b []byte) ([]byte, error) {
	count, b, err := uvarint32(b)
	if err != nil {
		return nil, err
	}
	for ; count > 0; count-- {
		if _, b, err = uvarint32(b); err != nil {
			return nil, err
		}
		var size uint32
		if size, b, err = uvarint32(b); err != nil {
			return nil, err
		}
		if uint64(size) > uint64(len(b)) {
			return nil, errors.New("tagged field longer than the request")
		}
		b = b[size:]
	}
	return b, nil
}

func uvarint32(b []byte) (uint32, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || n > 5 || v > 1<<32-1 {
		return 0, nil, errors.New("bad or truncated unsigned varint")
	}
	return uint32(v), b[n:], nil
}
