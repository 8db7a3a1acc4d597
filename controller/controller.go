package controller

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/zkmeta"
)

// Options configure a Controller.
type Options struct {
	BrokerID model.BrokerID
	ZK       *zkmeta.Client
	// InterBrokerListener names the listener brokers are reached on.
	InterBrokerListener string
	// DeleteTopicEnable is delete.topic.enable.
	DeleteTopicEnable bool
	// UncleanLeaderElectionEnable is the broker's
	// unclean.leader.election.enable, the default for topics without an
	// override in /config/topics/<t>.
	UncleanLeaderElectionEnable bool
	// AutoLeaderRebalanceEnable is auto.leader.rebalance.enable: while
	// active, the controller checks the leader imbalance every
	// LeaderImbalanceCheckInterval (the first time 5 s after failover) and
	// moves leaderships back to preferred replicas (controller/preferred.go).
	AutoLeaderRebalanceEnable bool
	// LeaderImbalancePerBrokerPercentage is
	// leader.imbalance.per.broker.percentage.
	LeaderImbalancePerBrokerPercentage int32
	// LeaderImbalanceCheckInterval is leader.imbalance.check.interval.seconds.
	LeaderImbalanceCheckInterval time.Duration
	// RequestTimeout is controller.socket.timeout.ms.
	RequestTimeout time.Duration
	// Backoff between retries of a failed request to a broker.
	Backoff time.Duration
	Logger  zerolog.Logger
}

// Controller takes part in the election and, while active, runs the
// cluster.
type Controller struct {
	opts Options
	log  zerolog.Logger
	zk   *zkmeta.Client

	// The event queue: watches and callbacks append, the loop drains.
	qmu    sync.Mutex
	queue  []func()
	signal chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
	wg     sync.WaitGroup // watch goroutines

	started    atomic.Bool
	activeFlag atomic.Bool
	epochValue atomic.Int32

	// Everything below is owned by the event loop.
	st *state
}

// state is the active controller's view of the cluster (Kafka's
// ControllerContext). Only the event loop touches it.
type state struct {
	fence      zkmeta.Fence
	live       map[model.BrokerID]zkmeta.RegisteredBroker
	topics     map[string]*topicState
	deleting   map[string]*deletion
	senders    map[model.BrokerID]*interbroker.Sender
	generation uint64 // bumped on every failover, so stale watch events are dropped
	// shuttingDown holds the brokers in controlled shutdown: still in live
	// (they get requests) but neither leaders nor ISR members to elect.
	// Created on first use; a broker leaves it when its registration goes.
	shuttingDown map[model.BrokerID]bool
	// rebalanceTimer fires the next auto leader rebalance check; stopped
	// on resignation.
	rebalanceTimer *time.Timer
}

type topicState struct {
	id         model.TopicID
	version    int32 // topic znode version
	partitions map[int32][]model.BrokerID
	states     map[int32]model.LeaderAndISR // from the state znodes
}

// New returns a controller; Start joins the election.
func New(opts Options) *Controller {
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = 30 * time.Second
	}
	if opts.Backoff == 0 {
		opts.Backoff = 100 * time.Millisecond
	}
	if opts.LeaderImbalanceCheckInterval <= 0 {
		opts.LeaderImbalanceCheckInterval = 300 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Controller{
		opts: opts, zk: opts.ZK,
		log:    opts.Logger.With().Str("component", "controller").Logger(),
		signal: make(chan struct{}, 1),
		ctx:    ctx, cancel: cancel, done: make(chan struct{}),
	}
	c.epochValue.Store(-1)
	return c
}

// Start runs the event loop and tries to become the controller.
func (c *Controller) Start() {
	c.started.Store(true)
	go c.loop()
	c.enqueue(c.elect)
}

// IsActive reports whether this broker is the controller.
func (c *Controller) IsActive() bool { return c.activeFlag.Load() }

// Epoch is the controller epoch while active, else -1.
func (c *Controller) Epoch() int32 { return c.epochValue.Load() }

// Reelect is called by the broker after a new ZooKeeper session replaced an
// expired one (and the broker re-registered): resign anything left and run
// the election again.
func (c *Controller) Reelect() {
	c.enqueue(func() {
		c.resign("session re-established")
		c.elect()
	})
}

// SessionExpired is called when the ZooKeeper session is lost: resign at
// once (the /controller znode is gone with the session).
func (c *Controller) SessionExpired() {
	c.enqueue(func() { c.resign("ZooKeeper session expired") })
}

// Close resigns and stops the loop, the watches and the senders. A
// controller that was never started only releases its context.
func (c *Controller) Close() {
	if !c.started.Load() {
		c.cancel()
		return
	}
	c.enqueue(func() { c.resign("shutting down") })
	// Let the resignation run, then stop.
	done := make(chan struct{})
	c.enqueue(func() { close(done) })
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	c.cancel()
	<-c.done
	c.wg.Wait()
}

func (c *Controller) enqueue(fn func()) {
	c.qmu.Lock()
	c.queue = append(c.queue, fn)
	c.qmu.Unlock()
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

func (c *Controller) loop() {
	defer close(c.done)
	for {
		c.qmu.Lock()
		q := c.queue
		c.queue = nil
		c.qmu.Unlock()
		for _, fn := range q {
			if c.ctx.Err() != nil {
				return
			}
			c.run(fn)
		}
		select {
		case <-c.ctx.Done():
			return
		case <-c.signal:
		}
	}
}

// run executes one event; a fenced write that failed because another
// controller took over makes us resign.
func (c *Controller) run(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			if r == errMoved {
				c.resign("another controller took over (controller epoch fence)")
				return
			}
			panic(r)
		}
	}()
	fn()
}

// watch waits on a one-shot watch channel in its own goroutine and then
// enqueues fn, unless the controller generation changed meanwhile.
func (c *Controller) watch(ch <-chan struct{}, fn func()) {
	gen := uint64(0)
	if c.st != nil {
		gen = c.st.generation
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		select {
		case <-ch:
		case <-c.ctx.Done():
			return
		}
		c.enqueue(func() {
			if c.st == nil || c.st.generation != gen {
				return
			}
			fn()
		})
	}()
}
