package config

import (
	"reflect"
	"sort"
	"time"

	"github.com/kbroker/kbroker/model"
)

// Broker is the typed, validated broker configuration. Build it with Load.
// Field comments name the Kafka setting; fields without a `kafka` tag are
// computed from several settings as Kafka computes them. A Broker is
// read-only after Load and safe to share between goroutines; copies share
// their internal maps.
type Broker struct {
	// General.
	BrokerID                 int32   `kafka:"broker.id"` // -1 = not configured
	BrokerIDGenerationEnable bool    `kafka:"broker.id.generation.enable"`
	ReservedBrokerMaxID      int32   `kafka:"reserved.broker.max.id"`
	BrokerRack               *string `kafka:"broker.rack"` // nil = no rack

	// Listeners holds the endpoints to bind, in configuration order. An empty
	// Host means all interfaces; Port 0 means an ephemeral port.
	Listeners []model.Endpoint
	// AdvertisedListeners holds the endpoints to register in ZooKeeper, in
	// configuration order: advertised.listeners, or listeners when unset. An
	// empty host is replaced by the machine's canonical host name, as Kafka
	// does. Port 0 (inherited from listeners) must be replaced by the bound
	// port: see AdvertisedEndpoints.
	AdvertisedListeners []model.Endpoint
	// ListenerSecurityProtocolMap maps upper-cased listener names to security
	// protocol names (listener.security.protocol.map).
	ListenerSecurityProtocolMap map[string]string
	// InterBrokerListenerName is inter.broker.listener.name, or the listener
	// named after security.inter.broker.protocol (default "PLAINTEXT").
	InterBrokerListenerName     string
	InterBrokerSecurityProtocol string

	// ZooKeeper.
	ZooKeeperConnect          string `kafka:"zookeeper.connect"` // "h1:2181,h2:2181/chroot"
	ZooKeeperSessionTimeoutMs int32  `kafka:"zookeeper.session.timeout.ms"`
	// ZooKeeperConnectionTimeoutMs is zookeeper.connection.timeout.ms, or
	// the session timeout when unset.
	ZooKeeperConnectionTimeoutMs int32
	ZooKeeperMaxInFlightRequests int32 `kafka:"zookeeper.max.in.flight.requests"`

	// Topic creation and defaults.
	NumPartitions               int32  `kafka:"num.partitions"`
	DefaultReplicationFactor    int32  `kafka:"default.replication.factor"`
	AutoCreateTopicsEnable      bool   `kafka:"auto.create.topics.enable"`
	DeleteTopicEnable           bool   `kafka:"delete.topic.enable"`
	MessageMaxBytes             int32  `kafka:"message.max.bytes"`
	CompressionType             string `kafka:"compression.type"`
	MinInsyncReplicas           int32  `kafka:"min.insync.replicas"`
	UncleanLeaderElectionEnable bool   `kafka:"unclean.leader.election.enable"`

	// Network.
	SocketRequestMaxBytes    int32 `kafka:"socket.request.max.bytes"`
	SocketSendBufferBytes    int32 `kafka:"socket.send.buffer.bytes"`    // -1 = OS default
	SocketReceiveBufferBytes int32 `kafka:"socket.receive.buffer.bytes"` // -1 = OS default
	SocketListenBacklogSize  int32 `kafka:"socket.listen.backlog.size"`
	ConnectionsMaxIdleMs     int64 `kafka:"connections.max.idle.ms"` // < 0 = never
	MaxConnections           int32 `kafka:"max.connections"`
	MaxConnectionsPerIP      int32 `kafka:"max.connections.per.ip"`
	QueuedMaxRequests        int32 `kafka:"queued.max.requests"`
	RequestTimeoutMs         int32 `kafka:"request.timeout.ms"`

	// Log storage. LogDirs is log.dirs, or log.dir when unset (comma
	// separated), cleaned, in configuration order.
	LogDirs                      []string
	NumRecoveryThreadsPerDataDir int32 `kafka:"num.recovery.threads.per.data.dir"`
	LogSegmentBytes              int32 `kafka:"log.segment.bytes"`
	// LogRollMs is log.roll.ms, else log.roll.hours in ms.
	LogRollMs int64
	// LogRollJitterMs is log.roll.jitter.ms, else log.roll.jitter.hours in ms.
	LogRollJitterMs int64
	// LogRetentionMs is log.retention.ms, else .minutes, else .hours, in ms;
	// any negative value is -1 (unlimited).
	LogRetentionMs              int64
	LogRetentionBytes           int64 `kafka:"log.retention.bytes"` // < 0 = unlimited
	LogRetentionCheckIntervalMs int64 `kafka:"log.retention.check.interval.ms"`
	LogIndexIntervalBytes       int32 `kafka:"log.index.interval.bytes"`
	LogIndexSizeMaxBytes        int32 `kafka:"log.index.size.max.bytes"`
	LogSegmentDeleteDelayMs     int64 `kafka:"log.segment.delete.delay.ms"`
	LogFlushIntervalMessages    int64 `kafka:"log.flush.interval.messages"`
	// LogFlushIntervalMs is log.flush.interval.ms, else
	// log.flush.scheduler.interval.ms.
	LogFlushIntervalMs                      int64
	LogFlushSchedulerIntervalMs             int64    `kafka:"log.flush.scheduler.interval.ms"`
	LogFlushOffsetCheckpointIntervalMs      int32    `kafka:"log.flush.offset.checkpoint.interval.ms"`
	LogFlushStartOffsetCheckpointIntervalMs int32    `kafka:"log.flush.start.offset.checkpoint.interval.ms"`
	LogCleanupPolicy                        []string `kafka:"log.cleanup.policy"`
	LogPreallocate                          bool     `kafka:"log.preallocate"`
	LogMessageTimestampType                 string   `kafka:"log.message.timestamp.type"`
	// LogMessageTimestampBeforeMaxMs and LogMessageTimestampAfterMaxMs are
	// the effective bounds: at their Long.MAX default they take
	// log.message.timestamp.difference.max.ms, as in Kafka 3.9.
	LogMessageTimestampBeforeMaxMs int64
	LogMessageTimestampAfterMaxMs  int64
	LogCleanerEnable               bool    `kafka:"log.cleaner.enable"`
	LogCleanerThreads              int32   `kafka:"log.cleaner.threads"`
	LogCleanerDedupeBufferSize     int64   `kafka:"log.cleaner.dedupe.buffer.size"`
	LogCleanerIOBufferSize         int32   `kafka:"log.cleaner.io.buffer.size"`
	LogCleanerIOBufferLoadFactor   float64 `kafka:"log.cleaner.io.buffer.load.factor"`
	LogCleanerIOMaxBytesPerSecond  float64 `kafka:"log.cleaner.io.max.bytes.per.second"`
	LogCleanerBackoffMs            int64   `kafka:"log.cleaner.backoff.ms"`
	LogCleanerMinCleanableRatio    float64 `kafka:"log.cleaner.min.cleanable.ratio"`
	LogCleanerDeleteRetentionMs    int64   `kafka:"log.cleaner.delete.retention.ms"`
	LogCleanerMinCompactionLagMs   int64   `kafka:"log.cleaner.min.compaction.lag.ms"`
	LogCleanerMaxCompactionLagMs   int64   `kafka:"log.cleaner.max.compaction.lag.ms"`

	// Replication and the controller.
	ControllerSocketTimeoutMs                   int32 `kafka:"controller.socket.timeout.ms"`
	ReplicaLagTimeMaxMs                         int64 `kafka:"replica.lag.time.max.ms"`
	ReplicaSocketTimeoutMs                      int32 `kafka:"replica.socket.timeout.ms"`
	ReplicaSocketReceiveBufferBytes             int32 `kafka:"replica.socket.receive.buffer.bytes"`
	ReplicaFetchMaxBytes                        int32 `kafka:"replica.fetch.max.bytes"`
	ReplicaFetchWaitMaxMs                       int32 `kafka:"replica.fetch.wait.max.ms"`
	ReplicaFetchBackoffMs                       int32 `kafka:"replica.fetch.backoff.ms"`
	ReplicaFetchMinBytes                        int32 `kafka:"replica.fetch.min.bytes"`
	ReplicaFetchResponseMaxBytes                int32 `kafka:"replica.fetch.response.max.bytes"`
	NumReplicaFetchers                          int32 `kafka:"num.replica.fetchers"`
	ReplicaHighWatermarkCheckpointIntervalMs    int64 `kafka:"replica.high.watermark.checkpoint.interval.ms"`
	FetchPurgatoryPurgeIntervalRequests         int32 `kafka:"fetch.purgatory.purge.interval.requests"`
	ProducerPurgatoryPurgeIntervalRequests      int32 `kafka:"producer.purgatory.purge.interval.requests"`
	DeleteRecordsPurgatoryPurgeIntervalRequests int32 `kafka:"delete.records.purgatory.purge.interval.requests"`
	AutoLeaderRebalanceEnable                   bool  `kafka:"auto.leader.rebalance.enable"`
	LeaderImbalancePerBrokerPercentage          int32 `kafka:"leader.imbalance.per.broker.percentage"`
	LeaderImbalanceCheckIntervalSeconds         int64 `kafka:"leader.imbalance.check.interval.seconds"`
	ControlledShutdownEnable                    bool  `kafka:"controlled.shutdown.enable"`
	ControlledShutdownMaxRetries                int32 `kafka:"controlled.shutdown.max.retries"`
	ControlledShutdownRetryBackoffMs            int64 `kafka:"controlled.shutdown.retry.backoff.ms"`
	FetchMaxBytes                               int32 `kafka:"fetch.max.bytes"`
	MaxIncrementalFetchSessionCacheSlots        int32 `kafka:"max.incremental.fetch.session.cache.slots"`

	// Group coordinator and committed offsets.
	GroupMinSessionTimeoutMs        int32 `kafka:"group.min.session.timeout.ms"`
	GroupMaxSessionTimeoutMs        int32 `kafka:"group.max.session.timeout.ms"`
	GroupInitialRebalanceDelayMs    int32 `kafka:"group.initial.rebalance.delay.ms"`
	GroupMaxSize                    int32 `kafka:"group.max.size"`
	OffsetMetadataMaxBytes          int32 `kafka:"offset.metadata.max.bytes"`
	OffsetsLoadBufferSize           int32 `kafka:"offsets.load.buffer.size"`
	OffsetsTopicReplicationFactor   int16 `kafka:"offsets.topic.replication.factor"`
	OffsetsTopicNumPartitions       int32 `kafka:"offsets.topic.num.partitions"`
	OffsetsTopicSegmentBytes        int32 `kafka:"offsets.topic.segment.bytes"`
	OffsetsTopicCompressionCodec    int32 `kafka:"offsets.topic.compression.codec"` // 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd
	OffsetsRetentionMinutes         int32 `kafka:"offsets.retention.minutes"`
	OffsetsRetentionCheckIntervalMs int64 `kafka:"offsets.retention.check.interval.ms"`
	OffsetsCommitTimeoutMs          int32 `kafka:"offsets.commit.timeout.ms"`
	OffsetsCommitRequiredAcks       int16 `kafka:"offsets.commit.required.acks"`

	// Transactions and producer ids.
	TransactionalIDExpirationMs                          int32 `kafka:"transactional.id.expiration.ms"`
	TransactionMaxTimeoutMs                              int32 `kafka:"transaction.max.timeout.ms"`
	TransactionStateLogMinISR                            int32 `kafka:"transaction.state.log.min.isr"`
	TransactionStateLogLoadBufferSize                    int32 `kafka:"transaction.state.log.load.buffer.size"`
	TransactionStateLogReplicationFactor                 int16 `kafka:"transaction.state.log.replication.factor"`
	TransactionStateLogNumPartitions                     int32 `kafka:"transaction.state.log.num.partitions"`
	TransactionStateLogSegmentBytes                      int32 `kafka:"transaction.state.log.segment.bytes"`
	TransactionAbortTimedOutTransactionCleanupIntervalMs int32 `kafka:"transaction.abort.timed.out.transaction.cleanup.interval.ms"`
	TransactionRemoveExpiredTransactionCleanupIntervalMs int32 `kafka:"transaction.remove.expired.transaction.cleanup.interval.ms"`
	TransactionPartitionVerificationEnable               bool  `kafka:"transaction.partition.verification.enable"`
	ProducerIDExpirationMs                               int32 `kafka:"producer.id.expiration.ms"`

	// values holds the parsed value of every broker setting (explicit or
	// default; nil for an unset setting without default).
	values map[string]any
	// explicit holds the settings given in the file, the environment or an
	// override, as written (Kafka's "originals"; STATIC_BROKER_CONFIG).
	explicit map[string]string
	// origins says where each explicit setting came from.
	origins map[string]string
	// topicDefaults holds the value of each topic setting a topic without
	// overrides gets on this broker.
	topicDefaults map[string]any
}

