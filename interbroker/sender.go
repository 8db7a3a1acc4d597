package interbroker

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Sender delivers requests to one broker strictly in order, one in flight,
// retrying a request whose connection failed after a back-off until it is
// answered or the sender is closed (the controller closes a broker's sender
// when the broker leaves). Callbacks run on the sender's goroutine.
type Sender struct {
	conn    *Conn
	backoff time.Duration
	log     zerolog.Logger

	mu     sync.Mutex
	queue  []queued      // guarded by mu
	wake   chan struct{} // signalled on enqueue
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

type queued struct {
	req kmsg.Request
	cb  func(kmsg.Response, error)
}

// NewSender starts a sender to addr.
func NewSender(addr, clientID string, timeout, backoff time.Duration, log zerolog.Logger) *Sender {
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{
		conn: NewConn(addr, clientID, timeout), backoff: backoff, log: log,
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	go s.run()
	return s
}

// Addr is the destination.
func (s *Sender) Addr() string { return s.conn.Addr() }

// Enqueue adds a request; cb (may be nil) gets its response, or the error
// ErrClosed if the sender is closed before it is answered.
func (s *Sender) Enqueue(req kmsg.Request, cb func(kmsg.Response, error)) {
	s.mu.Lock()
	s.queue = append(s.queue, queued{req, cb})
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close stops the sender; queued requests get ErrClosed. It waits for the
// goroutine.
func (s *Sender) Close() {
	s.cancel()
	<-s.done
	s.conn.Close()
	s.mu.Lock()
	q := s.queue
	s.queue = nil
	s.mu.Unlock()
	for _, r := range q {
		if r.cb != nil {
			r.cb(nil, ErrClosed)
		}
	}
}

func (s *Sender) run() {
	defer close(s.done)
	for {
		s.mu.Lock()
		var next *queued
		if len(s.queue) > 0 {
			next = &s.queue[0]
		}
		s.mu.Unlock()
		if next == nil {
			select {
			case <-s.ctx.Done():
				return
			case <-s.wake:
				continue
			}
		}
		resp, err := s.conn.Request(s.ctx, next.req)
		if err != nil {
			if s.ctx.Err() != nil {
				return
			}
			s.log.Warn().Err(err).Str("to", s.conn.Addr()).Msg("request failed; retrying")
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(s.backoff):
			}
			continue
		}
		s.mu.Lock()
		done := s.queue[0]
		s.queue = s.queue[1:]
		s.mu.Unlock()
		if done.cb != nil {
			done.cb(resp, nil)
		}
	}
}
