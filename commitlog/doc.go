// Package commitlog owns one partition directory (<topic>-<partition>): the
// ordered segments, offset assignment, roll, read, truncation, retention,
// recovery at open, the flush policy, the leader-epoch cache
// (leader-epoch-checkpoint), partition.metadata, and the partition's
// producer state (package producer) with its .snapshot files: checked on
// leader appends, updated by follower appends and recovery, snapshotted at
// roll, close and truncation, rebuilt at open (producers.go). It also holds
// the text formats of Kafka's offset checkpoint files, which the log
// directory writes for all its partitions.
//
// Invariants (guarded by Log.mu): logStartOffset <= highWatermark <=
// logEndOffset; recoveryPoint <= logEndOffset; segments are sorted by base
// offset, contiguous in offsets (gaps only where the leader's log has them),
// and the last one is the active segment; leader epochs in the cache
// strictly increase with their start offsets.
//
// Concurrency: Log is goroutine-safe. Appends, truncation, roll, retention
// and flush bookkeeping take Log.mu exclusively; reads take it shared and
// return a file range that the caller sends after the lock is released
// (deleted segments keep their files open for file.delete.delay.ms for that
// reason). The only goroutine a Log owns is its flusher (fsync of rolled
// segments and their snapshots off the append path, and the periodic
// removal of expired producers); Close waits for it. The producer state is
// guarded by Log.mu too.
//
// A failed write, fsync, truncate or rename (a *segment.StorageError) makes
// the log fail every later operation with KAFKA_STORAGE_ERROR; it is never
// retried. Options.OnStorageError tells the owner of the log directory,
// which takes the directory offline.
//
// Imports: segment, record, producer, model, kerr and zerolog. It knows
// nothing of leaders, replicas or ZooKeeper: the partition layer says which
// epoch appends, and where the high watermark is.
package commitlog
