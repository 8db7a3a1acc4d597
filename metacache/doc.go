// Package metacache is this broker's view of the cluster as the controller
// last described it with UpdateMetadata: the live brokers and their
// endpoints, the controller, every partition's leader, epoch, replicas, ISR
// and offline replicas, and the topic ids. Metadata, Produce, Fetch and the
// admin handlers read it; nothing here reads ZooKeeper.
//
// Concurrency: Cache is goroutine-safe (one RWMutex); readers get copies.
// Imports: model only.
package metacache
