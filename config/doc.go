// Package config owns kbroker's configuration: the broker settings read from
// a Kafka-style server.properties, the environment and --override arguments,
// and the definitions of Kafka 3.9's topic-level settings, with their types,
// valid ranges, defaults and broker synonyms, for CreateTopics validation,
// the log configuration of each partition, and DescribeConfigs.
//
// # Imports
//
// config imports nothing from the project but model, and is the only
// package that imports viper. It knows nothing of kmsg, kerr or commitlog:
// DescribeConfigs results are plain Go structs that the api layer converts,
// and the broker maps TopicConfig to commitlog.Config.
//
// # Sources and precedence
//
// Load merges, lowest priority first:
//
//  1. Kafka 3.9's defaults (ZooKeeper mode);
//  2. the server.properties file (Options.File), in Java properties syntax
//     (java.util.Properties: "k=v", "k: v" or "k v", # and ! comments,
//     backslash continuations and escapes), read through viper with a
//     properties codec of this package;
//  3. Options.Properties (for in-process brokers), as if in the file;
//  4. environment variables: KBROKER_ followed by the setting name
//     upper-cased with dots turned into underscores, e.g.
//     KBROKER_ZOOKEEPER_CONNECT=zk:2181/kafka or KBROKER_LOG_RETENTION_HOURS=24
//     (the scheme of the Confluent and Bitnami images, with kbroker's
//     prefix). The KBROKER_ namespace belongs to settings: a KBROKER_
//     variable that names no setting is an error, and an empty one counts as
//     unset. No Kafka setting name contains an underscore, so the mapping is
//     exact. Options.IgnoreEnv turns this source off;
//  5. --override name=value arguments (Options.Overrides), last one wins.
//
// # Unknown and unsupported settings
//
// Kafka only warns about names it does not know; kbroker refuses to start.
// A name is accepted when it is one of the Kafka 3.9 broker settings in the
// table of brokerdefs.go (see BrokerConfigNames). Names are case-sensitive
// as in Kafka. The error explains near misses: a wrong case, a name within
// two edits of a known one, KRaft settings (process.roles, node.id, ...:
// kbroker runs in ZooKeeper mode only) and TLS/SASL settings (ssl.*, sasl.*,
// listener.name.*: kbroker serves PLAINTEXT only).
//
// The table also holds well-known settings that kbroker accepts so that a
// real server.properties works unchanged but does not act on, such as
// num.network.threads, num.io.threads, log.message.format.version or
// metrics.num.samples. They are type- and range-checked like the others and
// described like Kafka does; Broker.Ignored lists the ones that were set so
// the broker can log them at startup.
//
// A few values kbroker cannot honour are refused even though Kafka accepts
// them: listeners whose security protocol is not PLAINTEXT,
// zookeeper.set.acl=true, a non-empty authorizer.class.name, Java class
// settings (create.topic.policy.class.name, replica.selector.class,
// metric.reporters, ...), control.plane.listener.name,
// remote.log.storage.system.enable=true and rebalance protocols other than
// classic.
//
// # Validation
//
// Values are parsed as Kafka's ConfigDef parses them (trimmed, booleans
// case-insensitive, lists split on commas) and checked against Kafka's valid
// ranges, then Kafka's cross-setting rules apply: zookeeper.connect is
// required (chroot allowed), broker.id within [-1, reserved.broker.max.id],
// at least one log directory (log.dirs, else log.dir) without duplicates,
// log.roll.ms >= 1, retention unlimited (-1) or >= 1 ms, listener syntax
// (NAME://host:port, empty host = all interfaces, IPv6 in brackets), unique
// listener names, distinct ports, a security protocol for every listener,
// advertised listeners a subset of listeners and not 0.0.0.0, the
// inter-broker listener among the advertised ones, and the replica/offsets
// rules of KafkaConfig.validateValues. Problems are reported together in a
// *LoadError whose lines name the setting, the value and where it was set
// (file:line, environment variable, --override): first every unknown name,
// else every unparsable or out-of-range value, else every broken
// cross-setting rule.
//
// Settings with ms/minutes/hours synonyms resolve as in Kafka:
// log.retention.ms > log.retention.minutes > log.retention.hours (any
// negative result is -1, unlimited), log.roll.ms > log.roll.hours,
// log.roll.jitter.ms > log.roll.jitter.hours, log.flush.interval.ms >
// log.flush.scheduler.interval.ms.
//
// Advertised listeners default to the listeners; an empty advertised host
// becomes the machine's canonical host name (CanonicalHostname, as Java's
// getCanonicalHostName). Port 0 binds an ephemeral port; the broker replaces
// it by the bound port when registering (Broker.AdvertisedEndpoints).
//
// # Topic configs
//
// ValidateTopicConfig checks topic overrides (unknown name → "Unknown topic
// config name: x"; bad value → "Invalid value v for configuration n:
// reason", Kafka's wording) and EffectiveTopicConfig resolves every topic
// setting: override > broker synonym > Kafka default.
//
// # DescribeConfigs
//
// DescribeTopicConfigs and DescribeBrokerConfigs produce Kafka 3.9's entries:
// value, source (DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG),
// readOnly, isSensitive (passwords have null values) and synonyms in Kafka's
// order and with Kafka's filtering rule (see DescribeTopicConfigs). kbroker
// has no dynamic broker configs yet, so the DYNAMIC_BROKER_CONFIG and
// DYNAMIC_DEFAULT_BROKER_CONFIG sources never appear.
//
// # Concurrency
//
// Load and the functions are pure; a Broker is immutable after Load (except
// through SetBrokerID on the caller's own copy) and may be shared freely.
// The package holds no mutable state: the definition tables are built once
// at init.
package config
