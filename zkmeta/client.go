package zkmeta

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/rs/zerolog"
)

// Config says how to reach ZooKeeper.
type Config struct {
	// Connect is zookeeper.connect: "h1:2181,h2:2181/chroot". Everything from
	// the first '/' is the chroot; it is created (persistent, recursively) if
	// missing and every path of this package is relative to it.
	Connect string
	// SessionTimeout is zookeeper.session.timeout.ms (default 18 s). The
	// server clamps it to its [minSessionTimeout, maxSessionTimeout].
	SessionTimeout time.Duration
	// ConnectionTimeout bounds how long Connect waits for the first session
	// (zookeeper.connection.timeout.ms; default = SessionTimeout).
	ConnectionTimeout time.Duration
	Logger            zerolog.Logger
}

// DefaultSessionTimeout is Kafka's zookeeper.session.timeout.ms default.
const DefaultSessionTimeout = 18 * time.Second

// SessionEventType says what happened to the ZooKeeper session.
type SessionEventType int

const (
	// SessionExpired: the server expired the session; its ephemeral nodes
	// (broker registration, /controller) are gone and its watches are void
	// (their channels have been closed). SessionID is the lost session.
	SessionExpired SessionEventType = iota + 1
	// SessionEstablished: a new session exists after an expiry. SessionID is
	// the new session. Re-register the broker, re-arm watches, re-elect.
	SessionEstablished
)

func (t SessionEventType) String() string {
	switch t {
	case SessionExpired:
		return "SessionExpired"
	case SessionEstablished:
		return "SessionEstablished"
	}
	return fmt.Sprintf("SessionEventType(%d)", int(t))
}

// SessionEvent is delivered on Client.SessionEvents.
type SessionEvent struct {
	Type      SessionEventType
	SessionID int64
}

// Client is a typed ZooKeeper client for Kafka's znodes. It is safe for
// concurrent use. Close releases every goroutine it started.
type Client struct {
	conn   *zk.Conn
	chroot string // "" or "/kafka" (no trailing slash)
	log    zerolog.Logger

	connReady    chan struct{} // closed once conn is set
	firstSession chan struct{} // closed at the first StateHasSession
	done         chan struct{} // closed when Close starts
	zkDone       chan struct{} // closed when go-zookeeper's event loop has ended
	events       chan SessionEvent
	wake         chan struct{} // cap 1: the session queue grew

	mu           sync.Mutex
	closed       bool           // guarded by mu
	sessionID    int64          // guarded by mu: last session this client had
	expired      bool           // guarded by mu: sessionID was expired and no new one yet
	prevSessions []int64        // guarded by mu: earlier sessions of this client
	queue        []SessionEvent // guarded by mu: not yet delivered on events

	firstOnce sync.Once
	closeOnce sync.Once
	wg        sync.WaitGroup // dispatcher, zk event drain, watch goroutines
}

// parseConnect splits "h1:p,h2:p/chroot" into servers and chroot.
func parseConnect(s string) ([]string, string, error) {
	s = strings.TrimSpace(s)
	hosts, chroot := s, ""
	if i := strings.IndexByte(s, '/'); i >= 0 {
		hosts, chroot = s[:i], strings.TrimRight(s[i:], "/")
	}
	var servers []string
	for _, h := range strings.Split(hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			servers = append(servers, h)
		}
	}
	if len(servers) == 0 {
		return nil, "", fmt.Errorf("zkmeta: connect string %q names no server", s)
	}
	if strings.Contains(chroot, "//") {
		return nil, "", fmt.Errorf("zkmeta: connect string %q: bad chroot", s)
	}
	return servers, chroot, nil
}

type zkLogger struct{ l zerolog.Logger }

func (z zkLogger) Printf(format string, args ...any) { z.l.Info().Msgf(format, args...) }