// computedSettings are used through computed fields rather than tags.
var computedSettings = []string{
	"listeners", "advertised.listeners", "listener.security.protocol.map",
	"inter.broker.listener.name", "security.inter.broker.protocol",
	"log.dirs", "log.dir", "zookeeper.connection.timeout.ms",
	"log.roll.ms", "log.roll.hours", "log.roll.jitter.ms", "log.roll.jitter.hours",
	"log.retention.ms", "log.retention.minutes", "log.retention.hours", "log.flush.interval.ms",
	"log.message.timestamp.difference.max.ms", "log.message.timestamp.before.max.ms",
	"log.message.timestamp.after.max.ms",
}

// markUsed flags the broker settings kbroker acts on: the tagged fields of
// Broker, the computed ones, and every broker synonym of a topic setting.
func markUsed() {
	var names []string
	names = append(names, taggedNames(reflect.TypeOf(Broker{}))...)
	names = append(names, computedSettings...)
	for _, s := range topicSettings {
		names = append(names, s.synonyms...)
	}
	for _, n := range names {
		if d, ok := brokerRegistry.get(n); ok {
			d.used = true
		}
	}
}

// BrokerConfigNames returns every broker setting name kbroker knows, sorted.
func BrokerConfigNames() []string {
	names := make([]string, len(brokerRegistry.defs))
	for i, d := range brokerRegistry.defs {
		names[i] = d.name
	}
	sort.Strings(names)
	return names
}

