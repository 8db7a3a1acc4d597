package netserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Server accepts Kafka protocol connections on its listeners and hands
// parsed requests to a Handler.
type Server struct {
	cfg Config
	h   Handler
	log zerolog.Logger

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // accept loops and connection goroutines

	nextID atomic.Uint64
	stats  counters

	// sendfilePolicy overrides the choice between sendfile and copying
	// (tests): sendfileAuto, sendfileAlways or sendfileNever.
	sendfilePolicy atomic.Int32

	mu        sync.Mutex // guards the fields below
	started   bool
	closed    bool
	listeners []boundListener
	conns     map[uint64]*connection
}

type boundListener struct {
	name string
	ln   net.Listener
}

// Stats are cumulative counters (Active is current).
type Stats struct {
	Accepted       uint64 // connections accepted
	Active         int64  // connections open now
	Requests       uint64 // requests handed to the Handler
	BytesIn        uint64 // request bytes read, prefixes included
	BytesOut       uint64 // response bytes written, prefixes included
	SendfileBytes  uint64 // part of BytesOut sent with sendfile
	ProtocolErrors uint64 // connections closed for a malformed or unsupported request
	HandlerPanics  uint64 // Handle or response encoding panicked
}

type counters struct {
	accepted, requests, bytesIn, bytesOut, sendfileBytes, protocolErrors, panics atomic.Uint64
	active                                                                       atomic.Int64
}

// New returns a server; nothing is bound until Start.
func New(cfg Config, h Handler) *Server {
	if cfg.MaxRequestSize <= 0 {
		cfg.MaxRequestSize = DefaultMaxRequestSize
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:    cfg,
		h:      h,
		log:    cfg.Logger.With().Str("component", "netserver").Logger(),
		ctx:    ctx,
		cancel: cancel,
		conns:  make(map[uint64]*connection),
	}
}

// Start binds every listener and starts accepting. If any bind fails,
// the listeners already bound are closed and the error is returned.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("netserver: server is closed")
	}
	if s.started {
		return errors.New("netserver: already started")
	}
	seen := make(map[string]bool)
	for _, l := range s.cfg.Listeners {
		if l.Name == "" {
			return errors.New("netserver: listener without a name")
		}
		if seen[l.Name] {
			return fmt.Errorf("netserver: listener %q configured twice", l.Name)
		}
		seen[l.Name] = true
	}
	var bound []boundListener
	for _, l := range s.cfg.Listeners {
		var lc net.ListenConfig
		ln, err := lc.Listen(s.ctx, "tcp", net.JoinHostPort(l.Host, strconv.Itoa(l.Port)))
		if err != nil {
			for _, b := range bound {
				_ = b.ln.Close()
			}
			return fmt.Errorf("netserver: bind listener %s: %w", l.Name, err)
		}
		bound = append(bound, boundListener{name: l.Name, ln: ln})
	}
	s.started = true
	s.listeners = bound
	for _, b := range bound {
		s.log.Info().Str("listener", b.name).Stringer("addr", b.ln.Addr()).Msg("listening")
		s.wg.Add(1)
		go s.acceptLoop(b)
	}
	return nil
}

// Addr returns the bound address of a listener, or nil if there is no
// such listener or the server is not started.
func (s *Server) Addr(listener string) net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.listeners {
		if b.name == listener {
			return b.ln.Addr()
		}
	}
	return nil
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	c := &s.stats
	return Stats{
		Accepted: c.accepted.Load(), Active: c.active.Load(), Requests: c.requests.Load(),
		BytesIn: c.bytesIn.Load(), BytesOut: c.bytesOut.Load(), SendfileBytes: c.sendfileBytes.Load(),
		ProtocolErrors: c.protocolErrors.Load(), HandlerPanics: c.panics.Load(),
	}
}

// Close stops accepting, closes every connection (cancelling the contexts
// of running Handle calls) and waits for every goroutine of the server,
// including running Handle calls. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	s.cancel()
	var errs []error
	for _, b := range s.listeners {
		if err := b.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("netserver: close listener %s: %w", b.name, err))
		}
	}
	for _, c := range s.conns {
		c.abort()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return errors.Join(errs...)
}

func (s *Server) acceptLoop(b boundListener) {
	defer s.wg.Done()
	log := s.log.With().Str("listener", b.name).Logger()
	var backoff time.Duration
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors and the like: wait and retry, as a
			// listener must outlive transient accept failures.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			log.Warn().Err(err).Dur("backoff", backoff).Msg("accept failed")
			t := time.NewTimer(backoff)
			select {
			case <-s.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		backoff = 0
		s.serve(b.name, nc, log)
	}
}

// serve registers a new connection and starts its goroutine pair.
func (s *Server) serve(listener string, nc net.Conn, log zerolog.Logger) {
	if tc, ok := nc.(*net.TCPConn); ok {
		if s.cfg.SendBufferBytes > 0 {
			_ = tc.SetWriteBuffer(s.cfg.SendBufferBytes)
		}
		if s.cfg.ReceiveBufferBytes > 0 {
			_ = tc.SetReadBuffer(s.cfg.ReceiveBufferBytes)
		}
	}
	info := &Conn{ID: s.nextID.Add(1), Listener: listener, Local: nc.LocalAddr(), Remote: nc.RemoteAddr()}
	c := newConnection(s, nc, info, log.With().Str("remote", info.Remote.String()).Uint64("conn", info.ID).Logger())

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = nc.Close()
		c.cancel()
		return
	}
	s.conns[info.ID] = c
	s.wg.Add(2)
	s.mu.Unlock()

	s.stats.accepted.Add(1)
	s.stats.active.Add(1)
	c.log.Debug().Msg("connection accepted")
	go c.readLoop()
	go c.writeLoop()
}

const (
	sendfileAuto int32 = iota
	sendfileAlways
	sendfileNever
)

// sameHost reports a connection from this machine. Such traffic goes
// through Linux's loopback device, where sendfile gains nothing (the
// receiver copies anyway) and can lock into one 64 KiB segment per
// delayed ACK (about 1.5 MB/s) when SO_SNDBUF is fixed, as with Kafka's
// socket.send.buffer.bytes default of 102400.
func sameHost(nc net.Conn) bool {
	r, ok1 := nc.RemoteAddr().(*net.TCPAddr)
	l, ok2 := nc.LocalAddr().(*net.TCPAddr)
	return ok1 && ok2 && (r.IP.IsLoopback() || r.IP.Equal(l.IP))
}

// forget unregisters a finished connection.
func (s *Server) forget(c *connection) {
	s.mu.Lock()
	delete(s.conns, c.info.ID)
	s.mu.Unlock()
	s.stats.active.Add(-1)
}
