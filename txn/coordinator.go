package txn

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/coordshard"
)

// Entry is one record for __transaction_state; a nil Value is a tombstone.
type Entry struct {
	Key, Value []byte
	Timestamp  int64 // ms
}

// Log is the coordinator's access to the local replicas of
// __transaction_state (wired by the broker over the replica manager).
type Log interface {
	// Append writes entries to a partition this broker leads, as one
	// batch, and returns once it is committed (acks=all) or failed.
	Append(ctx context.Context, partition int32, entries []Entry) error
	// Load calls fn for every data record of a partition from its log
	// start to its log end, in offset order.
	Load(ctx context.Context, partition int32, fn func(offset int64, key, value []byte) error) error
}

// IDSource hands out new producer ids (ProducerIDs in the broker).
type IDSource interface {
	Next(ctx context.Context) (int64, error)
}

// Config holds the transaction settings of server.properties.
type Config struct {
	MaxTimeout            time.Duration // transaction.max.timeout.ms
	IDExpiration          time.Duration // transactional.id.expiration.ms
	AbortInterval         time.Duration // transaction.abort.timed.out.transaction.cleanup.interval.ms
	RemoveExpiredInterval time.Duration // transaction.remove.expired.transaction.cleanup.interval.ms
	AppendTimeout         time.Duration // how long one state write may take (Kafka: request.timeout.ms)
	MarkerRetryBackoff    time.Duration // between marker attempts (0: 100ms)
	// PartitionCount is the partition count of __transaction_state, ok
	// false while it cannot be known.
	PartitionCount func() (int32, bool)
	// Now is the clock (nil: time.Now).
	Now    func() time.Time
	Logger zerolog.Logger
}

// Coordinator is the transaction coordinator of one broker: it serves the
// transactional ids whose __transaction_state partition this broker leads.
//
// Concurrency: the shard set's lock guards the shard map; each shard's id
// map has its own lock, each transactional id its own (txnMeta.mu). Lock
// order: shards → shard.mu → txnMeta.mu. No lock is held while appending
// to the log or sending markers.
type Coordinator struct {
	cfg     Config
	log     Log
	ids     IDSource
	markers MarkerTransport
	lg      zerolog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // background loops and marker senders (loads: shards)

	shards *coordshard.Set[*shard] // partitions led here
}

// shard is one __transaction_state partition led by this broker; epoch is
// its leader epoch, the coordinator epoch of the markers it sends.
type shard struct {
	partition int32
	epoch     int32
	ctx       context.Context // cancelled on unload

	mu      sync.Mutex
	loaded  bool                // guarded by mu
	removed bool                // guarded by mu
	txns    map[string]*txnMeta // guarded by mu
}

// New returns a Coordinator; Close stops it.
func New(cfg Config, log Log, ids IDSource, markers MarkerTransport) *Coordinator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxTimeout <= 0 {
		cfg.MaxTimeout = 15 * time.Minute
	}
	if cfg.AppendTimeout <= 0 {
		cfg.AppendTimeout = 30 * time.Second
	}
	if cfg.MarkerRetryBackoff <= 0 {
		cfg.MarkerRetryBackoff = 100 * time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{cfg: cfg, log: log, ids: ids, markers: markers, lg: cfg.Logger.With().Str("component", "txn").Logger(),
		ctx: ctx, cancel: cancel, shards: coordshard.New[*shard](ctx)}
	if cfg.AbortInterval > 0 {
		c.wg.Add(1)
		go c.every(cfg.AbortInterval, c.abortTimedOut)
	}
	if cfg.RemoveExpiredInterval > 0 && cfg.IDExpiration > 0 {
		c.wg.Add(1)
		go c.every(cfg.RemoveExpiredInterval, c.removeExpired)
	}
	return c
}

// Close unloads every shard and waits for the background work.
func (c *Coordinator) Close() {
	c.cancel()
	c.shards.Close() // waits for the loads, which may start marker senders
	c.wg.Wait()
}

func (c *Coordinator) every(d time.Duration, fn func()) {
	defer c.wg.Done()
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

func (c *Coordinator) nowMs() int64 { return c.cfg.Now().UnixMilli() }

// PartitionOf is the __transaction_state partition of a transactional id,
// false while the partition count is unknown.
func (c *Coordinator) PartitionOf(transactionalID string) (int32, bool) {
	return coordshard.PartitionOf(transactionalID, c.cfg.PartitionCount)
}

// Elect makes this broker the coordinator of partition p at leader epoch
// epoch: the partition is loaded in the background (its ids answer
// COORDINATOR_LOAD_IN_PROGRESS meanwhile), then the transactions found
// prepared get their markers sent again.
func (c *Coordinator) Elect(p, epoch int32) {
	c.shards.Elect(p, epoch, func(ctx context.Context) *shard {
		return &shard{partition: p, epoch: epoch, ctx: ctx, txns: map[string]*txnMeta{}}
	}, c.load)
}

// Resign stops coordinating partition p; epoch -1 resigns whatever the
// epoch.
func (c *Coordinator) Resign(p, epoch int32) {
	if !c.shards.Resign(p, epoch) {
		return
	}
	c.lg.Info().Int32("partition", p).Int32("epoch", epoch).Msg("resigned as transaction coordinator")
}

// Epoch is the leader epoch the shard's partition was elected at.
func (s *shard) Epoch() int32 { return s.epoch }

// Unload forgets the shard's ids (the shard set has cancelled s.ctx).
func (s *shard) Unload() {
	s.mu.Lock()
	s.txns, s.removed = map[string]*txnMeta{}, true
	s.mu.Unlock()
}

// current reports whether the shard still serves its partition.
func (s *shard) current() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.removed
}

