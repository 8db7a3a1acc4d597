package logdir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

// Options configure a log directory. DefaultOptions has Kafka's defaults.
type Options struct {
	Path   string
	FS     segment.FS // nil: segment.OS{}
	Now    func() int64
	Logger zerolog.Logger
	// TopicConfig returns a topic's log configuration (overrides applied).
	TopicConfig func(topic string) commitlog.Config
	// RecoveryThreads is num.recovery.threads.per.data.dir.
	RecoveryThreads int
	// Task intervals, in ms (log.retention.check.interval.ms,
	// log.flush.offset.checkpoint.interval.ms,
	// log.flush.start.offset.checkpoint.interval.ms,
	// replica.high.watermark.checkpoint.interval.ms) and the delay before a
	// -delete directory is removed (log.segment.delete.delay.ms).
	RetentionCheckIntervalMs        int64
	RecoveryCheckpointIntervalMs    int64
	StartOffsetCheckpointIntervalMs int64
	HighWatermarkCheckpointMs       int64
	DeleteDirDelayMs                int64
	// InitialTaskDelayMs delays the first retention pass (Kafka: 30 s).
	InitialTaskDelayMs int64
	// TickMs is how often the task loop wakes up.
	TickMs int64
	// OnOffline is told when a storage error takes the directory offline.
	OnOffline func(error)
	// ProducerIDExpirationMs is producer.id.expiration.ms (0: Kafka's
	// default, one day).
	ProducerIDExpirationMs int64
	// TxnVerification is transaction.partition.verification.enable.
	TxnVerification bool
}

// DefaultOptions returns Kafka's defaults for a directory at path.
func DefaultOptions(path string) Options {
	return Options{
		Path:                            path,
		TopicConfig:                     func(string) commitlog.Config { return commitlog.DefaultConfig() },
		RecoveryThreads:                 1,
		RetentionCheckIntervalMs:        300000,
		RecoveryCheckpointIntervalMs:    60000,
		StartOffsetCheckpointIntervalMs: 60000,
		HighWatermarkCheckpointMs:       5000,
		DeleteDirDelayMs:                60000,
		InitialTaskDelayMs:              30000,
		TickMs:                          1000,
		Logger:                          zerolog.Nop(),
	}
}

// Dir is one open log directory.
type Dir struct {
	opts Options
	path string
	fs   segment.FS
	now  func() int64
	log  zerolog.Logger
	lock *dirLock

	// HadCleanShutdown: the marker was present when the directory was opened.
	HadCleanShutdown bool

	mu          sync.Mutex
	logs        map[model.TopicPartition]*commitlog.Log // guarded by mu
	deleteDirs  map[string]int64                        // guarded by mu; -delete dir -> due (ms)
	offline     error                                   // guarded by mu
	closed      bool                                    // guarded by mu
	stop        chan struct{}
	tasksExited chan struct{}
}

// Open locks the directory, reads its checkpoints, loads every partition log
// (recovering them when the last shutdown was not clean) and starts the
// background tasks.
func Open(opts Options) (*Dir, error) {
	d := &Dir{
		opts: opts, path: opts.Path, fs: opts.FS, now: opts.Now,
		log:        opts.Logger.With().Str("component", "logdir").Str("dir", opts.Path).Logger(),
		logs:       map[model.TopicPartition]*commitlog.Log{},
		deleteDirs: map[string]int64{},
		stop:       make(chan struct{}), tasksExited: make(chan struct{}),
	}
	if d.fs == nil {
		d.fs = segment.OS{}
	}
	if d.now == nil {
		d.now = func() int64 { return time.Now().UnixMilli() }
	}
	if err := os.MkdirAll(d.path, 0o755); err != nil {
		return nil, err
	}
	lock, err := lockDir(d.path)
	if err != nil {
		return nil, err
	}
	d.lock = lock
	if err := d.loadLogs(); err != nil {
		for _, l := range d.logs {
			_ = l.Close()
		}
		_ = lock.release()
		return nil, err
	}
	go d.runTasks()
	return d, nil
}

// Path is the directory.
func (d *Dir) Path() string { return d.path }

// readCheckpoint reads a checkpoint file; an unreadable one is logged and
// treated as empty, as Kafka does (offsets then default to 0).
func (d *Dir) readCheckpoint(name string) map[model.TopicPartition]int64 {
	m, err := commitlog.ReadOffsetCheckpoint(filepath.Join(d.path, name))
	if err != nil {
		d.log.Warn().Err(err).Str("file", name).Msg("error reading checkpoint file; resetting its offsets to 0")
		return map[model.TopicPartition]int64{}
	}
	return m
}

