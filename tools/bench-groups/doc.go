// Command bench-groups measures the group coordinator of a running cluster
// (kbroker or any Kafka) with franz-go clients, and prints two figures:
//
//   - rebalance: -members group members (kgo, cooperative-sticky) join a
//     group on a topic of -partitions partitions; once the group is stable,
//     one more member joins, and the time until every member has its
//     assignment in the new generation is measured (-rounds times; the
//     median is printed). The first join includes the broker's
//     group.initial.rebalance.delay.ms; later rebalances do not.
//   - commits: -committers clients commit one offset each in a loop for
//     -duration (OffsetCommit of a consumer outside group management, acks
//     as the coordinator writes them); commits per second are printed.
//
// Usage:
//
//	bench-groups -bootstrap HOST:PORT[,...] [-members 100] [-partitions 100]
//	    [-rounds 3] [-committers 8] [-duration 10s] [-topic bench-groups]
//
// The topic is created when missing (replication factor 1). It is a
// benchmark, not a Kafka tool: flags use Go's flag package. Exit status 0
// when every measurement completed, 1 otherwise, 2 for bad flags.
package main
