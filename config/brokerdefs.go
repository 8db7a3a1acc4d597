package config

import "strings"

type defOpt func(*def)

func mkdef(name string, t Type, dflt string, opts ...defOpt) *def {
	d := &def{name: name, typ: t, dflt: dflt}
	for _, o := range opts {
		o(d)
	}
	return d
}

// dyn marks a setting Kafka can update dynamically (readOnly=false in
// DescribeConfigs).
func dyn(d *def) { d.dynamic = true }

func chk(f func(any) string) defOpt { return func(d *def) { d.check = f } }

func rej(f func(any) string) defOpt { return func(d *def) { d.reject = f } }

const (
	longMax   = "9223372036854775807"
	intMax    = "2147483647"
	doubleMax = "1.7976931348623157E308"
)

// brokerDefs are the Kafka 3.9 (ZooKeeper mode) broker settings kbroker
// knows, with Kafka's types, defaults and valid ranges. A name outside this
// table is an unknown setting (a startup error). Settings kbroker accepts but
// does not act on are reported by Broker.Ignored; a few values kbroker cannot
// honour are refused (reject).
var brokerDefs = []*def{
	// ZooKeeper.
	mkdef("zookeeper.connect", TypeString, noDefault),
	mkdef("zookeeper.session.timeout.ms", TypeInt, "18000", chk(atLeast(1))),
	mkdef("zookeeper.connection.timeout.ms", TypeInt, noDefault, chk(atLeast(1))),
	mkdef("zookeeper.max.in.flight.requests", TypeInt, "10", chk(atLeast(1))),
	mkdef("zookeeper.set.acl", TypeBoolean, "false",
		rej(rejectUnless(false, "kbroker does not write ZooKeeper ACLs; only false is supported"))),

	// General.
	mkdef("broker.id", TypeInt, "-1"),
	mkdef("broker.id.generation.enable", TypeBoolean, "true"),
	mkdef("reserved.broker.max.id", TypeInt, "1000", chk(atLeast(0))),
	mkdef("broker.rack", TypeString, noDefault),
	mkdef("message.max.bytes", TypeInt, "1048588", chk(atLeast(0)), dyn),
	mkdef("num.network.threads", TypeInt, "3", chk(atLeast(1)), dyn),
	mkdef("num.io.threads", TypeInt, "8", chk(atLeast(1)), dyn),
	mkdef("background.threads", TypeInt, "10", chk(atLeast(1)), dyn),
	mkdef("num.replica.alter.log.dirs.threads", TypeInt, noDefault),
	mkdef("queued.max.requests", TypeInt, "500", chk(atLeast(1))),
	mkdef("queued.max.request.bytes", TypeLong, "-1"),
	mkdef("request.timeout.ms", TypeInt, "30000"),
	mkdef("socket.connection.setup.timeout.ms", TypeLong, "10000"),
	mkdef("socket.connection.setup.timeout.max.ms", TypeLong, "30000"),
	mkdef("delete.topic.enable", TypeBoolean, "true"),
	mkdef("auto.create.topics.enable", TypeBoolean, "true"),
	mkdef("compression.type", TypeString, "producer", chk(oneOf(compressionTypes...)), dyn),
	mkdef("compression.gzip.level", TypeInt, "-1", chk(gzipLevel), dyn),
	mkdef("compression.lz4.level", TypeInt, "9", chk(lz4Level), dyn),
	mkdef("compression.zstd.level", TypeInt, "3", chk(zstdLevel), dyn),
	mkdef("authorizer.class.name", TypeString, "",
		rej(rejectUnless("", "kbroker has no authorizer (ACLs are not enforced); leave it empty"))),
	mkdef("password.encoder.secret", TypePassword, noDefault),

	// Socket server.
	mkdef("listeners", TypeString, "PLAINTEXT://:9092", dyn),
	mkdef("advertised.listeners", TypeString, noDefault, dyn),
	mkdef("listener.security.protocol.map", TypeString,
		"SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT", dyn),
	mkdef("control.plane.listener.name", TypeString, noDefault,
		rej(rejectIfSet("a separate control-plane listener is not supported by kbroker"))),
	mkdef("socket.send.buffer.bytes", TypeInt, "102400"),
	mkdef("socket.receive.buffer.bytes", TypeInt, "102400"),
	mkdef("socket.request.max.bytes", TypeInt, "104857600", chk(atLeast(1))),
	mkdef("socket.listen.backlog.size", TypeInt, "50", chk(atLeast(1))),
	mkdef("max.connections.per.ip", TypeInt, intMax, chk(atLeast(0)), dyn),
	mkdef("max.connections.per.ip.overrides", TypeString, "", dyn),
	mkdef("max.connections", TypeInt, intMax, chk(atLeast(0)), dyn),
	mkdef("max.connection.creation.rate", TypeInt, intMax, chk(atLeast(0)), dyn),
	mkdef("connections.max.idle.ms", TypeLong, "600000"),

	// Log.
	mkdef("num.partitions", TypeInt, "1", chk(atLeast(1))),
	mkdef("log.dir", TypeString, "/tmp/kafka-logs"),
	mkdef("log.dirs", TypeString, noDefault),
	mkdef("log.segment.bytes", TypeInt, "1073741824", chk(atLeast(14)), dyn),
	mkdef("log.roll.ms", TypeLong, noDefault, dyn),
	mkdef("log.roll.hours", TypeInt, "168", chk(atLeast(1))),
	mkdef("log.roll.jitter.ms", TypeLong, noDefault, dyn),
	mkdef("log.roll.jitter.hours", TypeInt, "0", chk(atLeast(0))),
	mkdef("log.retention.ms", TypeLong, noDefault, dyn),
	mkdef("log.retention.minutes", TypeInt, noDefault),
	mkdef("log.retention.hours", TypeInt, "168"),
	mkdef("log.retention.bytes", TypeLong, "-1", dyn),
	mkdef("log.retention.check.interval.ms", TypeLong, "300000", chk(atLeast(1))),
	mkdef("log.cleanup.policy", TypeList, "delete", chk(listOf("compact", "delete")), dyn),
	mkdef("log.cleaner.enable", TypeBoolean, "true"),
	mkdef("log.cleaner.threads", TypeInt, "1", chk(atLeast(0)), dyn),
	mkdef("log.cleaner.io.max.bytes.per.second", TypeDouble, doubleMax, dyn),
	mkdef("log.cleaner.dedupe.buffer.size", TypeLong, "134217728", dyn),
	mkdef("log.cleaner.io.buffer.size", TypeInt, "524288", chk(atLeast(0)), dyn),
	mkdef("log.cleaner.io.buffer.load.factor", TypeDouble, "0.9", dyn),
	mkdef("log.cleaner.backoff.ms", TypeLong, "15000", chk(atLeast(0)), dyn),
	mkdef("log.cleaner.min.cleanable.ratio", TypeDouble, "0.5", chk(between(0, 1)), dyn),
	mkdef("log.cleaner.delete.retention.ms", TypeLong, "86400000", chk(atLeast(0)), dyn),
	mkdef("log.cleaner.min.compaction.lag.ms", TypeLong, "0", chk(atLeast(0)), dyn),
	mkdef("log.cleaner.max.compaction.lag.ms", TypeLong, longMax, chk(atLeast(1)), dyn),
	mkdef("log.index.size.max.bytes", TypeInt, "10485760", chk(atLeast(4)), dyn),
	mkdef("log.index.interval.bytes", TypeInt, "4096", chk(atLeast(0)), dyn),
	mkdef("log.flush.interval.messages", TypeLong, longMax, chk(atLeast(1)), dyn),
	mkdef("log.segment.delete.delay.ms", TypeLong, "60000", chk(atLeast(0)), dyn),
	mkdef("log.flush.scheduler.interval.ms", TypeLong, longMax),
	mkdef("log.flush.interval.ms", TypeLong, noDefault, dyn),
	mkdef("log.flush.offset.checkpoint.interval.ms", TypeInt, "60000", chk(atLeast(0))),
	mkdef("log.flush.start.offset.checkpoint.interval.ms", TypeInt, "60000", chk(atLeast(0))),
	mkdef("log.preallocate", TypeBoolean, "false", dyn),
	mkdef("num.recovery.threads.per.data.dir", TypeInt, "1", chk(atLeast(1)), dyn),
	mkdef("min.insync.replicas", TypeInt, "1", chk(atLeast(1)), dyn),
	mkdef("log.message.format.version", TypeString, "3.0-IV1", chk(metadataVersion)),
	mkdef("log.message.timestamp.type", TypeString, "CreateTime", chk(oneOf("CreateTime", "LogAppendTime")), dyn),
	mkdef("log.message.timestamp.difference.max.ms", TypeLong, longMax, chk(atLeast(0)), dyn),
	mkdef("log.message.timestamp.before.max.ms", TypeLong, longMax, chk(atLeast(0)), dyn),
	mkdef("log.message.timestamp.after.max.ms", TypeLong, longMax, chk(atLeast(0)), dyn),
	mkdef("log.message.downconversion.enable", TypeBoolean, "true", dyn),
	mkdef("log.dir.failure.timeout.ms", TypeLong, "30000", chk(atLeast(1))),
	mkdef("log.local.retention.ms", TypeLong, "-2", chk(atLeast(-2)), dyn),
	mkdef("log.local.retention.bytes", TypeLong, "-2", chk(atLeast(-2)), dyn),
	mkdef("remote.log.storage.system.enable", TypeBoolean, "false",
		rej(rejectUnless(false, "tiered storage is not supported by kbroker"))),
	mkdef("create.topic.policy.class.name", TypeClass, noDefault,
		rej(rejectIfSet("kbroker cannot load Java policy classes"))),
	mkdef("alter.config.policy.class.name", TypeClass, noDefault,
		rej(rejectIfSet("kbroker cannot load Java policy classes"))),

	// Replication.
	mkdef("controller.socket.timeout.ms", TypeInt, "30000"),
	mkdef("default.replication.factor", TypeInt, "1"),
	mkdef("replica.lag.time.max.ms", TypeLong, "30000"),
	mkdef("replica.socket.timeout.ms", TypeInt, "30000"),
	mkdef("replica.socket.receive.buffer.bytes", TypeInt, "65536"),
	mkdef("replica.fetch.max.bytes", TypeInt, "1048576", chk(atLeast(0))),
	mkdef("replica.fetch.wait.max.ms", TypeInt, "500"),
	mkdef("replica.fetch.backoff.ms", TypeInt, "1000", chk(atLeast(0))),
	mkdef("replica.fetch.min.bytes", TypeInt, "1"),
	mkdef("replica.fetch.response.max.bytes", TypeInt, "10485760", chk(atLeast(0))),
	mkdef("num.replica.fetchers", TypeInt, "1", dyn),
	mkdef("replica.high.watermark.checkpoint.interval.ms", TypeLong, "5000"),
	mkdef("fetch.purgatory.purge.interval.requests", TypeInt, "1000"),
	mkdef("producer.purgatory.purge.interval.requests", TypeInt, "1000"),
	mkdef("delete.records.purgatory.purge.interval.requests", TypeInt, "1"),
	mkdef("auto.leader.rebalance.enable", TypeBoolean, "true"),
	mkdef("leader.imbalance.per.broker.percentage", TypeInt, "10"),
	mkdef("leader.imbalance.check.interval.seconds", TypeLong, "300", chk(atLeast(1))),
	mkdef("unclean.leader.election.enable", TypeBoolean, "false", dyn),
	mkdef("security.inter.broker.protocol", TypeString, "PLAINTEXT", chk(oneOf(securityProtocols...))),
	mkdef("inter.broker.protocol.version", TypeString, "3.9-IV0", chk(metadataVersion)),
	mkdef("inter.broker.listener.name", TypeString, noDefault),
	mkdef("replica.selector.class", TypeString, noDefault,
		rej(rejectIfSet("kbroker cannot load Java replica selectors"))),

	// Controlled shutdown.
	mkdef("controlled.shutdown.max.retries", TypeInt, "3"),
	mkdef("controlled.shutdown.retry.backoff.ms", TypeLong, "5000"),
	mkdef("controlled.shutdown.enable", TypeBoolean, "true"),

	// Group coordinator and offsets.
	mkdef("group.min.session.timeout.ms", TypeInt, "6000"),
	mkdef("group.max.session.timeout.ms", TypeInt, "1800000"),
	mkdef("group.initial.rebalance.delay.ms", TypeInt, "3000"),
	mkdef("group.max.size", TypeInt, intMax, chk(atLeast(1))),
	mkdef("group.coordinator.rebalance.protocols", TypeList, "classic",
		chk(listOf("classic", "consumer", "share")), rej(classicProtocolOnly)),
	mkdef("offset.metadata.max.bytes", TypeInt, "4096"),
	mkdef("offsets.load.buffer.size", TypeInt, "5242880", chk(atLeast(1))),
	mkdef("offsets.topic.replication.factor", TypeShort, "3", chk(atLeast(1))),
	mkdef("offsets.topic.num.partitions", TypeInt, "50", chk(atLeast(1))),
	mkdef("offsets.topic.segment.bytes", TypeInt, "104857600", chk(atLeast(1))),
	mkdef("offsets.topic.compression.codec", TypeInt, "0", chk(between(0, 4))),
	mkdef("offsets.retention.minutes", TypeInt, "10080", chk(atLeast(1))),
	mkdef("offsets.retention.check.interval.ms", TypeLong, "600000", chk(atLeast(1))),
	mkdef("offsets.commit.timeout.ms", TypeInt, "5000", chk(atLeast(1))),
	mkdef("offsets.commit.required.acks", TypeShort, "-1"),

	// Transactions and producer ids.
	mkdef("transactional.id.expiration.ms", TypeInt, "604800000", chk(atLeast(1))),
	mkdef("transaction.max.timeout.ms", TypeInt, "900000", chk(atLeast(1))),
	mkdef("transaction.state.log.min.isr", TypeInt, "2", chk(atLeast(1))),
	mkdef("transaction.state.log.load.buffer.size", TypeInt, "5242880", chk(atLeast(1))),
	mkdef("transaction.state.log.replication.factor", TypeShort, "3", chk(atLeast(1))),
	mkdef("transaction.state.log.num.partitions", TypeInt, "50", chk(atLeast(1))),
	mkdef("transaction.state.log.segment.bytes", TypeInt, "104857600", chk(atLeast(1))),
	mkdef("transaction.abort.timed.out.transaction.cleanup.interval.ms", TypeInt, "10000", chk(atLeast(1))),
	mkdef("transaction.remove.expired.transaction.cleanup.interval.ms", TypeInt, "3600000", chk(atLeast(1))),
	mkdef("transaction.partition.verification.enable", TypeBoolean, "true", dyn),
	mkdef("producer.id.expiration.ms", TypeInt, "86400000", chk(atLeast(1)), dyn),

	// Fetch and request limits.
	mkdef("max.incremental.fetch.session.cache.slots", TypeInt, "1000", chk(atLeast(0))),
	mkdef("fetch.max.bytes", TypeInt, "57671680", chk(atLeast(1024))),
	mkdef("max.request.partition.size.limit", TypeInt, "2000", chk(atLeast(1))),

	// Metrics (kbroker exports none of Kafka's JMX metrics).
	mkdef("metrics.num.samples", TypeInt, "2", chk(atLeast(1))),
	mkdef("metrics.sample.window.ms", TypeLong, "30000", chk(atLeast(1))),
	mkdef("metrics.recording.level", TypeString, "INFO"),
	mkdef("metric.reporters", TypeList, "", dyn,
		rej(rejectUnlessEmptyList("kbroker cannot load Java metric reporters"))),
	mkdef("kafka.metrics.reporters", TypeList, "",
		rej(rejectUnlessEmptyList("kbroker cannot load Java metric reporters"))),
	mkdef("kafka.metrics.polling.interval.secs", TypeInt, "10", chk(atLeast(1))),
	mkdef("auto.include.jmx.reporter", TypeBoolean, "true"),
}

