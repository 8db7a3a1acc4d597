package commitlog

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/segment"
)

// Options are what Open needs besides the directory. The offsets come from
// the log directory's checkpoint files.
type Options struct {
	Config Config
	// FS is the file system; nil means segment.OS{}.
	FS segment.FS
	// Now returns the clock in milliseconds; nil means the wall clock.
	Now    func() int64
	Logger zerolog.Logger
	// HadCleanShutdown skips recovery (the directory held .kafka_cleanshutdown).
	HadCleanShutdown bool
	// RecoveryPoint is the checkpointed offset up to which data was flushed.
	RecoveryPoint int64
	// LogStartOffset is the checkpointed log start offset (0 if none).
	LogStartOffset int64
	// HighWatermark is the checkpointed high watermark (0 if none).
	HighWatermark int64
	// OnStorageError, if set, is told (on its own goroutine) the first time
	// a storage error takes the log offline, so the owner of the log
	// directory can take the directory offline.
	OnStorageError func(error)
	// ProducerIDExpirationMs is producer.id.expiration.ms; 0 means Kafka's
	// default (one day).
	ProducerIDExpirationMs int64
	// ProducerIDExpirationCheckIntervalMs is
	// producer.id.expiration.check.interval.ms, how often the log forgets
	// expired producers; 0 means Kafka's default (ten minutes), < 0 never.
	ProducerIDExpirationCheckIntervalMs int64
	// TxnVerification is transaction.partition.verification.enable: the
	// first transactional batch of a transaction must come with the guard
	// of a verification the coordinator answered (txnverify.go).
	TxnVerification bool
}

// Log is one partition's log: a directory of segments.
type Log struct {
	dir     string
	tp      model.TopicPartition
	fs      segment.FS
	now     func() int64
	log     zerolog.Logger
	onError func(error)

	producerExpirationMs int64
	txnVerification      bool
	expireEvery          time.Duration // 0: no periodic expiry

	mu            sync.RWMutex
	cfg           Config             // guarded by mu
	segments      []*segment.Segment // guarded by mu; sorted by base offset, last = active
	leo           int64              // guarded by mu; log end offset
	logStart      int64              // guarded by mu
	hw            int64              // guarded by mu; logStart <= hw <= leo
	recoveryPoint int64              // guarded by mu; offsets below it are fsynced
	lastFlush     int64              // guarded by mu; ms
	epochs        *EpochCache        // guarded by mu
	producers     *producer.State    // guarded by mu; see producers.go
	snaps         *snapshotFiles     // guarded by mu; the .snapshot files
	pending       []pendingDelete    // guarded by mu; segments renamed .deleted
	failed        error              // guarded by mu; sticky storage failure
	closed        bool               // guarded by mu

	flushReq  chan struct{} // wakes the flusher
	flushDone chan struct{} // closed when the flusher exits
	flushTo   int64         // guarded by mu; offset the flusher should reach
	// truncations counts truncations (guarded by mu): the flusher does not
	// move the recovery point when one happened during its fsyncs.
	truncations uint64
}

type pendingDelete struct {
	seg *segment.Segment
	due int64 // ms
}

// Open opens (or creates) the partition directory dir and loads it: stray
// files are resolved, segments opened and, without a clean shutdown,
// recovered from the recovery point on.
func Open(dir string, opts Options) (*Log, error) {
	tp, ok := ParseDirName(filepath.Base(dir))
	if !ok {
		return nil, fmt.Errorf("%s is not a partition directory name (<topic>-<partition>)", dir)
	}
	l := &Log{
		dir: dir, tp: tp, fs: opts.FS, now: opts.Now, cfg: opts.Config, onError: opts.OnStorageError,
		log:       opts.Logger.With().Str("component", "log").Str("topic", tp.Topic).Int32("partition", tp.Partition).Logger(),
		flushReq:  make(chan struct{}, 1),
		flushDone: make(chan struct{}),
	}
	if l.fs == nil {
		l.fs = segment.OS{}
	}
	if l.now == nil {
		l.now = func() int64 { return time.Now().UnixMilli() }
	}
	l.producerExpirationMs = opts.ProducerIDExpirationMs
	l.txnVerification = opts.TxnVerification
	switch every := opts.ProducerIDExpirationCheckIntervalMs; {
	case every == 0:
		l.expireEvery = time.Duration(producer.DefaultExpirationCheckIntervalMs) * time.Millisecond
	case every > 0:
		l.expireEvery = time.Duration(every) * time.Millisecond
	}
	if err := l.load(opts); err != nil {
		l.closeSegments()
		return nil, fmt.Errorf("loading %s: %w", dir, err)
	}
	l.lastFlush = l.now()
	go l.flusher()
	return l, nil
}

// TopicPartition is the partition this log belongs to.
func (l *Log) TopicPartition() model.TopicPartition { return l.tp }

// Dir is the partition directory.
func (l *Log) Dir() string { return l.dir }

// LogEndOffset is the offset the next appended record gets.
func (l *Log) LogEndOffset() model.Offset {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return model.Offset(l.leo)
}

// LogStartOffset is the first offset still readable.
func (l *Log) LogStartOffset() model.Offset {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return model.Offset(l.logStart)
}

// HighWatermark is the bound the partition layer set for consumer reads.
func (l *Log) HighWatermark() model.Offset {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return model.Offset(l.hw)
}

