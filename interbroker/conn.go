package interbroker

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// MaxResponseSize bounds a response frame (guards against a corrupt size).
const MaxResponseSize = 512 << 20

// Conn is a connection to one broker.
type Conn struct {
	addr     string
	clientID string
	timeout  time.Duration

	mu   sync.Mutex // serialises requests
	nc   net.Conn   // guarded by mu; nil when not connected
	corr int32      // guarded by mu
	fmt  *kmsg.RequestFormatter
}

// NewConn returns a lazily connected connection to addr ("host:port").
// timeout bounds connecting and each request's round trip (besides ctx).
func NewConn(addr, clientID string, timeout time.Duration) *Conn {
	return &Conn{addr: addr, clientID: clientID, timeout: timeout, fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID(clientID))}
}

// Addr is the broker address.
func (c *Conn) Addr() string { return c.addr }

// Close drops the connection; the next request reconnects.
func (c *Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeLocked()
}

func (c *Conn) closeLocked() error {
	if c.nc == nil {
		return nil
	}
	err := c.nc.Close()
	c.nc = nil
	return err
}

// Request sends req (its version must be set) and returns the decoded
// response. Any error closes the connection.
func (c *Conn) Request(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	resp, err := c.roundTrip(ctx, req)
	if err != nil {
		c.closeLocked()
		return nil, fmt.Errorf("%s v%d to %s: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), c.addr, err)
	}
	return resp, nil
}

func (c *Conn) roundTrip(ctx context.Context, req kmsg.Request) (kmsg.Response, error) {
	if c.nc == nil {
		d := net.Dialer{Timeout: c.timeout}
		nc, err := d.DialContext(ctx, "tcp", c.addr)
		if err != nil {
			return nil, err
		}
		c.nc = nc
	}
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.nc.SetDeadline(deadline); err != nil {
		return nil, err
	}
	// The callback runs on its own goroutine, possibly after Request has
	// closed the connection and cleared c.nc: it gets the socket, not c.
	nc := c.nc
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c.corr++
	corr := c.corr
	if _, err := c.nc.Write(c.fmt.AppendRequest(nil, req, corr)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 4 || n > MaxResponseSize {
		return nil, fmt.Errorf("invalid response size %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.nc, body); err != nil {
		return nil, err
	}
	r := kbin.Reader{Src: body}
	if got := r.Int32(); got != corr {
		return nil, fmt.Errorf("correlation id %d, want %d", got, corr)
	}
	resp := req.ResponseKind()
	if resp.IsFlexible() && req.Key() != 18 {
		kmsg.SkipTags(&r)
	}
	if err := r.Complete(); err != nil {
		return nil, err
	}
	if err := resp.ReadFrom(r.Src); err != nil {
		return nil, err
	}
	return resp, nil
}

// ErrClosed is returned by a Pool after Close.
var ErrClosed = errors.New("interbroker: closed")
