package config

import (
	"fmt"
	"sort"
	"strconv"
)

// topicSetting is a topic-level setting: its definition and the broker
// settings that supply its value when a topic does not override it, in
// Kafka's priority order (ServerTopicConfigSynonyms).
type topicSetting struct {
	*def
	synonyms []string
}

func tdef(name string, t Type, dflt string, synonyms []string, opts ...defOpt) topicSetting {
	return topicSetting{def: mkdef(name, t, dflt, opts...), synonyms: synonyms}
}

func syn(names ...string) []string { return names }

// topicSettings are Kafka 3.9's topic configs (LogConfig), sorted by name.
var topicSettings = []topicSetting{
	tdef("cleanup.policy", TypeList, "delete", syn("log.cleanup.policy"), chk(listOf("compact", "delete"))),
	tdef("compression.gzip.level", TypeInt, "-1", syn("compression.gzip.level"), chk(gzipLevel)),
	tdef("compression.lz4.level", TypeInt, "9", syn("compression.lz4.level"), chk(lz4Level)),
	tdef("compression.type", TypeString, "producer", syn("compression.type"), chk(oneOf(compressionTypes...))),
	tdef("compression.zstd.level", TypeInt, "3", syn("compression.zstd.level"), chk(zstdLevel)),
	tdef("delete.retention.ms", TypeLong, "86400000", syn("log.cleaner.delete.retention.ms"), chk(atLeast(0))),
	tdef("file.delete.delay.ms", TypeLong, "60000", syn("log.segment.delete.delay.ms"), chk(atLeast(0))),
	tdef("flush.messages", TypeLong, longMax, syn("log.flush.interval.messages"), chk(atLeast(1))),
	tdef("flush.ms", TypeLong, longMax, syn("log.flush.interval.ms", "log.flush.scheduler.interval.ms"), chk(atLeast(0))),
	tdef("follower.replication.throttled.replicas", TypeList, "", nil, chk(throttledReplicas)),
	tdef("index.interval.bytes", TypeInt, "4096", syn("log.index.interval.bytes"), chk(atLeast(0))),
	tdef("leader.replication.throttled.replicas", TypeList, "", nil, chk(throttledReplicas)),
	tdef("local.retention.bytes", TypeLong, "-2", syn("log.local.retention.bytes"), chk(atLeast(-2))),
	tdef("local.retention.ms", TypeLong, "-2", syn("log.local.retention.ms"), chk(atLeast(-2))),
	tdef("max.compaction.lag.ms", TypeLong, longMax, syn("log.cleaner.max.compaction.lag.ms"), chk(atLeast(1))),
	tdef("max.message.bytes", TypeInt, "1048588", syn("message.max.bytes"), chk(atLeast(0))),
	tdef("message.downconversion.enable", TypeBoolean, "true", syn("log.message.downconversion.enable")),
	tdef("message.format.version", TypeString, "3.0-IV1", syn("log.message.format.version"), chk(metadataVersion)),
	tdef("message.timestamp.after.max.ms", TypeLong, longMax, syn("log.message.timestamp.after.max.ms"), chk(atLeast(0))),
	tdef("message.timestamp.before.max.ms", TypeLong, longMax, syn("log.message.timestamp.before.max.ms"), chk(atLeast(0))),
	tdef("message.timestamp.difference.max.ms", TypeLong, longMax, syn("log.message.timestamp.difference.max.ms"), chk(atLeast(0))),
	tdef("message.timestamp.type", TypeString, "CreateTime", syn("log.message.timestamp.type"), chk(oneOf("CreateTime", "LogAppendTime"))),
	tdef("min.cleanable.dirty.ratio", TypeDouble, "0.5", syn("log.cleaner.min.cleanable.ratio"), chk(between(0, 1))),
	tdef("min.compaction.lag.ms", TypeLong, "0", syn("log.cleaner.min.compaction.lag.ms"), chk(atLeast(0))),
	tdef("min.insync.replicas", TypeInt, "1", syn("min.insync.replicas"), chk(atLeast(1))),
	tdef("preallocate", TypeBoolean, "false", syn("log.preallocate")),
	tdef("remote.log.copy.disable", TypeBoolean, "false", nil),
	tdef("remote.log.delete.on.disable", TypeBoolean, "false", nil),
	tdef("remote.storage.enable", TypeBoolean, "false", nil, rej(rejectUnless(false,
		"Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."))),
	tdef("retention.bytes", TypeLong, "-1", syn("log.retention.bytes")),
	tdef("retention.ms", TypeLong, "604800000", syn("log.retention.ms", "log.retention.minutes", "log.retention.hours"), chk(atLeast(-1))),
	tdef("segment.bytes", TypeInt, "1073741824", syn("log.segment.bytes"), chk(atLeast(14))),
	tdef("segment.index.bytes", TypeInt, "10485760", syn("log.index.size.max.bytes"), chk(atLeast(4))),
	tdef("segment.jitter.ms", TypeLong, "0", syn("log.roll.jitter.ms", "log.roll.jitter.hours"), chk(atLeast(0))),
	tdef("segment.ms", TypeLong, "604800000", syn("log.roll.ms", "log.roll.hours"), chk(atLeast(1))),
	tdef("unclean.leader.election.enable", TypeBoolean, "false", syn("unclean.leader.election.enable")),
}

