// Command kbroker runs a broker:
//
//	kbroker server.properties [--override key=value]...
//
// It reads a Kafka-style server.properties (Kafka's property names and
// defaults), applies KBROKER_* environment variables and the overrides,
// logs JSON lines with zerolog to stderr, and stops in order on SIGTERM or
// SIGINT (clean-shutdown marker, checkpoints, ZooKeeper session closed).
// Invalid or unknown settings are startup errors naming the setting.
//
// Imports: config, broker.
package main