// IsSet reports whether a setting was given explicitly (file, environment or
// override).
func (b Broker) IsSet(name string) bool {
	_, ok := b.explicit[name]
	return ok
}

// Explicit returns the explicitly given settings as written, by name.
func (b Broker) Explicit() map[string]string {
	out := make(map[string]string, len(b.explicit))
	for k, v := range b.explicit {
		out[k] = v
	}
	return out
}

// Origin says where an explicit setting came from: "<file>:<line>",
// "environment variable KBROKER_…", "--override" or "properties"; "" when the
// setting was not given.
func (b Broker) Origin(name string) string { return b.origins[name] }

// Value returns the parsed value of a broker setting (explicit or default)
// and whether the name is a known setting. Types: bool, string, int16, int32,
// int64, float64, []string, or nil for an unset setting without default.
func (b Broker) Value(name string) (any, bool) {
	if _, ok := brokerRegistry.get(name); !ok {
		return nil, false
	}
	return b.values[name], true
}

// Ignored returns, sorted, the explicitly given settings that kbroker accepts
// for compatibility with Kafka's server.properties but does not act on (for
// example num.network.threads). The broker should log them once at startup.
func (b Broker) Ignored() []string {
	var out []string
	for name := range b.explicit {
		if d, ok := brokerRegistry.get(name); ok && !d.used {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// TopicDefaults is the configuration of a topic without overrides on this
// broker: EffectiveTopicConfig(b, nil).
func (b Broker) TopicDefaults() TopicConfig { return EffectiveTopicConfig(b, nil) }

// SetBrokerID records the broker id the broker ended up with (from
// meta.properties or /brokers/seqid) so that BrokerID and DescribeConfigs
// report it. It copies the internal maps; other copies are unaffected.
func (b *Broker) SetBrokerID(id int32) {
	b.BrokerID = id
	values := make(map[string]any, len(b.values))
	for k, v := range b.values {
		values[k] = v
	}
	values["broker.id"] = id
	b.values = values
}

// ZooKeeperSessionTimeout is zookeeper.session.timeout.ms as a Duration.
func (b Broker) ZooKeeperSessionTimeout() time.Duration {
	return time.Duration(b.ZooKeeperSessionTimeoutMs) * time.Millisecond
}

// ZooKeeperConnectionTimeout is the effective zookeeper.connection.timeout.ms
// as a Duration.
func (b Broker) ZooKeeperConnectionTimeout() time.Duration {
	return time.Duration(b.ZooKeeperConnectionTimeoutMs) * time.Millisecond
}

// Millis converts a millisecond setting to a Duration, saturating at the
// largest Duration (Kafka uses Long.MAX as "never").
func Millis(ms int64) time.Duration {
	const maxMs = int64(1<<63-1) / int64(time.Millisecond)
	switch {
	case ms > maxMs:
		return time.Duration(1<<63 - 1)
	case ms < -maxMs:
		return -time.Duration(1<<63 - 1)
	}
	return time.Duration(ms) * time.Millisecond
}

// AdvertisedEndpoints returns the endpoints to register: AdvertisedListeners
// with port 0 replaced by the port the broker actually bound for the
// listener of the same name (bound maps listener name to port), as Kafka
// does for ephemeral ports.
func (b Broker) AdvertisedEndpoints(bound map[string]int32) []model.Endpoint {
	out := make([]model.Endpoint, len(b.AdvertisedListeners))
	for i, e := range b.AdvertisedListeners {
		if e.Port == 0 {
			if p, ok := bound[e.Listener]; ok {
				e.Port = p
			}
		}
		out[i] = e
	}
	return out
}

// InterBrokerEndpoint returns this broker's advertised endpoint on the
// inter-broker listener.
func (b Broker) InterBrokerEndpoint() (model.Endpoint, bool) {
	for _, e := range b.AdvertisedListeners {
		if e.Listener == b.InterBrokerListenerName {
			return e, true
		}
	}
	return model.Endpoint{}, false
}
