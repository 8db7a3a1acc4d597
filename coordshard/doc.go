// Package coordshard is the lifecycle of the partitions a coordinator
// leads: the group coordinator over __consumer_offsets and the transaction
// coordinator over __transaction_state each keep one shard per partition
// this broker leads, created on election, loaded in the background and
// dropped on resignation or shutdown, as Kafka's GroupMetadataManager and
// TransactionStateManager load and unload their partitions.
//
// Pieces: set.go (Set: the shards by partition, Elect with Kafka's leader
// epoch rule, Resign, Close, lookups), placement.go (the partition holding
// a group or transactional id: abs(hashCode(key)) % partitions). What a
// shard holds, how it is loaded and what unloading it means stay with the
// coordinator.
//
// Concurrency: a Set's mutex guards its map; Elect, Resign and Close call
// Shard.Unload under it, so a coordinator's lock order starts with the
// Set (Set → shard → per-key state). Each shard gets a context cancelled
// before it is unloaded; loads run on goroutines Close waits for.
//
// Imports: model (Java's String.hashCode and Utils.abs); nothing else of
// the project.
package coordshard
