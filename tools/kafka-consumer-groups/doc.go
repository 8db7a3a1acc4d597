// Command kafka-consumer-groups lists, describes, deletes and resets the
// offsets of consumer groups the way Apache Kafka 3.9's
// kafka-consumer-groups.sh (org.apache.kafka.tools.consumer.group.
// ConsumerGroupCommand) does, with the same options and output, so that
// runbooks and scripts written for Kafka work unchanged against kbroker (or
// any Kafka-compatible cluster).
//
// Usage (scripts/kafka-consumer-groups.sh builds and runs it):
//
//	kafka-consumer-groups --bootstrap-server HOST:PORT[,...] [--command-config FILE] [--timeout MS]
//	    --list [--state [STATE,...]] [--type [TYPE,...]]
//	  | --describe (--group G ... | --all-groups) [--offsets | --members [--verbose] | --state]
//	  | --delete (--group G ... | --all-groups)
//	  | --reset-offsets (--group G ... | --all-groups) (--topic T[:P,P...] ... | --all-topics)
//	        (--to-earliest | --to-latest | --to-current | --to-offset N | --shift-by N |
//	         --to-datetime YYYY-MM-DDTHH:mm:SS.sss | --by-duration PnDTnHnMnS | --from-file CSV)
//	        [--dry-run | --execute] [--export]
//	  | --delete-offsets --group G --topic T[:P,P...] ...
//
// Output, as Kafka 3.9 prints it:
//
//	--list        the group ids, one per line; with --state/--type a table
//	              GROUP [TYPE] [STATE] (GROUP as wide as the longest id + 10)
//	--describe    per group, after a blank line, the table GROUP TOPIC
//	              PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST
//	              CLIENT-ID, its widths computed from the values as Kafka
//	              computes them, "-" for what is unknown; --members: GROUP
//	              CONSUMER-ID [GROUP-INSTANCE-ID] HOST CLIENT-ID #PARTITIONS
//	              [ASSIGNMENT]; --state: GROUP COORDINATOR (ID)
//	              ASSIGNMENT-STRATEGY STATE #MEMBERS
//	--delete      "Deletion of requested consumer groups ('g') was successful."
//	--reset-offsets  the table GROUP TOPIC PARTITION NEW-OFFSET (CSV with --export)
//	--delete-offsets "Request succeed for deleting offsets with topic T group G"
//	              and the table TOPIC PARTITION STATUS
//
// Rows and groups come in the order Kafka's tool prints them in, which for
// several collections is the iteration order of Java's HashMap (partitions
// of a described member, for instance, often appear in descending order).
//
// Kafka's notices keep their streams: "Consumer group 'G' has no active
// members." and "Warning: Consumer group 'G' is rebalancing." go to stderr,
// "Error: Consumer group 'G' does not exist." (and the other "Error: ..."
// lines of describe, delete, reset and delete-offsets) to stdout after a
// blank line, with exit status 0, as in Kafka. --reset-offsets without
// --execute only plans (with Kafka's "WARN: No action will be performed ..."
// on stderr unless --dry-run is given). Option mistakes are one line on
// stderr with Kafka's message ("Option [describe] takes one of these
// options: [all-groups], [group]") and exit status 1; --help and no
// arguments print the option table on stderr and exit 1.
//
// Differences from Kafka 3.9, all deliberate: a failure of the command
// itself (no broker answering, a request refused) is the one line "Error:
// Executing consumer group command failed due to ..." on stderr with exit
// status 1 (Kafka prints it on stdout with a stack trace and exits 0); a
// partition whose end offset cannot be listed shows "-" instead of failing
// the describe; and where Kafka 3.9's Java port garbled its output (tables
// of --reset-offsets and --delete-offsets without line breaks, a describe
// table without its final line break, ASSIGNMENT without topic names, the
// list of groups deleted despite other failures), the tool prints the
// layout of Kafka's earlier (Scala) tool, which later Kafka releases
// restored.
//
// Requests go through franz-go (kgo/kmsg/kadm): ListGroups, DescribeGroups,
// OffsetFetch, ListOffsets, Metadata, OffsetCommit, DeleteGroups and
// OffsetDelete. Each request is bounded by --timeout (default 5000 ms), as
// Kafka's tool bounds each admin call.
package main
