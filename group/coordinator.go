package group

import (
	"context"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/coordshard"
)

// Entry is one record for __consumer_offsets; a nil Value is a tombstone.
type Entry struct {
	Key, Value []byte
}

// Log is the coordinator's access to the local replicas of
// __consumer_offsets (wired by the broker over the replica manager).
type Log interface {
	// Append writes entries to a partition this broker leads, as one
	// batch, and returns once it is committed (acks=all) or failed, with
	// the offset of the first entry.
	Append(ctx context.Context, partition int32, entries []Entry) (int64, error)
	// AppendTxn is Append as one transactional batch of a producer (its
	// id and epoch, base sequence 0), as Kafka writes TxnOffsetCommit.
	AppendTxn(ctx context.Context, partition int32, transactionalID string, producerID int64, producerEpoch int16, entries []Entry) (int64, error)
	// Load calls fn for every record of a partition from its log start
	// to its log end, in offset order, transaction markers included.
	Load(ctx context.Context, partition int32, fn func(r LogRecord) error) error
}

// LogRecord is a record of __consumer_offsets as Load reads it.
type LogRecord struct {
	Offset     int64
	Key, Value []byte // unset for a marker
	// ProducerID is the batch's producer id (-1 when none); Transactional
	// its transactional attribute.
	ProducerID    int64
	Transactional bool
	// Marker: a COMMIT (Commit true) or ABORT transaction marker.
	Marker bool
	Commit bool
}

// Config holds the group settings of server.properties.
type Config struct {
	MinSessionTimeout      time.Duration // group.min.session.timeout.ms
	MaxSessionTimeout      time.Duration // group.max.session.timeout.ms
	InitialRebalanceDelay  time.Duration // group.initial.rebalance.delay.ms
	MaxSize                int           // group.max.size
	OffsetMetadataMaxBytes int           // offset.metadata.max.bytes
	OffsetsRetention       time.Duration // offsets.retention.minutes
	RetentionCheckInterval time.Duration // offsets.retention.check.interval.ms
	CommitTimeout          time.Duration // offsets.commit.timeout.ms
	// PartitionCount is the partition count of __consumer_offsets, ok
	// false while the topic does not exist.
	PartitionCount func() (int32, bool)
	// Now is the clock (nil: time.Now).
	Now    func() time.Time
	Logger zerolog.Logger
}

// Coordinator is the group coordinator of one broker: it serves the groups
// whose __consumer_offsets partition this broker leads.
//
// Concurrency: the shard set's lock guards the shard map only. Each
// shard's group map has its own lock, and each group its own: one owner per
// group, no state shared across groups. Lock order: shards → shard.mu →
// group.mu; a group lock is never held while appending to the log.
type Coordinator struct {
	cfg Config
	log Log
	lg  zerolog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // background loops (loads: shards)

	shards *coordshard.Set[*shard] // partitions led here
}

// shard is one __consumer_offsets partition led by this broker.
type shard struct {
	partition int32
	epoch     int32
	ctx       context.Context // cancelled when the shard is unloaded

	mu      sync.Mutex
	loaded  bool              // guarded by mu; false while loading
	groups  map[string]*group // guarded by mu
	removed bool              // guarded by mu; unloaded
	// txnGroups: per producer id, the groups it has transactional
	// offsets pending in; early: markers written while loading. Both
	// guarded by mu.
	txnGroups map[int64]map[string]bool
	early     []txnMarker
}

// New returns a Coordinator; Close stops it.
func New(cfg Config, log Log) *Coordinator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CommitTimeout <= 0 {
		cfg.CommitTimeout = 5 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Coordinator{cfg: cfg, log: log, lg: cfg.Logger.With().Str("component", "group").Logger(),
		ctx: ctx, cancel: cancel, shards: coordshard.New[*shard](ctx)}
	if cfg.RetentionCheckInterval > 0 {
		c.wg.Add(1)
		go c.expireLoop()
	}
	return c
}

// Close unloads every shard and waits for the background work.
func (c *Coordinator) Close() {
	c.cancel()
	c.shards.Close()
	c.wg.Wait()
}

