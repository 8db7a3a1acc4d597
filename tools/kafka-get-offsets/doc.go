// Command kafka-get-offsets prints partition offsets the way Apache Kafka
// 3.9's kafka-get-offsets.sh (org.apache.kafka.tools.GetOffsetShell) does:
// one "topic:partition:offset" line per matching partition, sorted by the
// text "topic-partition" (so partition 10 comes before partition 2, as in
// Kafka).
//
// Usage (scripts/kafka-get-offsets.sh builds and runs it):
//
//	kafka-get-offsets --bootstrap-server HOST:PORT[,...]
//	    [--topic REGEX] [--partitions 0,1,...] | [--topic-partitions t1:1,t2:0-3,t3,:5-]
//	    [--time latest|-1|earliest|-2|max-timestamp|-3|earliest-local|-4|latest-tiered|-5|<ms>]
//	    [--exclude-internal-topics] [--command-config FILE]
//
// --time selects the offset ListOffsets returns: the log end (latest, the
// default), the log start (earliest), the record with the largest timestamp
// (max-timestamp), or the first record whose timestamp is at least the given
// milliseconds; partitions with no such record are left out, as in Kafka.
// Topic patterns are regular expressions matching whole names.
//
// Errors are one line on stderr, exit status 1: "Error occurred: <message>"
// (e.g. "Error occurred: Could not match any topic-partitions with the
// specified filters", "Error occurred: Malformed time argument x. ..."), or
// Kafka's argument messages. A partition whose leader fails the request is
// reported as "Skip getting offsets for topic-partition t-0 due to error:
// <message>" on stderr and left out.
package main
