// Command kafka-console-producer reads lines from standard input and writes
// one record per line to a topic, the way Apache Kafka 3.9's
// kafka-console-producer.sh (org.apache.kafka.tools.ConsoleProducer with its
// LineMessageReader) does, with the same options.
//
// Usage (scripts/kafka-console-producer.sh builds and runs it):
//
//	kafka-console-producer --bootstrap-server HOST:PORT[,...] --topic T
//	    [--property parse.key=true] [--property key.separator=:]
//	    [--property parse.headers=true] [--property null.marker=NULL]
//	    [--compression-codec [gzip|snappy|lz4|zstd|none]] [--sync]
//	    [--request-required-acks -1|1|0] [--batch-size N] [--timeout LINGER_MS]
//	    [--producer-property k=v]... [--producer.config FILE] [--reader-config FILE]
//
// A line is, with the defaults, the value; with parse.key=true
// "key<key.separator>value"; with parse.headers=true headers come first,
// "h1:v1,h2:v2<headers.delimiter>..." (headers.separator is a regular
// expression, as in Kafka). A field equal to null.marker is null. Lines end at
// "\n", "\r" or "\r\n"; bytes are sent as read (Kafka decodes UTF-8 first, so
// invalid UTF-8 differs). On a terminal a ">" prompt precedes each line.
//
// Producer settings follow Kafka's tool: --request-required-acks (default
// -1), --timeout (linger.ms, default 1000) and the other options win over
// --producer-property/--producer.config only when given, while
// --compression-codec always sets compression.type (none when absent), as in
// Kafka 3.9. acks other than all turn idempotence off unless
// enable.idempotence=true is set, which is then an error, as in Java. The
// producer asks brokers to auto-create a missing topic, as Java's does.
// batch.size is checked but only max.request.size bounds kgo's batches.
// Unsupported properties are named in one note line on stderr.
//
// A failed send prints Kafka's "ERROR Error when sending message to topic T
// with key: null, value: 5 bytes with error: ..." line; the exit status is
// then 1 (Kafka's tool exits 0 after asynchronous failures). Argument and
// parse errors are one line on stderr with Kafka's message ("No key
// separator found on line number 2: 'abc'"), exit status 1. Ctrl-C stops
// reading, delivers what was read, and exits 130.
package main
