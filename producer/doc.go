// Package producer holds the per-partition state of idempotent and
// transactional producers (Kafka's ProducerStateManager, ProducerAppendInfo
// and ProducerStateEntry): for each producer id the epoch, the metadata of
// its last five batches, the coordinator epoch of its last transaction
// marker and the first offset of its open transaction.
//
// What it owns:
//   - Entry: one producer's state and duplicate detection over the five
//     retained batches (entry.go).
//   - Append: the validation of the batches one append brings for one
//     producer, with Kafka's rules and error codes — INVALID_PRODUCER_EPOCH,
//     OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_TXN_STATE,
//     TRANSACTION_COORDINATOR_FENCED — accumulated on a copy and applied
//     only once the batches are written (append.go).
//   - State: the producers of one partition, expiry by
//     producer.id.expiration.ms, and the offsets that decide when a snapshot
//     is due (state.go). Its iteration order reproduces the order of the
//     Java HashMap Kafka keeps them in, so that snapshots list producers as
//     Kafka would.
//   - The .snapshot codec (snapshot.go, docs/format/producer-snapshot.md).
//
// It does no file I/O: commitlog decides when snapshots are written, read
// and deleted, and feeds the batches it appends, recovers or replays.
//
// Concurrency: nothing here is goroutine-safe; the owning log guards a
// State with its own lock.
//
// Imports: record (batch headers, control markers), model, kerr.
package producer
