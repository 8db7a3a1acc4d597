// Package cli holds what kbroker's Kafka-compatible command-line tools
// (tools/kafka-topics, tools/kafka-console-producer,
// tools/kafka-console-consumer, tools/kafka-broker-api-versions,
// tools/kafka-get-offsets, tools/kafka-producer-perf-test,
// tools/kafka-consumer-perf-test, tools/kafka-consumer-groups,
// tools/kafka-leader-election, tools/kafka-transactions) share:
//
//   - a parser with joptsimple's rules, the option library of Kafka's own
//     tools ("--name value", "--name=value", one leading hyphen, unique
//     prefixes, repeatable options), its error messages and a help layout
//     close to joptsimple's;
//   - Java .properties files (--command-config, --producer.config, ...) and
//     "key=value" arguments (--property, --producer-property, ...);
//   - building a franz-go client (kgo) from --bootstrap-server and Kafka
//     client properties, reporting once on stderr which properties a tool
//     ignores, and turning "no broker answered before the deadline" into the
//     Java admin client's message;
//   - Kafka's topic filters (TopicFilter.IncludeList: a Java regular
//     expression that must match the whole name, commas meaning "or"), the
//     internal-topic test, Java's Uuid text form and error descriptions;
//   - Message, the error type for Kafka's own message texts, kept word for
//     word (capitalised, with final periods) because users match on them;
//   - java.util.HashMap's iteration order, because Kafka's tools print some
//     collections (topic configs, described topics) in that order and users'
//     scripts and eyes expect the same order.
//
// The package talks to brokers only through kgo/kmsg. It holds no global
// mutable state and is safe for concurrent use by independent callers.
// It must not import any broker package (model, zkmeta, commitlog, ...):
// the tools are clients, and work against any Kafka-compatible cluster.
package cli
