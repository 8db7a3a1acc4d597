// Package replica is the broker's replica manager: every partition hosted
// here, the application of the controller's LeaderAndIsr and StopReplica
// requests (with Kafka's broker-epoch, controller-epoch and leader-epoch
// rules), produce and fetch across partitions including the waits (acks=all
// until the high watermark passes the batch; fetch long polls until
// MinBytes or MaxWait), and the follower fetchers that copy leaders' logs.
//
// Concurrency: Manager is goroutine-safe (Manager.mu guards the partition
// map, epochs and fetchers; each Partition guards itself). Fetcher
// goroutines belong to the Manager; Close stops and waits for them.
// Imports: partition, interbroker, model, kmsg/kerr.
package replica