func classicProtocolOnly(v any) string {
	list, _ := v.([]string)
	classic := false
	for _, p := range list {
		switch strings.ToLower(p) {
		case "classic":
			classic = true
		default:
			return "only the 'classic' rebalance protocol is supported in ZooKeeper mode"
		}
	}
	if !classic {
		return "disabling the 'classic' protocol is not supported"
	}
	return ""
}

func rejectUnlessEmptyList(reason string) func(any) string {
	return func(v any) string {
		if list, _ := v.([]string); len(list) == 0 {
			return ""
		}
		return reason
	}
}

// kraftSettings are KRaft-mode settings; kbroker runs in ZooKeeper mode only,
// so naming one is an error with a specific explanation.
var kraftSettings = map[string]bool{
	"process.roles": true, "node.id": true, "controller.quorum.voters": true,
	"controller.quorum.bootstrap.servers": true, "controller.listener.names": true,
	"metadata.log.dir": true, "zookeeper.metadata.migration.enable": true,
	"controller.quorum.election.timeout.ms": true, "controller.quorum.fetch.timeout.ms": true,
	"initial.broker.registration.timeout.ms": true, "broker.heartbeat.interval.ms": true,
	"broker.session.timeout.ms": true, "metadata.log.segment.bytes": true,
	"metadata.log.segment.ms": true, "metadata.max.retention.bytes": true,
	"metadata.max.retention.ms": true, "early.start.listeners": true,
}