// Connect opens a session, waits for it (ConnectionTimeout, ctx) and creates
// the chroot if missing.
func Connect(ctx context.Context, cfg Config) (*Client, error) {
	servers, chroot, err := parseConnect(cfg.Connect)
	if err != nil {
		return nil, err
	}
	if cfg.SessionTimeout <= 0 {
		cfg.SessionTimeout = DefaultSessionTimeout
	}
	if cfg.ConnectionTimeout <= 0 {
		cfg.ConnectionTimeout = cfg.SessionTimeout
	}
	c := &Client{
		chroot:       chroot,
		log:          cfg.Logger.With().Str("component", "zkmeta").Logger(),
		connReady:    make(chan struct{}),
		firstSession: make(chan struct{}),
		done:         make(chan struct{}),
		zkDone:       make(chan struct{}),
		events:       make(chan SessionEvent),
		wake:         make(chan struct{}, 1),
	}
	conn, evCh, err := zk.Connect(servers, cfg.SessionTimeout,
		zk.WithLogger(zkLogger{c.log}),
		zk.WithLogInfo(false),
		zk.WithEventCallback(c.onEvent))
	if err != nil {
		return nil, fmt.Errorf("zkmeta: connect %s: %w", cfg.Connect, err)
	}
	c.conn = conn
	close(c.connReady)
	c.wg.Add(2)
	go func() { // drain go-zookeeper's channel; it closes when its loop ends
		defer c.wg.Done()
		for range evCh {
		}
		close(c.zkDone)
	}()
	go c.dispatch()

	timer := time.NewTimer(cfg.ConnectionTimeout)
	defer timer.Stop()
	select {
	case <-c.firstSession:
	case <-timer.C:
		c.Close()
		return nil, fmt.Errorf("zkmeta: connect %s: no session within %v", cfg.Connect, cfg.ConnectionTimeout)
	case <-ctx.Done():
		c.Close()
		return nil, fmt.Errorf("zkmeta: connect %s: %w", cfg.Connect, ctx.Err())
	}
	if chroot != "" {
		if err := c.ensureAbs(ctx, chroot); err != nil {
			c.Close()
			return nil, fmt.Errorf("zkmeta: create chroot: %w", err)
		}
	}
	c.log.Info().Str("connect", cfg.Connect).Int64("session", c.SessionID()).Msg("connected to ZooKeeper")
	return c, nil
}

// onEvent is go-zookeeper's event callback; it must not block for long.
func (c *Client) onEvent(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return
	}
	<-c.connReady // only waits during zk.Connect's return
	c.mu.Lock()
	defer c.mu.Unlock()
	switch ev.State {
	case zk.StateHasSession:
		id := c.conn.SessionID()
		if c.sessionID != 0 && id != c.sessionID {
			if !c.expired { // a new session without a reported expiry
				c.pushLocked(SessionEvent{Type: SessionExpired, SessionID: c.sessionID})
			}
			c.prevSessions = append(c.prevSessions, c.sessionID)
			c.pushLocked(SessionEvent{Type: SessionEstablished, SessionID: id})
		}
		c.sessionID, c.expired = id, false
		c.firstOnce.Do(func() { close(c.firstSession) })
	case zk.StateExpired:
		if c.sessionID != 0 && !c.expired {
			c.expired = true
			c.log.Warn().Int64("session", c.sessionID).Msg("ZooKeeper session expired")
			c.pushLocked(SessionEvent{Type: SessionExpired, SessionID: c.sessionID})
		}
	}
}

func (c *Client) pushLocked(ev SessionEvent) {
	if c.closed {
		return
	}
	c.queue = append(c.queue, ev)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// dispatch delivers queued session events in order until Close.
func (c *Client) dispatch() {
	defer c.wg.Done()
	defer close(c.events)
	for {
		c.mu.Lock()
		var ev SessionEvent
		has := len(c.queue) > 0
		if has {
			ev = c.queue[0]
		}
		c.mu.Unlock()
		if !has {
			select {
			case <-c.wake:
				continue
			case <-c.done:
				return
			}
		}
		select {
		case c.events <- ev:
			c.mu.Lock()
			c.queue = c.queue[1:]
			c.mu.Unlock()
		case <-c.done:
			return
		}
	}
}

// SessionEvents delivers session expiries and re-establishments, in order.
// The channel is closed by Close. Events queue up unboundedly while nobody
// reads, so read it for the client's lifetime.
func (c *Client) SessionEvents() <-chan SessionEvent { return c.events }

// SessionID is the current session id (0 while expired and not yet renewed).
func (c *Client) SessionID() int64 { return c.conn.SessionID() }

// Close ends the session (its ephemeral nodes go away at once), closes every
// pending watch channel and SessionEvents, and waits for all goroutines.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.mu.Unlock()
		close(c.done)
		c.conn.Close()
		<-c.zkDone // go-zookeeper's loop ended: all its watch channels are closed
		c.wg.Wait()
	})
	return nil
}

func (c *Client) isPreviousSession(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return id != 0 && slices.Contains(c.prevSessions, id)
}

