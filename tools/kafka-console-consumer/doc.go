// Command kafka-console-consumer prints the records of a topic the way
// Apache Kafka 3.9's kafka-console-consumer.sh
// (org.apache.kafka.tools.consumer.ConsoleConsumer with its
// DefaultMessageFormatter) does, with the same options and output.
//
// Usage (scripts/kafka-console-consumer.sh builds and runs it):
//
//	kafka-console-consumer --bootstrap-server HOST:PORT[,...]
//	    (--topic T [--partition P [--offset earliest|latest|N]] | --include REGEX)
//	    [--from-beginning] [--max-messages N] [--timeout-ms MS]
//	    [--property print.key=true] [--property print.timestamp=true]
//	    [--property print.partition=true] [--property print.offset=true]
//	    [--property print.headers=true] [--property print.value=false]
//	    [--property key.separator=SEP] [--property line.separator=SEP]
//	    [--property headers.separator=SEP] [--property null.literal=TEXT]
//	    [--isolation-level read_committed] [--consumer-property k=v]...
//
// Each record is one line: the enabled fields in Kafka's order, separated by
// key.separator (default a tab), ended by line.separator (default "\n"):
//
//	CreateTime:1700000000000   (or LogAppendTime:..., NO_TIMESTAMP)
//	Partition:0
//	Offset:5
//	h1:v1,h2:v2                (or NO_HEADERS)
//	key                        (null.literal, default "null", for a null key)
//	value
//
// When reading stops (--max-messages reached, --timeout-ms without a record,
// Ctrl-C) stderr gets "Processed a total of N messages", as in Kafka. Exit
// status 0, 130 after Ctrl-C, 1 after an error.
//
// Groups: kbroker has no group coordinator yet (it arrives with a later
// issue), so --group and group.id are refused with one clear line. Without a
// group the tool reads like Kafka's with its random throw-away group: every
// partition of --topic (or every non-internal topic matching --include), from
// the end, or from the beginning with --from-beginning or
// auto.offset.reset=earliest; --partition/--offset read one partition as
// Kafka's assign-and-seek mode does.
//
// A topic that does not exist yet gives one WARN line (with Kafka's
// "{topic=UNKNOWN_TOPIC_OR_PARTITION}") and the tool waits for it, as Java's
// consumer does (asking the broker to auto-create it unless
// allow.auto.create.topics=false). If no broker answers at all the tool says
// so and exits 1. Argument errors are one line on stderr with Kafka's
// messages ("The partition is required when offset is specified.").
//
// Deserializers: key.deserializer/value.deserializer/headers.deserializer may
// name Kafka's String, ByteArray, Bytes, Short, Integer or Long deserializer;
// other classes and formatters are refused.
package main
