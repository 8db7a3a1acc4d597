// Command kafka-producer-perf-test sends a fixed number of records to a
// topic as fast as it can (or at a given rate) and prints throughput and
// latency, the way Apache Kafka 3.9's kafka-producer-perf-test.sh
// (org.apache.kafka.tools.ProducerPerformance) does, with the same options
// and output lines. The client is franz-go (kgo).
//
// Usage:
//
//	kafka-producer-perf-test --topic T --num-records N --throughput R
//	    (--record-size BYTES | --payload-file FILE [--payload-delimiter D])
//	    [--bootstrap-server HOST:PORT[,...]]
//	    [--producer-props k=v [k=v ...]] [--producer.config FILE]
//
// --throughput -1 (any negative number) sends without a limit. The brokers
// come from --bootstrap-server or, as in Kafka, from bootstrap.servers in
// the producer properties (--bootstrap-server wins). --producer-props takes
// every following argument up to the next option (argparse's nargs="+");
// it wins over --producer.config. Values are --record-size random capital
// letters (one payload for the whole run, as in Kafka) or, with
// --payload-file, a payload picked at random per record; keys are null.
//
// Output, as Kafka's: every 5 seconds
//
//	N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency.
//
// for the records acknowledged in that window, and at the end
//
//	N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, P ms 50th, P ms 95th, P ms 99th, P ms 99.9th.
//
// MB is 2^20 bytes of record values. A record's latency runs from just
// before it is handed to the client to its acknowledgement; it is measured
// in nanoseconds and printed in milliseconds (Kafka measures whole
// milliseconds, so its averages are coarser); the percentiles are whole
// milliseconds, over every record or, beyond 500,000 records, an even
// sample of them.
//
// Producer properties follow the Java producer's names and 3.9 defaults
// (acks=all, linger.ms=0, batch.size=16384, buffer.memory=32 MiB,
// max.in.flight.requests.per.connection=5, compression.type=none); see
// producerOpts for how each maps to kgo. acks other than all turn
// idempotence off. Unsupported properties are named in one note line on
// stderr.
//
// Differences from Kafka's tool: --print-metrics, --transactional-id and
// --transaction-duration-ms are refused; --throughput 0 is an error (Kafka
// would wait forever); a failed send is counted apart rather than as sent,
// the first error is printed at the end and the exit status is 1 (Kafka
// prints every stack trace and exits 0); --payload-delimiter is plain text,
// not a regular expression. Argument errors are one line,
// "kafka-producer-perf-test: error: ...", exit status 1. An interrupt
// (SIGINT, SIGTERM) stops sending, delivers what was handed to the client,
// prints the total and exits 130.
//
// The tool is a client: it imports no broker package.
package main
