package config

import (
	"errors"
	"math"
	"reflect"
	"sort"
	"testing"
)

func TestValidateTopicConfig(t *testing.T) {
	valid := []map[string]string{
		nil,
		{},
		{"retention.ms": "-1", "retention.bytes": "-1"},
		{"retention.ms": "86400000", "segment.ms": "1", "segment.bytes": "14"},
		{"cleanup.policy": "compact,delete", "min.cleanable.dirty.ratio": "0.1"},
		{"cleanup.policy": ""},
		{"compression.type": "zstd", "compression.zstd.level": "-5"},
		{"compression.gzip.level": "-1", "compression.lz4.level": "17"},
		{"message.timestamp.type": "LogAppendTime", "message.timestamp.after.max.ms": "0"},
		{"leader.replication.throttled.replicas": "*", "follower.replication.throttled.replicas": "0:1,1:2"},
		{"min.compaction.lag.ms": "5", "max.compaction.lag.ms": "5"},
		{"unclean.leader.election.enable": "TRUE", "preallocate": " false "},
		{"message.format.version": "2.8", "message.downconversion.enable": "false"},
		{"local.retention.ms": "-2", "local.retention.bytes": "-1", "remote.storage.enable": "false"},
	}
	for _, m := range valid {
		if err := ValidateTopicConfig(m); err != nil {
			t.Errorf("ValidateTopicConfig(%v) = %v", m, err)
		}
	}

	invalid := []struct {
		overrides map[string]string
		msg       string
	}{
		{map[string]string{"foo": "1"}, "Unknown topic config name: foo"},
		{map[string]string{"retention.hours": "1"}, "Unknown topic config name: retention.hours"},
		{map[string]string{"log.retention.ms": "1"}, "Unknown topic config name: log.retention.ms"},
		// Unknown names are reported before bad values.
		{map[string]string{"zzz": "1", "retention.ms": "x"}, "Unknown topic config name: zzz"},
		{map[string]string{"retention.ms": "-2"}, "Invalid value -2 for configuration retention.ms: Value must be at least -1"},
		{map[string]string{"retention.ms": "1d"}, "Invalid value 1d for configuration retention.ms: Not a number of type LONG"},
		{map[string]string{"segment.ms": "0"}, "Invalid value 0 for configuration segment.ms: Value must be at least 1"},
		{map[string]string{"segment.bytes": "13"}, "Invalid value 13 for configuration segment.bytes: Value must be at least 14"},
		{map[string]string{"segment.bytes": "4294967296"}, "Invalid value 4294967296 for configuration segment.bytes: Not a number of type INT"},
		{map[string]string{"max.message.bytes": "-1"}, "Invalid value -1 for configuration max.message.bytes: Value must be at least 0"},
		{map[string]string{"cleanup.policy": "compact,bogus"}, "Invalid value compact,bogus for configuration cleanup.policy: String must be one of: compact, delete"},
		{map[string]string{"compression.type": "ZSTD"}, "Invalid value ZSTD for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"},
		{map[string]string{"message.timestamp.type": "AppendTime"}, "Invalid value AppendTime for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime"},
		{map[string]string{"min.cleanable.dirty.ratio": "2"}, "Invalid value 2 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"},
		{map[string]string{"min.insync.replicas": "0"}, "Invalid value 0 for configuration min.insync.replicas: Value must be at least 1"},
		{map[string]string{"unclean.leader.election.enable": "yes"}, "Invalid value yes for configuration unclean.leader.election.enable: Expected value to be either true or false"},
		{map[string]string{"follower.replication.throttled.replicas": "0-1"}, "Invalid value 0-1 for configuration follower.replication.throttled.replicas: must be the literal '*' or a list of replicas in the following format: [partitionId]:[brokerId],[partitionId]:[brokerId],..."},
		{map[string]string{"compression.lz4.level": "18"}, "Invalid value 18 for configuration compression.lz4.level: Value must be no more than 17"},
		{map[string]string{"local.retention.ms": "-3"}, "Invalid value -3 for configuration local.retention.ms: Value must be at least -2"},
		{map[string]string{"remote.storage.enable": "true"}, "Invalid value true for configuration remote.storage.enable: Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage."},
		{map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"}, "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"},
	}
	for _, c := range invalid {
		err := ValidateTopicConfig(c.overrides)
		if err == nil || err.Error() != c.msg {
			t.Errorf("ValidateTopicConfig(%v) = %v, want %q", c.overrides, err, c.msg)
			continue
		}
		var te *TopicConfigError
		if !errors.As(err, &te) {
			t.Errorf("%v is not a *TopicConfigError", err)
		}
	}

	// With the broker's settings as defaults.
	b := mustLoad(t, minimal("log.cleaner.max.compaction.lag.ms", "100"))
	if err := ValidateTopicConfig(map[string]string{"min.compaction.lag.ms": "200"}); err != nil {
		t.Errorf("package check: %v", err)
	}
	if err := b.ValidateTopicConfig(map[string]string{"min.compaction.lag.ms": "200"}); err == nil ||
		err.Error() != "conflict topic config setting min.compaction.lag.ms (200) > max.compaction.lag.ms (100)" {
		t.Errorf("broker check: %v", err)
	}
}

func TestEffectiveTopicConfigDefaults(t *testing.T) {
	// A zero Broker stands for Kafka's defaults; so does a broker without
	// log settings.
	for _, b := range []Broker{{}, mustLoad(t, minimal())} {
		got := EffectiveTopicConfig(b, nil)
		want := TopicConfig{
			CleanupPolicy:                        []string{"delete"},
			CompressionType:                      "producer",
			CompressionGzipLevel:                 -1,
			CompressionLz4Level:                  9,
			CompressionZstdLevel:                 3,
			DeleteRetentionMs:                    86400000,
			FileDeleteDelayMs:                    60000,
			FlushMessages:                        math.MaxInt64,
			FlushMs:                              math.MaxInt64,
			FollowerReplicationThrottledReplicas: nil,
			IndexIntervalBytes:                   4096,
			LeaderReplicationThrottledReplicas:   nil,
			LocalRetentionBytes:                  -2,
			LocalRetentionMs:                     -2,
			MaxCompactionLagMs:                   math.MaxInt64,
			MaxMessageBytes:                      1048588,
			MessageDownconversionEnable:          true,
			MessageFormatVersion:                 "3.0-IV1",
			MessageTimestampAfterMaxMs:           math.MaxInt64,
			MessageTimestampBeforeMaxMs:          math.MaxInt64,
			MessageTimestampDifferenceMaxMs:      math.MaxInt64,
			MessageTimestampType:                 "CreateTime",
			MinCleanableDirtyRatio:               0.5,
			MinCompactionLagMs:                   0,
			MinInsyncReplicas:                    1,
			RetentionBytes:                       -1,
			RetentionMs:                          604800000,
			SegmentBytes:                         1073741824,
			SegmentIndexBytes:                    10485760,
			SegmentJitterMs:                      0,
			SegmentMs:                            604800000,
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
		}
		if !got.Delete() || got.Compact() || got.LogAppendTime() {
			t.Errorf("helpers wrong")
		}
	}
}

func TestEffectiveTopicConfigPrecedence(t *testing.T) {
	b := mustLoad(t, minimal(
		"log.retention.hours", "24",
		"log.segment.bytes", "536870912",
		"log.roll.ms", "3600000",
		"log.cleanup.policy", "compact",
		"compression.type", "gzip",
		"message.max.bytes", "2000",
		"min.insync.replicas", "2",
		"unclean.leader.election.enable", "true",
		"log.message.timestamp.type", "LogAppendTime",
		"log.cleaner.delete.retention.ms", "1000",
		"log.cleaner.min.cleanable.ratio", "0.75",
		"log.preallocate", "true",
		"log.index.interval.bytes", "1024",
		"log.index.size.max.bytes", "4096",
		"log.segment.delete.delay.ms", "5",
		"log.flush.interval.messages", "10",
		"log.flush.interval.ms", "20",
		"log.retention.bytes", "1000000",
	))
	got := EffectiveTopicConfig(b, map[string]string{
		"retention.ms":        "1000",         // topic override wins
		"cleanup.policy":      "delete",       // topic override wins
		"max.message.bytes":   " 3000 ",       // trimmed like Kafka
		"segment.bytes":       "abc",          // invalid: ignored
		"no.such.config":      "1",            // unknown: ignored
		"min.insync.replicas": "1",            // below broker value: fine
		"compression.type":    "uncompressed", // topic override wins
	})
	checks := []struct {
		name      string
		got, want any
	}{
		{"RetentionMs", got.RetentionMs, int64(1000)},
		{"CleanupPolicy", got.CleanupPolicy, []string{"delete"}},
		{"MaxMessageBytes", got.MaxMessageBytes, int32(3000)},
		{"SegmentBytes (broker)", got.SegmentBytes, int32(536870912)},
		{"SegmentMs (broker log.roll.ms)", got.SegmentMs, int64(3600000)},
		{"MinInsyncReplicas", got.MinInsyncReplicas, int32(1)},
		{"CompressionType", got.CompressionType, "uncompressed"},
		{"UncleanLeaderElectionEnable (broker)", got.UncleanLeaderElectionEnable, true},
		{"MessageTimestampType (broker)", got.MessageTimestampType, "LogAppendTime"},
		{"DeleteRetentionMs (broker)", got.DeleteRetentionMs, int64(1000)},
		{"MinCleanableDirtyRatio (broker)", got.MinCleanableDirtyRatio, 0.75},
		{"Preallocate (broker)", got.Preallocate, true},
		{"IndexIntervalBytes (broker)", got.IndexIntervalBytes, int32(1024)},
		{"SegmentIndexBytes (broker)", got.SegmentIndexBytes, int32(4096)},
		{"FileDeleteDelayMs (broker)", got.FileDeleteDelayMs, int64(5)},
		{"FlushMessages (broker)", got.FlushMessages, int64(10)},
		{"FlushMs (broker)", got.FlushMs, int64(20)},
		{"RetentionBytes (broker)", got.RetentionBytes, int64(1000000)},
		{"SegmentJitterMs (default)", got.SegmentJitterMs, int64(0)},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if !got.LogAppendTime() {
		t.Error("LogAppendTime false")
	}
	// Without overrides the broker's values apply.
	td := b.TopicDefaults()
	if td.RetentionMs != 86400000 || !td.Compact() || td.Delete() || td.MaxMessageBytes != 2000 || td.CompressionType != "gzip" {
		t.Errorf("TopicDefaults = %+v", td)
	}
}

func TestTopicTimestampBoundsFallBackToDifference(t *testing.T) {
	got := EffectiveTopicConfig(Broker{}, map[string]string{"message.timestamp.difference.max.ms": "5000"})
	if got.MessageTimestampBeforeMaxMs != 5000 || got.MessageTimestampAfterMaxMs != 5000 {
		t.Errorf("before/after = %d/%d", got.MessageTimestampBeforeMaxMs, got.MessageTimestampAfterMaxMs)
	}
	got = EffectiveTopicConfig(Broker{}, map[string]string{
		"message.timestamp.difference.max.ms": "5000", "message.timestamp.before.max.ms": "10"})
	if got.MessageTimestampBeforeMaxMs != 10 || got.MessageTimestampAfterMaxMs != 5000 {
		t.Errorf("before/after = %d/%d", got.MessageTimestampBeforeMaxMs, got.MessageTimestampAfterMaxMs)
	}
	// The broker's difference applies to topics too.
	b := mustLoad(t, minimal("log.message.timestamp.difference.max.ms", "7000"))
	if td := b.TopicDefaults(); td.MessageTimestampBeforeMaxMs != 7000 || td.MessageTimestampAfterMaxMs != 7000 {
		t.Errorf("broker difference: %+v", td)
	}
}

func TestTopicConfigMap(t *testing.T) {
	m := EffectiveTopicConfig(Broker{}, map[string]string{"cleanup.policy": "compact, delete"}).Map()
	want := map[string]string{
		"cleanup.policy":            "compact,delete",
		"retention.ms":              "604800000",
		"flush.ms":                  "9223372036854775807",
		"min.cleanable.dirty.ratio": "0.5",
		"follower.replication.throttled.replicas": "",
		"preallocate":            "false",
		"message.timestamp.type": "CreateTime",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("Map()[%s] = %q, want %q", k, m[k], v)
		}
	}
	if len(m) != len(TopicConfigNames()) {
		t.Errorf("Map has %d entries, want %d", len(m), len(TopicConfigNames()))
	}
}

func TestTopicConfigCatalogue(t *testing.T) {
	names := TopicConfigNames()
	if !sort.StringsAreSorted(names) {
		t.Error("TopicConfigNames not sorted")
	}
	// Kafka 3.9's topic configs.
	want := []string{
		"cleanup.policy", "compression.gzip.level", "compression.lz4.level", "compression.type",
		"compression.zstd.level", "delete.retention.ms", "file.delete.delay.ms", "flush.messages", "flush.ms",
		"follower.replication.throttled.replicas", "index.interval.bytes", "leader.replication.throttled.replicas",
		"local.retention.bytes", "local.retention.ms", "max.compaction.lag.ms", "max.message.bytes",
		"message.downconversion.enable", "message.format.version", "message.timestamp.after.max.ms",
		"message.timestamp.before.max.ms", "message.timestamp.difference.max.ms", "message.timestamp.type",
		"min.cleanable.dirty.ratio", "min.compaction.lag.ms", "min.insync.replicas", "preallocate",
		"remote.log.copy.disable", "remote.log.delete.on.disable", "remote.storage.enable", "retention.bytes",
		"retention.ms", "segment.bytes", "segment.index.bytes", "segment.jitter.ms", "segment.ms",
		"unclean.leader.election.enable",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("TopicConfigNames = %q", names)
	}
	synonyms := map[string][]string{
		"retention.ms":              {"log.retention.ms", "log.retention.minutes", "log.retention.hours"},
		"segment.ms":                {"log.roll.ms", "log.roll.hours"},
		"segment.jitter.ms":         {"log.roll.jitter.ms", "log.roll.jitter.hours"},
		"flush.ms":                  {"log.flush.interval.ms", "log.flush.scheduler.interval.ms"},
		"max.message.bytes":         {"message.max.bytes"},
		"segment.index.bytes":       {"log.index.size.max.bytes"},
		"file.delete.delay.ms":      {"log.segment.delete.delay.ms"},
		"min.cleanable.dirty.ratio": {"log.cleaner.min.cleanable.ratio"},
		"delete.retention.ms":       {"log.cleaner.delete.retention.ms"},
		"preallocate":               {"log.preallocate"},
		"min.insync.replicas":       {"min.insync.replicas"},
		"remote.storage.enable":     nil,
		"nope":                      nil,
	}
	for name, want := range synonyms {
		if got := TopicConfigSynonyms(name); !reflect.DeepEqual(got, want) {
			t.Errorf("TopicConfigSynonyms(%s) = %q, want %q", name, got, want)
		}
	}
	if TopicConfigType("retention.ms") != TypeLong || TopicConfigType("cleanup.policy") != TypeList ||
		TopicConfigType("min.cleanable.dirty.ratio") != TypeDouble || TopicConfigType("nope") != TypeUnknown {
		t.Error("TopicConfigType wrong")
	}
}
