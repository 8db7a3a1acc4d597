package inproc

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/broker"
	"github.com/kbroker/kbroker/config"
	"github.com/kbroker/kbroker/internal/testcluster"
)

func init() { testcluster.InProcessFactory = New }

// New is a testcluster.InProcessFactory: it loads the properties the way
// cmd/kbroker does (without the environment) and returns a handle.
func New(cfg testcluster.InProcessConfig) (testcluster.BrokerHandle, error) {
	bc, err := config.Load(config.Options{Properties: cfg.Props, IgnoreEnv: true})
	if err != nil {
		return nil, err
	}
	w := &lateWriter{w: cfg.Log}
	return &handle{w: w, b: broker.New(bc, zerolog.New(w).With().Timestamp().Logger())}, nil
}

// lateWriter passes log lines to the broker's log file until the broker
// stopped. A line logged after Close returned means a goroutine outlived
// the broker: it goes to stderr marked "LOGGED AFTER CLOSE" so that the
// leak shows in the test output.
type lateWriter struct {
	mu      sync.Mutex
	w       io.Writer
	stopped bool
}

func (l *lateWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		_, _ = os.Stderr.Write(append([]byte("LOGGED AFTER CLOSE: "), p...))
		return len(p), nil
	}
	return l.w.Write(p)
}

type handle struct {
	w    *lateWriter
	b    *broker.Broker
	once sync.Once
	err  error
}

func (h *handle) Start() error { return h.b.Start(context.Background()) }

func (h *handle) Stop() error {
	h.once.Do(func() {
		h.err = h.b.Close()
		h.w.mu.Lock()
		h.w.stopped = true
		h.w.mu.Unlock()
	})
	return h.err
}

func (h *handle) Kill() error { return h.Stop() }

func (h *handle) Addr() string {
	a := h.b.FirstListenerAddr()
	if a == nil {
		return ""
	}
	return fmt.Sprint(a)
}
