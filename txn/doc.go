// Package txn holds producer ids and the transaction coordinator
// (coordinator.go, ops.go, markers.go, expire.go: Kafka's
// TransactionCoordinator, TransactionStateManager, TransactionMetadata and
// TransactionMarkerChannelManager; records.go: the __transaction_state
// records). It hands out producer ids for InitProducerId: each
// broker takes blocks of 1000 ids from /latest_producer_id_block (through
// zkmeta, a conditional update) and gives them out one at a time, taking
// the next block when one runs out (Kafka's ZkProducerIdManager).
//
// Concurrency: ProducerIDs is goroutine-safe; a block is fetched under its
// lock, so concurrent callers wait for the one fetch. The coordinator:
// its coordshard.Set (the led partitions) → shard.mu → txnMeta.mu, no lock
// held while appending to the log or waiting for markers.
//
// Imports: coordshard (the led partitions' lifecycle: election, loading,
// resignation), zkmeta (through the BlockSource interface the broker
// wires), model, kmsg/kerr; the log (Log) and the marker transport
// (MarkerTransport) are interfaces the broker wires.
package txn