// abs maps a chroot-relative path to the server path.
func (c *Client) abs(path string) string {
	if path == "/" {
		if c.chroot != "" {
			return c.chroot
		}
		return "/"
	}
	return c.chroot + path
}

// retry runs fn until it succeeds, fails for a non-transient reason, ctx
// ends or the client closes. attempt counts from 0, so a write can tell that
// an earlier attempt may have been applied before the connection dropped.
func (c *Client) retry(ctx context.Context, fn func(attempt int) error) error {
	backoff := 20 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case <-c.done:
			return ErrClosed
		default:
		}
		err := fn(attempt)
		if err == nil || !transient(err) {
			return err
		}
		c.log.Debug().Err(err).Int("attempt", attempt).Msg("ZooKeeper request failed; retrying")
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-c.done:
			t.Stop()
			return ErrClosed
		case <-t.C:
		}
		if backoff < 500*time.Millisecond {
			backoff *= 2
		}
	}
}

// watch converts a go-zookeeper watch channel into one that is closed when
// the watch fires, the session expires or the client closes.
func (c *Client) watch(ch <-chan zk.Event) <-chan struct{} {
	out := make(chan struct{})
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		close(out)
		return out
	}
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		<-ch // go-zookeeper sends one event, then closes; or closes on expiry/close
		close(out)
	}()
	return out
}

var openACL = zk.WorldACL(zk.PermAll)