// unknownHint explains why a name is not accepted, beyond "unknown".
func unknownHint(name string, known *registry) string {
	lower := strings.ToLower(name)
	switch {
	case kraftSettings[lower]:
		return "it is a KRaft setting; kbroker runs in ZooKeeper mode only"
	case lower != name && knownName(known, lower):
		return "setting names are case-sensitive; did you mean " + lower + "?"
	case strings.HasPrefix(lower, "ssl.") || strings.HasPrefix(lower, "sasl.") ||
		strings.HasPrefix(lower, "listener.name.") || strings.HasPrefix(lower, "zookeeper.ssl.") ||
		strings.HasPrefix(lower, "security.providers") || strings.HasPrefix(lower, "principal.builder") ||
		strings.HasPrefix(lower, "delegation.token."):
		return "TLS/SASL security settings are not supported; kbroker serves PLAINTEXT listeners only"
	}
	if s := closestName(known, name); s != "" {
		return "did you mean " + s + "?"
	}
	return ""
}

func knownName(r *registry, name string) bool {
	_, ok := r.get(name)
	return ok
}

// closestName returns a known name within edit distance 2 of name, or "".
func closestName(r *registry, name string) string {
	best, bestDist := "", 3
	for _, d := range r.defs {
		if dist := editDistance(name, d.name, bestDist); dist < bestDist {
			best, bestDist = d.name, dist
		}
	}
	return best
}

// editDistance is the Levenshtein distance, or limit when it is at least
// limit.
func editDistance(a, b string, limit int) int {
	if abs(len(a)-len(b)) >= limit {
		return limit
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= limit {
			return limit
		}
		prev, cur = cur, prev
	}
	return min(prev[len(b)], limit)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