// PartitionOf is the __consumer_offsets partition of a group, false while
// the topic does not exist.
func (c *Coordinator) PartitionOf(groupID string) (int32, bool) {
	return coordshard.PartitionOf(groupID, c.cfg.PartitionCount)
}

// Elect makes this broker the coordinator of partition p (it became the
// partition's leader at leader epoch epoch): the partition's groups and
// offsets are loaded in the background; meanwhile the partition's groups
// answer COORDINATOR_LOAD_IN_PROGRESS.
func (c *Coordinator) Elect(p, epoch int32) {
	c.shards.Elect(p, epoch, func(ctx context.Context) *shard {
		return &shard{partition: p, epoch: epoch, ctx: ctx, groups: map[string]*group{}}
	}, c.load)
}

// Resign stops coordinating partition p (leadership moved away or the
// replica was stopped): its groups are forgotten and their waiting
// members answered NOT_COORDINATOR. epoch -1 resigns whatever the epoch.
func (c *Coordinator) Resign(p, epoch int32) {
	if !c.shards.Resign(p, epoch) {
		return
	}
	c.lg.Info().Int32("partition", p).Int32("epoch", epoch).Msg("resigned as group coordinator")
}

// Epoch is the leader epoch the shard's partition was elected at.
func (s *shard) Epoch() int32 { return s.epoch }

// Unload forgets the shard's groups, answering their waiting members (the
// shard set has cancelled s.ctx).
func (s *shard) Unload() {
	s.mu.Lock()
	groups := s.groups
	s.groups, s.removed = map[string]*group{}, true
	s.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		g.shutdown(kerr.NotCoordinator)
		g.mu.Unlock()
	}
}

// shardFor finds the loaded shard owning a group, or the error Kafka
// answers: NOT_COORDINATOR when this broker does not own the group's
// partition, COORDINATOR_LOAD_IN_PROGRESS while it loads,
// COORDINATOR_NOT_AVAILABLE while __consumer_offsets does not exist.
func (c *Coordinator) shardFor(groupID string) (*shard, error) {
	p, ok := c.PartitionOf(groupID)
	if !ok {
		return nil, kerr.CoordinatorNotAvailable
	}
	s, ok := c.shards.Get(p)
	if !ok {
		return nil, kerr.NotCoordinator
	}
	s.mu.Lock()
	loaded := s.loaded
	s.mu.Unlock()
	if !loaded {
		return nil, kerr.CoordinatorLoadInProgress
	}
	return s, nil
}

// lookup returns a group of a loaded shard, locked, or nil (with the
// shard's error) when the shard is not available. create adds a missing
// group in state Empty; without it a missing group is (nil, nil).
func (c *Coordinator) lookup(groupID string, create bool) (*group, error) {
	s, err := c.shardFor(groupID)
	if err != nil {
		return nil, err
	}
	for {
		s.mu.Lock()
		if s.removed {
			s.mu.Unlock()
			return nil, kerr.NotCoordinator
		}
		g := s.groups[groupID]
		if g == nil {
			if !create {
				s.mu.Unlock()
				return nil, nil
			}
			g = newGroup(c, s, groupID)
			s.groups[groupID] = g
		}
		s.mu.Unlock()
		g.mu.Lock()
		if g.state == Dead {
			// Removed from the shard meanwhile; look again.
			g.mu.Unlock()
			if !create {
				return nil, nil
			}
			continue
		}
		return g, nil
	}
}

// removeGroup drops a Dead group from its shard.
func (s *shard) removeGroup(g *group) {
	s.mu.Lock()
	if s.groups[g.id] == g {
		delete(s.groups, g.id)
	}
	s.mu.Unlock()
}

// append writes entries to a shard's partition with the commit timeout.
func (c *Coordinator) append(s *shard, entries []Entry) (int64, error) {
	ctx, cancel := context.WithTimeout(s.ctx, c.cfg.CommitTimeout)
	defer cancel()
	return c.log.Append(ctx, s.partition, entries)
}

// allShards lists the shards of the partitions led here, loaded or not.
func (c *Coordinator) allShards() []*shard { return c.shards.All() }
