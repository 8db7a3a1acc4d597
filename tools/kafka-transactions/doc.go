// Command kafka-transactions inspects and repairs transactions the way
// Apache Kafka 3.9's kafka-transactions.sh (org.apache.kafka.tools.
// TransactionsCommand) does, with the same subcommands, options and table
// output, against kbroker or any Kafka-compatible cluster.
//
// Usage (scripts/kafka-transactions.sh builds and runs it):
//
//	kafka-transactions [--command-config FILE] --bootstrap-server HOST:PORT COMMAND ...
//	  list [--duration-filter MS]
//	  describe --transactional-id ID
//	  describe-producers --topic T --partition P [--broker-id N]
//	  abort --topic T --partition P (--start-offset O |
//	        --producer-id ID --producer-epoch E --coordinator-epoch C)
//
// Tables are Kafka's: a header line, then one line per row, every cell
// padded with spaces to its column's width and followed by a tab.
//
//   - list sends ListTransactions to every broker (v1 with
//     --duration-filter) and prints TransactionalId, Coordinator, ProducerId,
//     TransactionState, by broker id;
//   - describe finds the transaction coordinator (FindCoordinator type 1)
//     and prints DescribeTransactions' answer (CoordinatorId, ...,
//     TopicPartitions in Java's HashSet order);
//   - describe-producers sends DescribeProducers to the partition's leader,
//     or to --broker-id, and prints the producers in the broker's order;
//   - abort writes an ABORT marker with WriteTxnMarkers to the partition's
//     leader, as Admin.abortTransaction does; --start-offset first finds the
//     producer whose open transaction starts there with DescribeProducers.
//     A coordinator epoch below 0 is sent as 0.
//
// Errors are Kafka's one line on stderr ("Failed to ...: <message>. Enable
// debug logging for additional detail.") with exit status 1; argument errors
// print "kafka-transactions.sh: error: ..." and exit 1. find-hanging is not
// implemented.
package main