var (
	topicRegistry  *registry
	topicByName    map[string]topicSetting
	brokerRegistry *registry
)

func init() {
	defs := make([]*def, len(topicSettings))
	topicByName = make(map[string]topicSetting, len(topicSettings))
	for i, s := range topicSettings {
		defs[i] = s.def
		topicByName[s.name] = s
	}
	topicRegistry = newRegistry(defs)
	brokerRegistry = newRegistry(brokerDefs)
	markUsed()
}

// TopicConfigNames returns every topic-level setting name, sorted.
func TopicConfigNames() []string {
	names := make([]string, len(topicSettings))
	for i, s := range topicSettings {
		names[i] = s.name
	}
	sort.Strings(names)
	return names
}

// TopicConfigSynonyms returns the broker settings that supply a topic
// setting's value when the topic does not override it, in Kafka's priority
// order (e.g. retention.ms → log.retention.ms, log.retention.minutes,
// log.retention.hours). Nil for settings without a broker synonym or unknown
// names.
func TopicConfigSynonyms(name string) []string {
	s, ok := topicByName[name]
	if !ok || len(s.synonyms) == 0 {
		return nil
	}
	return append([]string(nil), s.synonyms...)
}

// TopicConfigType returns the type of a topic setting (TypeUnknown for
// unknown names).
func TopicConfigType(name string) Type {
	if s, ok := topicByName[name]; ok {
		return s.typ
	}
	return TypeUnknown
}

// TopicConfigError is a rejected topic-level setting. The admin layer maps
// it to INVALID_CONFIG with Error() as the message.
type TopicConfigError struct {
	Name    string
	Value   string
	Unknown bool   // the name is not a topic config
	Reason  string // Kafka's wording
}

func (e *TopicConfigError) Error() string {
	if e.Unknown {
		return "Unknown topic config name: " + e.Name
	}
	if e.Value == "" && e.Name == "" {
		return e.Reason
	}
	return fmt.Sprintf("Invalid value %s for configuration %s: %s", e.Value, e.Name, e.Reason)
}

// ValidateTopicConfig checks topic-level overrides (CreateTopics configs,
// /config/topics/<t>) against Kafka 3.9's topic configs, with Kafka's topic
// defaults for the settings not given. It returns the first problem as a
// *TopicConfigError: an unknown name first (names in sorted order), then a
// bad value, then a conflict between settings. Broker.ValidateTopicConfig
// checks the same with the broker's settings as the defaults.
func ValidateTopicConfig(overrides map[string]string) error {
	_, err := resolveTopic(nil, overrides, true)
	return err
}

// ValidateTopicConfig is the package ValidateTopicConfig with this broker's
// settings as the defaults of the settings not given (Kafka validates topic
// configs against the broker's log config).
func (b Broker) ValidateTopicConfig(overrides map[string]string) error {
	_, err := resolveTopic(&b, overrides, true)
	return err
}

