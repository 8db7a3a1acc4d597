// Package logdir owns one entry of log.dirs: the .lock file that keeps a
// second broker out, meta.properties, the .kafka_cleanshutdown marker, the
// per-directory checkpoint files (recovery-point-offset-checkpoint,
// replication-offset-checkpoint, log-start-offset-checkpoint), the partition
// logs it holds, and the background tasks Kafka's LogManager runs for them:
// retention, flush.ms, checkpoints, removal of .deleted files and of
// -delete directories.
//
// This room is not in the design brief's table: it is Kafka's LogManager,
// kept out of commitlog (one partition) and out of the broker (composition)
// so that directory-wide state has one owner.
//
// Concurrency: Dir is goroutine-safe; its fields are guarded by Dir.mu. Its
// one goroutine runs the periodic tasks and is stopped and waited for by
// Close. Each commitlog.Log guards itself.
//
// Imports: commitlog, segment, model, zerolog.
package logdir
