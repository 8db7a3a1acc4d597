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
//	    [--group G] [--consumer.config FILE]
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
// Groups: with --group G (or group.id in --consumer-property or
// --consumer.config, which must agree) the tool reads as a member of the
// classic consumer group G, as Kafka's does: the group's coordinator
// assigns it partitions of --topic (or of the topics matching --include),
// reading starts at the group's committed offsets (at auto.offset.reset,
// earliest with --from-beginning, where the group has none), and offsets
// are committed automatically (every auto.commit.interval.ms, 5 s by
// default, and when the tool stops, also after Ctrl-C) unless
// enable.auto.commit=false. The offsets committed on exit are those of the
// records printed (Java's consumer commits its position, which after
// --max-messages can be past the last record printed). Its client id is Java's default, consumer-G-1, and the
// group properties session.timeout.ms, heartbeat.interval.ms,
// max.poll.interval.ms, group.instance.id and partition.assignment.strategy
// (Kafka's Range, RoundRobin, Sticky and CooperativeSticky assignors;
// default range, then cooperative-sticky) apply. A group excludes
// --partition. Without a group the tool reads like Kafka's with its random
// throw-away group: every partition of --topic (or every non-internal topic
// matching --include), from the end, or from the beginning with
// --from-beginning or auto.offset.reset=earliest, committing nothing;
// --partition/--offset read one partition as Kafka's assign-and-seek mode
// does.
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
