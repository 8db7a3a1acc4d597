// Command kafka-topics creates, lists, describes, alters (adds partitions
// to) and deletes topics the way Apache Kafka 3.9's kafka-topics.sh
// (org.apache.kafka.tools.TopicCommand) does, with the same options and the
// same output, so that runbooks and scripts written for Kafka work unchanged
// against kbroker (or any Kafka-compatible cluster).
//
// Usage (scripts/kafka-topics.sh builds and runs it):
//
//	kafka-topics --bootstrap-server HOST:PORT[,...] [--command-config FILE]
//	    --create --topic T [--partitions N] [--replication-factor R]
//	             [--replica-assignment 0:1,1:2] [--config k=v]... [--if-not-exists]
//	  | --list [--topic REGEX] [--exclude-internal]
//	  | --describe [--topic REGEX | --topic-id ID] [--exclude-internal] [--if-exists]
//	             [--under-replicated-partitions | --unavailable-partitions |
//	              --under-min-isr-partitions | --at-min-isr-partitions |
//	              --topics-with-overrides]
//	  | --alter --topic REGEX --partitions N [--replica-assignment ...] [--if-exists]
//	  | --delete --topic REGEX [--if-exists]
//
// Output, as Kafka 3.9 prints it:
//
//	--create    "Created topic T." (after a warning line when T has '.' or '_')
//	--list      the sorted names, one per line
//	--describe  per topic "Topic: T\tTopicId: ID\tPartitionCount: N\t
//	            ReplicationFactor: R\tConfigs: k=v,..." (the configs whose
//	            source is not the default), then per partition "\tTopic: T\t
//	            Partition: P\tLeader: L\tReplicas: a,b\tIsr: a,b\tElr: N/A\t
//	            LastKnownElr: N/A" (Leader "none" without a live leader;
//	            "\tAdding Replicas: ..\tRemoving Replicas: .." during a
//	            reassignment). Topics and configs come in the order of Java's
//	            HashMap, as in Kafka's tool.
//	--alter, --delete  nothing
//
// Errors are one line on stderr and exit status 1: argument errors with
// Kafka's message (e.g. "Missing required argument \"[topic]\"",
// "Topic 'x' does not exist as expected"), failures of the operation as
// "Error while executing topic command : <message>" (Kafka prints that kind on
// stdout). --help (and no arguments) print the option table on stderr and
// exit 1, as Kafka's tool does.
//
// Requests go through franz-go (kgo/kmsg): Metadata (list, describe),
// CreateTopics, CreatePartitions, DeleteTopics (kgo sends these to the
// controller), DescribeConfigs and ListPartitionReassignments. Topic configs
// named in --config are checked against Kafka 3.9's topic config names before
// anything is sent; their values are left to the broker.
package main
