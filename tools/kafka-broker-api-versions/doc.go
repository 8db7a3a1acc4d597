// Command kafka-broker-api-versions prints, for every broker of a cluster,
// the API versions it advertises, the way Apache Kafka 3.9's
// kafka-broker-api-versions.sh (org.apache.kafka.tools.BrokerApiVersionsCommand
// with NodeApiVersions.toString(true)) does:
//
//	host:9092 (id: 0 rack: null) -> (
//		Produce(0): 0 to 11 [usable: 11],
//		Fetch(1): 0 to 17 [usable: 17],
//		...
//		DescribeTopicPartitions(75): UNSUPPORTED,
//		...
//	)
//
// "usable" is the newest version a Kafka 3.9 Java client would use (the
// smaller of its own newest and the broker's); keys a 3.9 client does not
// know print as "UNKNOWN(key): min to max"; APIs a 3.9 client could call but
// the broker does not advertise print as "Name(key): UNSUPPORTED". A broker
// that does not answer prints "host:port (id: N rack: R) -> ERROR: <message>".
//
// Usage (scripts/kafka-broker-api-versions.sh builds and runs it):
//
//	kafka-broker-api-versions --bootstrap-server HOST:PORT[,...] [--command-config FILE]
//
// The brokers come from a Metadata request and are printed sorted by id
// (Kafka's order is that of a Java HashMap). When no bootstrap broker
// answers within request.timeout.ms (5 s by default) the tool prints Kafka's
// "Request METADATA failed on brokers [...]" on stderr and exits 1.
package main
