// Package partition is one replica of one partition on this broker: its
// role (leader, follower or none), leader epoch and partition epoch, the
// assignment and ISR the controller sent, the leader's view of its followers
// (their log end offsets and when they were last caught up), the high
// watermark, and the commitlog.Log underneath. It answers appends as leader
// and as follower, consumer and follower reads, and offset lookups, with
// Kafka's leadership and epoch errors.
//
// As leader it also runs the ISR rules (isr.go): a follower is caught up
// when it reached the leader's LEO within replica.lag.time.max.ms; ISR
// members that are not get proposed for removal, a follower that reached
// both the HW and the start of the current leader epoch for addition; one
// proposal (ISRChange) is in flight at a time and only the controller's
// answer commits it.
//
// Invariants (guarded by Partition.mu): the leader epoch never decreases;
// log start <= HW <= LEO; the HW moves forward only, to the smallest log end
// offset of the maximal ISR (committed ISR plus a follower being added) and
// of caught-up eligible followers about to join, and not at all while the
// committed ISR is smaller than min(min.insync.replicas, replicas).
//
// Concurrency: Partition is goroutine-safe. Waiters (delayed fetch, acks=all
// produce) use Changed(), a channel closed and replaced whenever the log end
// offset, the high watermark or the role changes. Appends are not made while
// holding mu exclusively for long: the log has its own lock.
//
// Imports: commitlog, record, model, kerr.
package partition