// EffectiveTopicConfig resolves every topic setting: topic override, else the
// broker's synonym setting (e.g. retention.ms from log.retention.ms, .minutes
// or .hours), else Kafka's default. Overrides that are unknown or invalid are
// ignored (validate them first with ValidateTopicConfig); a zero Broker means
// Kafka's defaults.
func EffectiveTopicConfig(broker Broker, overrides map[string]string) TopicConfig {
	values, _ := resolveTopic(&broker, overrides, false)
	return topicConfigFrom(values)
}

// resolveTopic returns the parsed value of every topic setting. With strict,
// the first problem is returned; otherwise bad overrides are skipped.
func resolveTopic(b *Broker, overrides map[string]string, strict bool) (map[string]any, error) {
	values := make(map[string]any, len(topicSettings))
	var base map[string]any
	if b != nil {
		base = b.topicDefaults
	}
	for _, s := range topicSettings {
		if v, ok := base[s.name]; ok {
			values[s.name] = v
		} else {
			values[s.name] = s.defaultValue
		}
	}
	names := make([]string, 0, len(overrides))
	for n := range overrides {
		names = append(names, n)
	}
	sort.Strings(names)
	if strict {
		for _, n := range names {
			if _, ok := topicByName[n]; !ok {
				return nil, &TopicConfigError{Name: n, Value: overrides[n], Unknown: true}
			}
		}
	}
	for _, n := range names {
		s, ok := topicByName[n]
		if !ok {
			continue
		}
		v, reason := s.parse(overrides[n])
		if reason == "" && s.reject != nil {
			reason = s.reject(v)
		}
		if reason != "" {
			if strict {
				return nil, &TopicConfigError{Name: n, Value: overrides[n], Reason: reason}
			}
			continue
		}
		values[n] = v
	}
	minLag, maxLag := values["min.compaction.lag.ms"].(int64), values["max.compaction.lag.ms"].(int64)
	if strict && minLag > maxLag {
		return nil, &TopicConfigError{Reason: fmt.Sprintf(
			"conflict topic config setting min.compaction.lag.ms (%d) > max.compaction.lag.ms (%d)", minLag, maxLag)}
	}
	return values, nil
}

// TopicConfig is the typed, fully resolved configuration of one topic
// (Kafka's LogConfig). Field comments name the setting.
type TopicConfig struct {
	CleanupPolicy                        []string `kafka:"cleanup.policy"`
	CompressionType                      string   `kafka:"compression.type"` // "producer", "uncompressed", "gzip", ...
	CompressionGzipLevel                 int32    `kafka:"compression.gzip.level"`
	CompressionLz4Level                  int32    `kafka:"compression.lz4.level"`
	CompressionZstdLevel                 int32    `kafka:"compression.zstd.level"`
	DeleteRetentionMs                    int64    `kafka:"delete.retention.ms"`
	FileDeleteDelayMs                    int64    `kafka:"file.delete.delay.ms"`
	FlushMessages                        int64    `kafka:"flush.messages"`
	FlushMs                              int64    `kafka:"flush.ms"`
	FollowerReplicationThrottledReplicas []string `kafka:"follower.replication.throttled.replicas"`
	IndexIntervalBytes                   int32    `kafka:"index.interval.bytes"`
	LeaderReplicationThrottledReplicas   []string `kafka:"leader.replication.throttled.replicas"`
	// LocalRetentionBytes and LocalRetentionMs are -2 = "same as retention".
	LocalRetentionBytes         int64  `kafka:"local.retention.bytes"`
	LocalRetentionMs            int64  `kafka:"local.retention.ms"`
	MaxCompactionLagMs          int64  `kafka:"max.compaction.lag.ms"`
	MaxMessageBytes             int32  `kafka:"max.message.bytes"`
	MessageDownconversionEnable bool   `kafka:"message.downconversion.enable"`
	MessageFormatVersion        string `kafka:"message.format.version"`
	// MessageTimestampAfterMaxMs and MessageTimestampBeforeMaxMs are the
	// effective bounds: when left at Long.MAX they fall back to the deprecated
	// message.timestamp.difference.max.ms, as in Kafka 3.9.
	MessageTimestampAfterMaxMs      int64   `kafka:"message.timestamp.after.max.ms"`
	MessageTimestampBeforeMaxMs     int64   `kafka:"message.timestamp.before.max.ms"`
	MessageTimestampDifferenceMaxMs int64   `kafka:"message.timestamp.difference.max.ms"`
	MessageTimestampType            string  `kafka:"message.timestamp.type"` // "CreateTime" or "LogAppendTime"
	MinCleanableDirtyRatio          float64 `kafka:"min.cleanable.dirty.ratio"`
	MinCompactionLagMs              int64   `kafka:"min.compaction.lag.ms"`
	MinInsyncReplicas               int32   `kafka:"min.insync.replicas"`
	Preallocate                     bool    `kafka:"preallocate"`
	RemoteLogCopyDisable            bool    `kafka:"remote.log.copy.disable"`
	RemoteLogDeleteOnDisable        bool    `kafka:"remote.log.delete.on.disable"`
	RemoteStorageEnable             bool    `kafka:"remote.storage.enable"`
	RetentionBytes                  int64   `kafka:"retention.bytes"` // < 0 = unlimited
	RetentionMs                     int64   `kafka:"retention.ms"`    // -1 = unlimited
	SegmentBytes                    int32   `kafka:"segment.bytes"`
	SegmentIndexBytes               int32   `kafka:"segment.index.bytes"`
	SegmentJitterMs                 int64   `kafka:"segment.jitter.ms"`
	SegmentMs                       int64   `kafka:"segment.ms"`
	UncleanLeaderElectionEnable     bool    `kafka:"unclean.leader.election.enable"`
}