func (d *Dir) loadLogs() error {
	clean, err := takeCleanShutdownMarker(d.fs, d.path)
	if err != nil {
		return err
	}
	if err := commitlog.CreateCheckpointFiles(d.fs, d.path); err != nil {
		return err
	}
	d.HadCleanShutdown = clean
	recovery := d.readCheckpoint(commitlog.RecoveryPointCheckpoint)
	starts := d.readCheckpoint(commitlog.LogStartOffsetCheckpoint)
	hws := d.readCheckpoint(commitlog.ReplicationCheckpoint)
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if _, ok := commitlog.ParseDirName(e.Name()); ok {
			names = append(names, e.Name())
			continue
		}
		if isDeleteDir(e.Name()) {
			d.deleteDirs[e.Name()] = d.now() + d.opts.DeleteDirDelayMs
			continue
		}
		d.log.Warn().Str("name", e.Name()).Msg("ignoring a directory that is not <topic>-<partition>")
	}
	start := time.Now()
	type result struct {
		tp  model.TopicPartition
		log *commitlog.Log
		err error
	}
	work := make(chan string)
	results := make(chan result)
	threads := max(d.opts.RecoveryThreads, 1)
	var wg sync.WaitGroup
	for range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range work {
				tp, _ := commitlog.ParseDirName(name)
				l, err := commitlog.Open(filepath.Join(d.path, name), commitlog.Options{
					Config: d.opts.TopicConfig(tp.Topic), FS: d.fs, Now: d.now, Logger: d.opts.Logger,
					HadCleanShutdown: clean, RecoveryPoint: recovery[tp], LogStartOffset: starts[tp], HighWatermark: hws[tp],
					OnStorageError: d.logFailed, ProducerIDExpirationMs: d.opts.ProducerIDExpirationMs,
					TxnVerification: d.opts.TxnVerification,
				})
				results <- result{tp, l, err}
			}
		}()
	}
	go func() {
		for _, name := range names {
			work <- name
		}
		close(work)
		wg.Wait()
		close(results)
	}()
	var errs []error
	for r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		if _, dup := d.logs[r.tp]; dup {
			errs = append(errs, fmt.Errorf("two directories in %s hold partition %s", d.path, r.tp))
			r.log.Close()
			continue
		}
		d.logs[r.tp] = r.log
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	d.log.Info().Int("logs", len(d.logs)).Bool("cleanShutdown", clean).Dur("took", time.Since(start)).Msg("loaded logs")
	return nil
}

func isDeleteDir(name string) bool {
	return len(name) > len(commitlog.DeleteDirSuffix) && name[len(name)-len(commitlog.DeleteDirSuffix):] == commitlog.DeleteDirSuffix
}

// Log returns the log of a partition, if this directory holds it.
func (d *Dir) Log(tp model.TopicPartition) (*commitlog.Log, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.logs[tp]
	return l, ok
}

// Partitions lists the partitions held here, sorted.
func (d *Dir) Partitions() []model.TopicPartition {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]model.TopicPartition, 0, len(d.logs))
	for tp := range d.logs {
		out = append(out, tp)
	}
	model.SortTopicPartitions(out)
	return out
}

// GetOrCreateLog returns the partition's log, creating an empty one if
// needed. A non-zero topic id is written to partition.metadata (once); a
// different id already there is an error (the directory belongs to an older
// topic of the same name).
func (d *Dir) GetOrCreateLog(tp model.TopicPartition, topicID model.TopicID) (*commitlog.Log, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.usableLocked(); err != nil {
		return nil, err
	}
	l, ok := d.logs[tp]
	if !ok {
		var err error
		l, err = commitlog.Open(filepath.Join(d.path, commitlog.DirName(tp)), commitlog.Options{
			Config: d.opts.TopicConfig(tp.Topic), FS: d.fs, Now: d.now, Logger: d.opts.Logger, HadCleanShutdown: true,
			OnStorageError: d.logFailed, ProducerIDExpirationMs: d.opts.ProducerIDExpirationMs,
			TxnVerification: d.opts.TxnVerification,
		})
		if err != nil {
			return nil, d.failLocked(err)
		}
		d.logs[tp] = l
	}
	if topicID == model.ZeroTopicID {
		return l, nil
	}
	have, exists, err := commitlog.ReadPartitionMetadata(l.Dir())
	if err != nil {
		return nil, err
	}
	if exists && have != topicID {
		return nil, fmt.Errorf("topic id %s in %s does not match the topic id %s of %s: %w", have, commitlog.PartitionMetadataFile, topicID, tp, kerr.InconsistentTopicID)
	}
	if !exists {
		if err := commitlog.WritePartitionMetadata(d.fs, l.Dir(), topicID); err != nil {
			return nil, d.failLocked(err)
		}
	}
	return l, nil
}