// get reads a znode.
func (c *Client) get(ctx context.Context, path string) ([]byte, *zk.Stat, error) {
	var data []byte
	var stat *zk.Stat
	err := c.retry(ctx, func(int) error {
		var err error
		data, stat, err = c.conn.Get(c.abs(path))
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("zkmeta: get %s: %w", path, err)
	}
	return data, stat, nil
}

func (c *Client) exists(ctx context.Context, path string) (bool, *zk.Stat, error) {
	var ok bool
	var stat *zk.Stat
	err := c.retry(ctx, func(int) error {
		var err error
		ok, stat, err = c.conn.Exists(c.abs(path))
		return err
	})
	if err != nil {
		return false, nil, fmt.Errorf("zkmeta: exists %s: %w", path, err)
	}
	return ok, stat, nil
}

func (c *Client) children(ctx context.Context, path string) ([]string, error) {
	var kids []string
	err := c.retry(ctx, func(int) error {
		var err error
		kids, _, err = c.conn.Children(c.abs(path))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("zkmeta: children %s: %w", path, err)
	}
	slices.Sort(kids)
	return kids, nil
}

func (c *Client) childrenW(ctx context.Context, path string) ([]string, <-chan struct{}, error) {
	var kids []string
	var ch <-chan zk.Event
	err := c.retry(ctx, func(int) error {
		var err error
		kids, _, ch, err = c.conn.ChildrenW(c.abs(path))
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("zkmeta: watch children %s: %w", path, err)
	}
	slices.Sort(kids)
	return kids, c.watch(ch), nil
}

// getW reads a znode and leaves a watch on it: a data watch when it exists,
// an exists watch when it does not (data == nil, stat == nil then).
func (c *Client) getW(ctx context.Context, path string) ([]byte, *zk.Stat, <-chan struct{}, error) {
	for {
		var data []byte
		var stat *zk.Stat
		var ch <-chan zk.Event
		err := c.retry(ctx, func(int) error {
			var err error
			data, stat, ch, err = c.conn.GetW(c.abs(path))
			return err
		})
		if err == nil {
			return data, stat, c.watch(ch), nil
		}
		if !errors.Is(err, zk.ErrNoNode) {
			return nil, nil, nil, fmt.Errorf("zkmeta: watch %s: %w", path, err)
		}
		var ok bool
		err = c.retry(ctx, func(int) error {
			var err error
			ok, _, ch, err = c.conn.ExistsW(c.abs(path))
			return err
		})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("zkmeta: watch %s: %w", path, err)
		}
		w := c.watch(ch)
		if !ok {
			return nil, nil, w, nil
		}
		// Created in between: the exists call left a data watch; read again.
	}
}

// ensureAbs creates an absolute path and its parents (persistent, null data)
// where missing.
func (c *Client) ensureAbs(ctx context.Context, abs string) error {
	if abs == "" || abs == "/" {
		return nil
	}
	ok, _, err := c.conn.Exists(abs)
	if err == nil && ok {
		return nil
	}
	parts := strings.Split(strings.TrimPrefix(abs, "/"), "/")
	p := ""
	for _, part := range parts {
		p += "/" + part
		err := c.retry(ctx, func(int) error {
			_, err := c.conn.Create(p, nil, 0, openACL)
			if errors.Is(err, zk.ErrNodeExists) {
				return nil
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("zkmeta: create %s: %w", p, err)
		}
	}
	return nil
}

// ensurePath creates a chroot-relative path and its parents where missing.
func (c *Client) ensurePath(ctx context.Context, path string) error {
	return c.ensureAbs(ctx, c.abs(path))
}

// createRecursive creates path with data, creating missing parents with null
// data. NodeExists on path itself is returned.
func (c *Client) createRecursive(ctx context.Context, path string, data []byte, flags int32) error {
	create := func(int) error {
		_, err := c.conn.Create(c.abs(path), data, flags, openACL)
		return err
	}
	err := c.retry(ctx, create)
	if errors.Is(err, zk.ErrNoNode) {
		parent := path[:strings.LastIndexByte(path, '/')]
		if perr := c.ensurePath(ctx, parent); perr != nil {
			return perr
		}
		err = c.retry(ctx, create)
	}
	if err != nil {
		return fmt.Errorf("zkmeta: create %s: %w", path, err)
	}
	return nil
}

// Multi ops with chroot applied.
func (c *Client) opCreate(path string, data []byte, flags int32) *zk.CreateRequest {
	return &zk.CreateRequest{Path: c.abs(path), Data: data, Acl: openACL, Flags: flags}
}

func (c *Client) opSet(path string, data []byte, version int32) *zk.SetDataRequest {
	return &zk.SetDataRequest{Path: c.abs(path), Data: data, Version: version}
}

func (c *Client) opDelete(path string, version int32) *zk.DeleteRequest {
	return &zk.DeleteRequest{Path: c.abs(path), Version: version}
}

func (c *Client) opCheck(path string, version int32) *zk.CheckVersionRequest {
	return &zk.CheckVersionRequest{Path: c.abs(path), Version: version}
}

// multiResult describes the outcome of a multi: Failed is the index of the
// op that failed (-1 when the failure is not tied to an op), OpErr its error.
type multiResult struct {
	Responses []zk.MultiResponse
	Failed    int
	OpErr     error
}

// multi runs ops atomically (one attempt; connection loss is returned).
func (c *Client) multi(ops ...any) (multiResult, error) {
	mr, err := c.conn.Multi(ops...)
	res := multiResult{Responses: mr, Failed: -1}
	if err == nil {
		return res, nil
	}
	for i, r := range mr {
		if r.Error != nil {
			res.Failed, res.OpErr = i, r.Error
			break
		}
	}
	if res.OpErr == nil {
		res.OpErr = err
	}
	return res, err
}

// Fence proves the controller's election: writes made with it succeed only
// while /controller_epoch still has EpochZkVersion.
type Fence struct {
	Epoch          int32
	EpochZkVersion int32
}

// fencedMulti runs [check(/controller_epoch, f.EpochZkVersion), ops...] with
// retries on connection loss. A failed check returns ErrControllerMoved; a
// failed op returns its index (in ops) and error wrapped with what.
func (c *Client) fencedMulti(ctx context.Context, f Fence, what string, ops []any,
	onRetryFailure func(attempt, idx int, err error) (done bool)) (multiResult, error) {
	all := make([]any, 0, len(ops)+1)
	all = append(all, c.opCheck(ControllerEpochPath, f.EpochZkVersion))
	all = append(all, ops...)
	var res multiResult
	err := c.retry(ctx, func(attempt int) error {
		var err error
		res, err = c.multi(all...)
		if err != nil && res.Failed > 0 && onRetryFailure != nil && onRetryFailure(attempt, res.Failed-1, res.OpErr) {
			res = multiResult{Failed: -1}
			return nil
		}
		return err
	})
	if err == nil {
		if len(res.Responses) > 0 {
			res.Responses = res.Responses[1:]
		}
		return res, nil
	}
	switch {
	case res.Failed == 0:
		return res, fmt.Errorf("%w: %s: /controller_epoch is no longer at zkVersion %d (epoch %d): %v",
			ErrControllerMoved, what, f.EpochZkVersion, f.Epoch, res.OpErr)
	case res.Failed > 0:
		res.Failed--
		return res, fmt.Errorf("zkmeta: %s: %w", what, res.OpErr)
	}
	return res, fmt.Errorf("zkmeta: %s: %w", what, err)
}
