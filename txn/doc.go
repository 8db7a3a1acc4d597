// Package txn is the home of producer ids and, later, the transaction
// coordinator. Today it hands out producer ids for InitProducerId: each
// broker takes blocks of 1000 ids from /latest_producer_id_block (through
// zkmeta, a conditional update) and gives them out one at a time, taking
// the next block when one runs out (Kafka's ZkProducerIdManager).
//
// Concurrency: ProducerIDs is goroutine-safe; a block is fetched under its
// lock, so concurrent callers wait for the one fetch.
//
// Imports: zkmeta (through the BlockSource interface the broker wires),
// model.
package txn