// DeleteLog closes a partition's log and renames its directory to
// <topic>-<partition>.<uuid>-delete; the directory is removed after
// log.segment.delete.delay.ms.
func (d *Dir) DeleteLog(tp model.TopicPartition) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.logs[tp]
	if !ok {
		return nil
	}
	delete(d.logs, tp)
	if err := l.Close(); err != nil {
		d.log.Warn().Err(err).Str("partition", tp.String()).Msg("closing a deleted log")
	}
	name := deleteDirName(tp)
	if err := d.fs.Rename(l.Dir(), filepath.Join(d.path, name)); err != nil {
		return d.failLocked(&segment.StorageError{Op: "rename", Path: l.Dir(), Err: err})
	}
	d.deleteDirs[name] = d.now() + d.opts.DeleteDirDelayMs
	return d.failLocked(commitlog.SyncDir(d.fs, d.path))
}

// deleteDirName is <topic>-<p>.<32 hex uuid>-delete, with the topic cut so
// the name fits in 255 bytes.
func deleteDirName(tp model.TopicPartition) string {
	var id [16]byte
	_, _ = rand.Read(id[:])
	suffix := fmt.Sprintf("-%d.%s%s", tp.Partition, hex.EncodeToString(id[:]), commitlog.DeleteDirSuffix)
	topic := tp.Topic
	if len(topic)+len(suffix) > 255 {
		topic = topic[:255-len(suffix)]
	}
	return topic + suffix
}

// Offline is the storage error that took the directory offline, if any.
func (d *Dir) Offline() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.offline
}

func (d *Dir) usableLocked() error {
	if d.offline != nil {
		return fmt.Errorf("log directory %s is offline: %w", d.path, d.offline)
	}
	if d.closed {
		return fmt.Errorf("log directory %s is closed", d.path)
	}
	return nil
}

// failLocked takes the directory offline on a storage error.
func (d *Dir) failLocked(err error) error {
	var se *segment.StorageError
	if err == nil || !errors.As(err, &se) || d.offline != nil {
		return err
	}
	d.offline = err
	d.log.Error().Err(err).Msg("storage error: log directory taken offline")
	if d.opts.OnOffline != nil {
		go d.opts.OnOffline(err)
	}
	return err
}

// logFailed takes the directory offline when one of its logs met a storage
// error (Kafka takes a whole log directory offline on any I/O error in it).
func (d *Dir) logFailed(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failLocked(err)
}

// WriteCheckpoints writes the three offset checkpoint files for every log:
// recovery points, high watermarks, and log start offsets of the logs whose
// start is past their first segment's base.
func (d *Dir) WriteCheckpoints() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.writeCheckpointsLocked(true, true, true)
}

func (d *Dir) writeCheckpointsLocked(recovery, hw, starts bool) error {
	if d.offline != nil {
		return d.offline
	}
	rp := map[model.TopicPartition]int64{}
	hws := map[model.TopicPartition]int64{}
	ls := map[model.TopicPartition]int64{}
	for tp, l := range d.logs {
		rp[tp] = int64(l.RecoveryPoint())
		hws[tp] = int64(l.HighWatermark())
		if start := l.LogStartOffset(); start > l.FirstSegmentBaseOffset() {
			ls[tp] = int64(start)
		}
	}
	write := func(on bool, name string, m map[model.TopicPartition]int64) error {
		if !on {
			return nil
		}
		return d.failLocked(commitlog.WriteOffsetCheckpoint(d.fs, filepath.Join(d.path, name), m))
	}
	return errors.Join(
		write(recovery, commitlog.RecoveryPointCheckpoint, rp),
		write(hw, commitlog.ReplicationCheckpoint, hws),
		write(starts, commitlog.LogStartOffsetCheckpoint, ls),
	)
}

// Close stops the tasks, flushes and closes every log, writes the
// checkpoints and, if all went well, the clean-shutdown marker, and releases
// the lock.
func (d *Dir) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	close(d.stop)
	d.mu.Unlock()
	<-d.tasksExited

	d.mu.Lock()
	defer d.mu.Unlock()
	var errs []error
	for _, l := range d.logs {
		if err := l.Close(); err != nil {
			errs = append(errs, d.failLocked(err))
		}
	}
	errs = append(errs, d.writeCheckpointsLocked(true, true, true))
	if err := errors.Join(errs...); err == nil && d.offline == nil {
		errs = append(errs, writeCleanShutdownMarker(d.fs, d.path))
	}
	errs = append(errs, d.lock.release())
	return errors.Join(errs...)
}
