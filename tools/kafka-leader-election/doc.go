// Command kafka-leader-election elects partition leaders the way Apache
// Kafka 3.9's kafka-leader-election.sh (org.apache.kafka.tools.
// LeaderElectionCommand) does, with the same options and the same output,
// so that runbooks written for Kafka work unchanged against kbroker (or any
// Kafka-compatible cluster).
//
// Usage (scripts/kafka-leader-election.sh builds and runs it):
//
//	kafka-leader-election --bootstrap-server HOST:PORT[,...] [--admin.config FILE]
//	    --election-type PREFERRED|UNCLEAN
//	    ( --topic T --partition P | --all-topic-partitions | --path-to-json-file FILE )
//
// The JSON file is {"partitions":[{"topic":"t","partition":0},...]}.
//
// Output, as Kafka 3.9 prints it (partitions in the order of Java's
// HashSet and HashMap over Kafka's TopicPartition, as the Java tool does):
//
//	Successfully completed leader election (PREFERRED) for partitions t-0, t-1
//	Valid replica already elected for partitions t-2
//	Error completing leader election (PREFERRED) for partition: t-3: org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: ...
//
// The first line lists the partitions elected, the second those whose
// leader was already the right one (ELECTION_NOT_NEEDED; a broker leaves
// them out of an --all-topic-partitions answer), then one line per
// partition that failed, after which "N replica(s) could not be elected"
// goes to stderr and the exit status is 1. Argument and file errors are one
// line on stderr (Kafka's message; Kafka adds a Java stack trace) and exit
// status 1; --help (and no arguments) print the option table on stderr and
// exit 1, --version prints the Kafka version.
//
// The request is ElectLeaders, sent by franz-go to the controller (kgo
// retries another broker when the answer is NOT_CONTROLLER); its timeout
// and the tool's wait are default.api.timeout.ms (30 s here, as Kafka's
// tool sets it, unless --admin.config says otherwise).
package main
