// Command bench-replication measures what replication costs a producer on a
// running cluster (kbroker or any Kafka with at least three brokers): the
// same records are produced with acks=all to a topic with replication
// factor 3 and min.insync.replicas=2, and with acks=1 to a topic with
// replication factor 1, in one run on this machine, and the two are
// printed side by side with their ratio (acks=all RF=3 / acks=1 RF=1).
//
// Two modes are measured for each topic:
//
//   - pipelined: -records records of -record-size bytes, round robin over
//     -partitions partitions, produced as fast as a franz-go client sends
//     them (up to 10000 buffered, no linger, no compression). Throughput
//     is records (and MiB) per second from the first send to the last
//     acknowledgement; latency is each record's time from Produce to its
//     acknowledgement, including time queued in the client.
//   - one in flight: -sync-records records produced one at a time, each
//     waiting for its acknowledgement before the next is sent. This shows
//     the round trips replication adds to every acks=all write (the
//     followers' fetch, the high watermark moving, the waiting produce
//     answered).
//
// Each topic first gets a short warm-up (metadata, connections) that is
// not measured. Latencies are printed as p50 and p99 in milliseconds.
//
// Usage:
//
//	bench-replication --bootstrap-server HOST:PORT[,...] [--records 200000]
//	    [--record-size 1024] [--partitions 3] [--sync-records 2000]
//	    [--topic-prefix bench-replication] [--keep-topics]
//
// Start a three-broker cluster on this machine with scripts/quickstart.sh
// (brokers on 127.0.0.1:9092-9094). The two topics get the prefix and the
// start time in their names and are deleted at the end unless
// --keep-topics. Idempotence is off (kbroker does not serve InitProducerId
// yet). It is a benchmark, not a Kafka tool: flags use Go's flag package.
// Exit status 0 when every record was acknowledged, 1 otherwise, 2 for
// bad flags.
package main
