package commitlog

import (
	"math"

	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// Config is the topic-level log configuration (Kafka's LogConfig). Zero
// values are not defaults: start from DefaultConfig.
type Config struct {
	SegmentBytes         int64 // segment.bytes
	SegmentMs            int64 // segment.ms
	SegmentJitterMs      int64 // segment.jitter.ms
	SegmentIndexBytes    int   // segment.index.bytes
	IndexIntervalBytes   int   // index.interval.bytes
	RetentionMs          int64 // retention.ms; < 0 = unlimited
	RetentionBytes       int64 // retention.bytes; < 0 = unlimited
	FileDeleteDelayMs    int64 // file.delete.delay.ms
	FlushMessages        int64 // flush.messages
	FlushMs              int64 // flush.ms
	MaxMessageBytes      int   // max.message.bytes
	CleanupDelete        bool  // cleanup.policy contains delete
	CleanupCompact       bool  // cleanup.policy contains compact
	MaxCompactionLagMs   int64 // max.compaction.lag.ms
	TimestampType        record.TimestampType
	TimestampBeforeMaxMs int64 // message.timestamp.before.max.ms
	TimestampAfterMaxMs  int64 // message.timestamp.after.max.ms
}

// DefaultConfig returns Kafka 3.9's topic defaults.
func DefaultConfig() Config {
	return Config{
		SegmentBytes:         1 << 30,
		SegmentMs:            7 * 24 * 3600 * 1000,
		SegmentIndexBytes:    10 << 20,
		IndexIntervalBytes:   4096,
		RetentionMs:          7 * 24 * 3600 * 1000,
		RetentionBytes:       -1,
		FileDeleteDelayMs:    60000,
		FlushMessages:        math.MaxInt64,
		FlushMs:              math.MaxInt64,
		MaxMessageBytes:      1048588,
		CleanupDelete:        true,
		MaxCompactionLagMs:   math.MaxInt64,
		TimestampType:        record.CreateTime,
		TimestampBeforeMaxMs: math.MaxInt64,
		TimestampAfterMaxMs:  math.MaxInt64,
	}
}

// maxSegmentMs is segment.ms, capped by max.compaction.lag.ms for compacted
// topics (Kafka's LogConfig.maxSegmentMs).
func (c Config) maxSegmentMs() int64 {
	if c.CleanupCompact && c.MaxCompactionLagMs > 0 {
		return min(c.MaxCompactionLagMs, c.SegmentMs)
	}
	return c.SegmentMs
}

func (c Config) segmentConfig() segment.Config {
	return segment.Config{IndexIntervalBytes: c.IndexIntervalBytes, MaxIndexSize: c.SegmentIndexBytes}
}