// SetHighWatermark moves the high watermark, clamped to [log start, LEO],
// and returns the value set.
func (l *Log) SetHighWatermark(hw model.Offset) model.Offset {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hw = min(max(int64(hw), l.logStart), l.leo)
	l.producers.OnHighWatermarkUpdated(l.hw)
	return model.Offset(l.hw)
}

// RecoveryPoint is the offset below which every byte has been fsynced.
func (l *Log) RecoveryPoint() model.Offset {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return model.Offset(l.recoveryPoint)
}

// FirstSegmentBaseOffset is the base offset of the oldest segment. The
// log-start-offset checkpoint records a partition only when its log start
// offset is greater than this.
func (l *Log) FirstSegmentBaseOffset() model.Offset {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if len(l.segments) == 0 {
		return model.Offset(l.logStart)
	}
	return model.Offset(l.segments[0].BaseOffset())
}

// Size is the total size in bytes of the segments.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.sizeLocked()
}

func (l *Log) sizeLocked() int64 {
	var n int64
	for _, s := range l.segments {
		n += s.Size()
	}
	return n
}

// NumSegments is the number of live segments.
func (l *Log) NumSegments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segments)
}

// SegmentBaseOffsets lists the live segments' base offsets, oldest first.
func (l *Log) SegmentBaseOffsets() []model.Offset {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]model.Offset, len(l.segments))
	for i, s := range l.segments {
		out[i] = model.Offset(s.BaseOffset())
	}
	return out
}

// SetConfig replaces the topic configuration (a dynamic config change). It
// applies to the next append, roll and retention pass.
func (l *Log) SetConfig(cfg Config) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cfg = cfg
}

// Config is the current topic configuration.
func (l *Log) Config() Config {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

// EpochEntries returns the leader-epoch cache, oldest first.
func (l *Log) EpochEntries() []EpochEntry {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.Entries()
}

// EndOffsetForEpoch answers OffsetForLeaderEpoch from the epoch cache.
func (l *Log) EndOffsetForEpoch(epoch model.LeaderEpoch) (model.LeaderEpoch, model.Offset) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.EndOffsetFor(epoch, model.Offset(l.leo))
}

// Err is the storage failure that took this log offline, if any.
func (l *Log) Err() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.failed
}

// active is the segment appends go to.
func (l *Log) active() *segment.Segment { return l.segments[len(l.segments)-1] }

// floorSegment is the index of the last segment whose base is <= offset, or -1.
func (l *Log) floorSegment(offset int64) int {
	return sort.Search(len(l.segments), func(i int) bool { return l.segments[i].BaseOffset() > offset }) - 1
}

// checkUsable fails when the log is closed or offline.
func (l *Log) checkUsable() error {
	if l.failed != nil {
		return fmt.Errorf("log %s is offline after %v: %w", l.tp, l.failed, kerr.KafkaStorageError)
	}
	if l.closed {
		return fmt.Errorf("log %s is closed: %w", l.tp, kerr.KafkaStorageError)
	}
	return nil
}

// fail records a storage error; the log refuses every operation after it.
func (l *Log) fail(err error) error {
	var se *segment.StorageError
	if err != nil && errors.As(err, &se) && l.failed == nil {
		l.failed = err
		l.log.Error().Err(err).Msg("storage error: log taken offline")
		if l.onError != nil {
			go l.onError(err)
		}
	}
	return err
}

// jitter draws a segment's roll jitter: abs(random) % min(segment.jitter.ms, segment.ms).
func (l *Log) jitter() int64 {
	if l.cfg.SegmentJitterMs <= 0 || l.cfg.SegmentMs <= 0 {
		return 0
	}
	return rand.Int64N(min(l.cfg.SegmentJitterMs, l.cfg.SegmentMs))
}

func (l *Log) newSegment(base int64) (*segment.Segment, error) {
	s, err := segment.Create(l.fs, l.dir, base, l.cfg.segmentConfig(), l.now())
	if err != nil {
		return nil, err
	}
	l.adopt(s)
	return s, nil
}

// adopt sets a segment's per-log hooks.
func (l *Log) adopt(s *segment.Segment) {
	s.RollJitterMs = l.jitter()
	s.OnIndexRebuild = func(path, reason string) {
		l.log.Warn().Str("segment", path).Str("reason", reason).Msg("rebuilding index files from the log")
	}
}

func (l *Log) closeSegments() {
	for _, s := range l.segments {
		_ = s.Close()
	}
	for _, p := range l.pending {
		_ = p.seg.DeleteFiles()
	}
	l.segments, l.pending = nil, nil
}

// AssignLeaderEpoch records in the leader-epoch cache that epoch starts at
// offset (a replica becoming leader does this before any append).
func (l *Log) AssignLeaderEpoch(epoch model.LeaderEpoch, offset model.Offset) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return err
	}
	return l.fail(l.epochs.Assign(epoch, offset))
}

// LatestEpoch is the newest leader epoch in the cache (-1 if none).
func (l *Log) LatestEpoch() model.LeaderEpoch {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if e, ok := l.epochs.Latest(); ok {
		return e.Epoch
	}
	return model.NoLeaderEpoch
}

// EpochForOffset is the leader epoch of the batch holding offset, from the
// cache (-1 if unknown).
func (l *Log) EpochForOffset(offset model.Offset) model.LeaderEpoch {
	l.mu.RLock()
	defer l.mu.RUnlock()
	e, _ := l.epochs.EpochForOffset(offset)
	return e
}
