// Command bench-kfake-server runs franz-go's fake Kafka (kfake) as a
// standalone, long-lived server, so that benchmarks can measure it as a
// separate process beside kbroker (scripts/bench-broker.sh does).
//
//	bench-kfake-server [-port N] [-data-dir DIR] [-topic NAME:PARTITIONS]...
//	    [-auto-create] [-addr-file FILE]
//
// It starts a one-broker kfake cluster on 127.0.0.1 (-port 0, the default,
// picks a free port), prints "listening on 127.0.0.1:PORT" on stdout, writes
// the same address to -addr-file when given (after the listener is up, via
// a rename, so a reader never sees a partial file), and runs until SIGINT or
// SIGTERM, then closes the cluster (which saves its state) and exits 0.
//
// With -data-dir kfake keeps its partitions in segment files there, written
// through the page cache and fsynced only at roll and shutdown, as Kafka and
// kbroker do by default; kfake's per-write fsync (SyncWrites) is not used so
// the comparison stays fair. Without -data-dir everything is in memory.
// -topic seeds topics (repeatable); -auto-create lets Metadata requests
// create topics. Topics can also be created with CreateTopics.
//
// It is a benchmark fixture, not a Kafka tool: flags use Go's flag package.
// kfake's behaviour (API versions, leader placement, what it validates)
// differs from Kafka's and kbroker's.
package main
