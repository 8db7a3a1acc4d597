// Package group is the group coordinator: consumer groups of the classic
// protocol and their committed offsets, kept as records in the internal
// topic __consumer_offsets with Kafka's exact key and value schemas, so
// tools that read that topic understand what kbroker writes.
//
// So far it holds the record schemas (records.go: encoding as a Kafka 3.9
// broker writes them, decoding of every version an older broker may have
// written) and the placement of a group on a __consumer_offsets partition
// (placement.go: abs(Java String.hashCode(group)) % partitions). The byte
// layouts are drawn in docs/format/consumer-offsets.md.
//
// Concurrency: the functions here are pure.
// Imports: model, interbroker (per the layering rules); kmsg for the
// schemas. The coordinator reaches the log through a small interface that
// the broker wires, never through commitlog or replica directly.
package group
