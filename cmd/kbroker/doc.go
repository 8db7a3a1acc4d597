// Command kbroker runs a broker:
//
//	kbroker server.properties [--override key=value]... [--log-level info]
//
// It reads a Kafka-style server.properties (Kafka's property names and
// defaults), applies KBROKER_* environment variables and the overrides,
// logs JSON lines with zerolog to stderr, and stops in order on SIGTERM or
// SIGINT (clean-shutdown marker, checkpoints, ZooKeeper session closed).
// Invalid or unknown settings are startup errors naming the setting. The
// log level is info unless --log-level says otherwise (debug adds
// connections, trace a line per request).
//
// Imports: config, broker.
package main