// load reads the partition and rebuilds the transactional ids (Kafka's
// loadTransactionsForTxnTopicPartition); a tombstone removes an id.
func (c *Coordinator) load(s *shard) {
	start := time.Now()
	recs := map[string]*Metadata{}
	skipped := 0
	err := c.log.Load(s.ctx, s.partition, func(off int64, key, value []byte) error {
		id, m, err := ParseRecord(key, value)
		if err != nil {
			if skipped == 0 || !errors.Is(err, ErrUnknownKeyVersion) {
				c.lg.Warn().Err(err).Int32("partition", s.partition).Int64("offset", off).Msg("skipping a __transaction_state record")
			}
			skipped++
			return nil
		}
		if m == nil {
			delete(recs, id)
		} else {
			recs[id] = m
		}
		return nil
	})
	if err != nil {
		if s.ctx.Err() == nil {
			c.lg.Error().Err(err).Int32("partition", s.partition).Msg("loading transactions failed; the partition's transactional ids stay unavailable")
		}
		return
	}
	txns := make(map[string]*txnMeta, len(recs))
	for id, r := range recs {
		txns[id] = metaFromRecord(id, r)
	}
	prepared := make([]*txnMeta, 0)
	for _, m := range txns {
		if m.state == PrepareCommit || m.state == PrepareAbort {
			prepared = append(prepared, m)
		}
	}
	n := len(txns)
	s.mu.Lock()
	if s.removed {
		s.mu.Unlock()
		return
	}
	s.txns, s.loaded = txns, true
	s.mu.Unlock()
	c.lg.Info().Int32("partition", s.partition).Int32("epoch", s.epoch).Int("transactionalIds", n).
		Dur("took", time.Since(start)).Msg("loaded transactions")
	// Prepared transactions: send their markers again and complete them.
	for _, m := range prepared {
		m.mu.Lock()
		if m.state != PrepareCommit && m.state != PrepareAbort {
			m.mu.Unlock()
			continue
		}
		c.startCompletionLocked(s, m)
		m.mu.Unlock()
	}
}

// shardFor finds the loaded shard owning an id, or NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS, COORDINATOR_NOT_AVAILABLE.
func (c *Coordinator) shardFor(id string) (*shard, error) {
	p, ok := c.PartitionOf(id)
	if !ok {
		return nil, kerr.CoordinatorNotAvailable
	}
	s, ok := c.shards.Get(p)
	if !ok {
		return nil, kerr.NotCoordinator
	}
	s.mu.Lock()
	loaded, removed := s.loaded, s.removed
	s.mu.Unlock()
	switch {
	case removed:
		return nil, kerr.NotCoordinator
	case !loaded:
		return nil, kerr.CoordinatorLoadInProgress
	}
	return s, nil
}

// get returns an id's state (nil when unknown).
func (s *shard) get(id string) *txnMeta {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txns[id]
}

// putIfAbsent adds m unless the id exists; it returns the id's state.
func (s *shard) putIfAbsent(m *txnMeta) (*txnMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.removed {
		return nil, kerr.NotCoordinator
	}
	if old := s.txns[m.id]; old != nil {
		return old, nil
	}
	s.txns[m.id] = m
	return m, nil
}

func (s *shard) remove(m *txnMeta) {
	s.mu.Lock()
	if s.txns[m.id] == m {
		delete(s.txns, m.id)
	}
	s.mu.Unlock()
}

// allShards lists the shards of the partitions led here, loaded or not.
func (c *Coordinator) allShards() []*shard { return c.shards.All() }

func (s *shard) all() []*txnMeta {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*txnMeta, 0, len(s.txns))
	for _, m := range s.txns {
		out = append(out, m)
	}
	return out
}

// write appends a prepared transition (m.pending == t) and applies it, or
// drops it on failure, mapping the failure as Kafka's
// appendTransactionToLog does.
func (c *Coordinator) write(ctx context.Context, s *shard, m *txnMeta, t *transit) error {
	e := Entry{Key: KeyBytes(m.id), Timestamp: t.lastUpdateMs}
	if t.state != Dead {
		e.Value = ValueBytes(t.record())
	}
	actx, cancel := context.WithTimeout(s.ctx, c.cfg.AppendTimeout)
	stop := context.AfterFunc(ctx, cancel)
	err := c.log.Append(actx, s.partition, []Entry{e})
	stop()
	cancel()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pending != t {
		return kerr.NotCoordinator
	}
	m.pending = nil
	if err != nil {
		c.lg.Debug().Err(err).Str("transactionalId", m.id).Msg("writing transaction state failed")
		return appendError(err)
	}
	if !s.current() {
		return kerr.NotCoordinator
	}
	m.applyLocked(t)
	return nil
}

// appendError maps a failed state write to the error the client gets.
func appendError(err error) error {
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.NotEnoughReplicas),
		errors.Is(err, kerr.NotEnoughReplicasAfterAppend), errors.Is(err, kerr.RequestTimedOut),
		errors.Is(err, context.DeadlineExceeded):
		return kerr.CoordinatorNotAvailable
	case errors.Is(err, kerr.NotLeaderForPartition), errors.Is(err, kerr.KafkaStorageError), errors.Is(err, context.Canceled):
		return kerr.NotCoordinator
	}
	return kerr.UnknownServerError
}
