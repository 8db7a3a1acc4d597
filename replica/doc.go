// Package replica is the broker's replica manager: every partition hosted
// here, the application of the controller's LeaderAndIsr and StopReplica
// requests (with Kafka's broker-epoch, controller-epoch and leader-epoch
// rules), produce and fetch across partitions including the waits (acks=all
// until the high watermark passes the batch; fetch long polls until
// MinBytes or MaxWait), the follower fetchers that copy leaders' logs
// (num.replica.fetchers per source broker), the isr-expiration task, and the
// AlterPartition sender that carries the leaders' ISR changes to the
// controller (one request in flight, retries after a back-off).
//
// Concurrency: Manager is goroutine-safe (Manager.mu guards the partition
// map, epochs and fetchers; each Partition guards itself). Fetcher
// goroutines, the ISR task and the AlterPartition sender belong to the
// Manager; Close stops and waits for them.
// Imports: partition, interbroker, model, kmsg/kerr.
package replica
