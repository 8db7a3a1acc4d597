// Command kafka-consumer-perf-test reads a number of records from a topic as
// fast as it can and prints how long that took, the way Apache Kafka 3.9's
// kafka-consumer-perf-test.sh (org.apache.kafka.tools.ConsumerPerformance)
// does, with the same options and output. The client is franz-go (kgo).
//
// Usage:
//
//	kafka-consumer-perf-test --bootstrap-server HOST:PORT[,...] --topic T --messages N
//	    [--timeout MS] [--fetch-size BYTES] [--from-latest] [--consumer.config FILE]
//	    [--show-detailed-stats [--reporting-interval MS]] [--date-format PATTERN]
//	    [--hide-header] [--group G]
//
// Output, as Kafka's: a header (unless --hide-header) and one line,
//
//	start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
//	2024-05-01 10:00:00:000, 2024-05-01 10:00:02:500, 95.3674, 38.1470, 1000000, 400000.0000, 12, 2488, 38.3309, 401929.2605
//
// or with --show-detailed-stats the header "time, threadId, ..." and a line
// every --reporting-interval with the totals so far and the rates over the
// interval (no summary line, as in Kafka). MB is 2^20 bytes of keys and
// values; times use --date-format (java.text.SimpleDateFormat letters, see
// dateFormat) in the local zone. Records are counted per poll, as in
// Kafka, so the count may pass --messages by what the last poll returned.
//
// Consumer groups: kbroker has none yet, so the tool does not use one. It
// looks the topic's partitions up (asking again until the topic exists or
// --timeout passes) and assigns all of them directly (kgo
// ConsumePartitions), from the start of each partition, or from the end
// with --from-latest. That lookup and assignment is what rebalance.time.ms
// reports; fetch.time.ms is the rest. --group is accepted and ignored with
// a one-line note on stderr.
//
// The run ends after --messages records, or when no record arrives for
// --timeout ms (Kafka's warning on stderr, exit status 0; end.time is then
// the last poll that returned records, so the idle wait is not counted), or
// on SIGINT/SIGTERM (the line is printed, exit status 130).
// --fetch-size is max.partition.fetch.bytes and wins over the same
// property; fetch.min.bytes, fetch.max.bytes, fetch.max.wait.ms (Java's
// defaults: 1, 52428800, 500), isolation.level and max.poll.records are
// read from --consumer.config; unsupported properties are named in one note
// line on stderr. --print-metrics is refused. Argument errors print
// Kafka's message on stderr, exit status 1.
//
// The tool is a client: it imports no broker package.
package main