// Compact reports whether cleanup.policy contains "compact".
func (t TopicConfig) Compact() bool { return t.hasPolicy("compact") }

// Delete reports whether cleanup.policy contains "delete".
func (t TopicConfig) Delete() bool { return t.hasPolicy("delete") }

func (t TopicConfig) hasPolicy(p string) bool {
	for _, x := range t.CleanupPolicy {
		if x == p {
			return true
		}
	}
	return false
}

// LogAppendTime reports whether message.timestamp.type is LogAppendTime.
func (t TopicConfig) LogAppendTime() bool { return t.MessageTimestampType == "LogAppendTime" }

// Map renders every setting as Kafka prints it (the values DescribeConfigs
// reports), keyed by name.
func (t TopicConfig) Map() map[string]string {
	out := make(map[string]string, len(topicSettings))
	for name, v := range structValues(&t) {
		if s := formatValue(v); s != nil {
			out[name] = *s
		}
	}
	return out
}

func topicConfigFrom(values map[string]any) TopicConfig {
	var t TopicConfig
	fillStruct(&t, values)
	const longMaxValue = int64(^uint64(0) >> 1)
	if t.MessageTimestampBeforeMaxMs == longMaxValue {
		t.MessageTimestampBeforeMaxMs = t.MessageTimestampDifferenceMaxMs
	}
	if t.MessageTimestampAfterMaxMs == longMaxValue {
		t.MessageTimestampAfterMaxMs = t.MessageTimestampDifferenceMaxMs
	}
	return t
}

// brokerTopicDefaults computes, from the broker's settings, the value each
// topic setting takes when a topic does not override it (Kafka's
// KafkaConfig.extractLogConfigMap).
func brokerTopicDefaults(b *Broker) map[string]any {
	out := make(map[string]any, len(topicSettings))
	for _, s := range topicSettings {
		if len(s.synonyms) == 0 {
			continue
		}
		out[s.name] = b.values[s.synonyms[0]]
	}
	out["segment.ms"] = b.LogRollMs
	out["segment.jitter.ms"] = b.LogRollJitterMs
	out["flush.ms"] = b.LogFlushIntervalMs
	out["retention.ms"] = b.LogRetentionMs
	out["message.timestamp.before.max.ms"] = b.LogMessageTimestampBeforeMaxMs
	out["message.timestamp.after.max.ms"] = b.LogMessageTimestampAfterMaxMs
	return out
}

// quoteIfEmpty is used in messages that show raw values.
func quoteIfEmpty(s string) string {
	if s == "" {
		return strconv.Quote(s)
	}
	return s
}
