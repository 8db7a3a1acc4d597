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
//	  find-hanging (--broker-id N | --topic T [--partition P])
//	        [--max-transaction-timeout MINUTES]
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
//   - find-hanging lists the partitions of --topic (or the one
//     --partition), or of every topic including internal ones with a
//     replica on --broker-id, asks DescribeProducers (on --broker-id, else
//     on the leaders; 500 partitions a request) for open transactions whose
//     last write is more than --max-transaction-timeout minutes (default 15)
//     old, looks their producer ids up with ListTransactions on every
//     broker and their transactional ids with DescribeTransactions on the
//     coordinators, and prints those no coordinator will end: Topic,
//     Partition, ProducerId, ProducerEpoch, CoordinatorEpoch, StartOffset,
//     LastTimestamp, Duration(min). A producer id no coordinator lists, or
//     a transactional id the coordinator does not know
//     (TRANSACTIONAL_ID_NOT_FOUND), hangs on every partition; otherwise a
//     partition hangs when the coordinator's description leaves it out.
//     Rows come in the order of Kafka's HashMaps (by producer id, then by
//     partition).
//
// Errors are Kafka's one line on stderr ("Failed to ...: <message>. Enable
// debug logging for additional detail.") with exit status 1; argument errors
// print "kafka-transactions.sh: error: ..." and exit 1.
package main
