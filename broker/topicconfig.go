package broker

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/kbroker/kbroker/api"
	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/config"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/zkmeta"
)

// logConfig maps a topic's effective configuration to the storage engine's.
func logConfig(t config.TopicConfig) commitlog.Config {
	c := commitlog.DefaultConfig()
	c.SegmentBytes = int64(t.SegmentBytes)
	c.SegmentMs = t.SegmentMs
	c.SegmentJitterMs = t.SegmentJitterMs
	c.SegmentIndexBytes = int(t.SegmentIndexBytes)
	c.IndexIntervalBytes = int(t.IndexIntervalBytes)
	c.RetentionMs = t.RetentionMs
	c.RetentionBytes = t.RetentionBytes
	c.FileDeleteDelayMs = t.FileDeleteDelayMs
	c.FlushMessages = t.FlushMessages
	c.FlushMs = t.FlushMs
	c.MaxMessageBytes = int(t.MaxMessageBytes)
	c.CleanupDelete, c.CleanupCompact = false, false
	for _, p := range t.CleanupPolicy {
		switch p {
		case "delete":
			c.CleanupDelete = true
		case "compact":
			c.CleanupCompact = true
		}
	}
	c.MaxCompactionLagMs = t.MaxCompactionLagMs
	c.TimestampType = record.CreateTime
	if t.MessageTimestampType == "LogAppendTime" {
		c.TimestampType = record.LogAppendTime
	}
	c.TimestampBeforeMaxMs = t.MessageTimestampBeforeMaxMs
	c.TimestampAfterMaxMs = t.MessageTimestampAfterMaxMs
	if c.TimestampBeforeMaxMs < 0 {
		c.TimestampBeforeMaxMs = math.MaxInt64
	}
	if c.TimestampAfterMaxMs < 0 {
		c.TimestampAfterMaxMs = math.MaxInt64
	}
	return c
}

// topicConfigs reads topic overrides (/config/topics/<t>) from ZooKeeper
// and resolves them against the broker's settings. Overrides are read when
// a log is opened and cached for min.insync.replicas lookups on the produce
// path (topic configs change only at creation until AlterConfigs exists).
type topicConfigs struct {
	cfg config.Broker
	zk  *zkmeta.Client

	mu       sync.Mutex
	cache    map[string]map[string]string  // guarded by mu; overrides by topic
	effCache map[string]config.TopicConfig // guarded by mu; resolved configs by topic
}

func newTopicConfigs(cfg config.Broker, zk *zkmeta.Client) *topicConfigs {
	return &topicConfigs{cfg: cfg, zk: zk, cache: map[string]map[string]string{}, effCache: map[string]config.TopicConfig{}}
}

func (t *topicConfigs) overrides(ctx context.Context, topic string) (map[string]string, error) {
	t.mu.Lock()
	o, ok := t.cache[topic]
	t.mu.Unlock()
	if ok {
		return o, nil
	}
	o, err := t.zk.GetTopicConfig(ctx, topic)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.cache[topic] = o
	t.mu.Unlock()
	return o, nil
}

// effective is the topic's resolved configuration (broker defaults when the
// overrides cannot be read).
func (t *topicConfigs) effective(topic string) config.TopicConfig {
	t.mu.Lock()
	e, ok := t.effCache[topic]
	t.mu.Unlock()
	if ok {
		return e
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	o, err := t.overrides(ctx, topic)
	if err != nil {
		// Not cached: the next use tries ZooKeeper again.
		return config.EffectiveTopicConfig(t.cfg, nil)
	}
	e = config.EffectiveTopicConfig(t.cfg, o)
	t.mu.Lock()
	t.effCache[topic] = e
	t.mu.Unlock()
	return e
}

// logConfig is the storage configuration of a topic's logs. Opening a log
// re-reads the overrides, so a topic re-created under the same name does
// not keep its predecessor's settings.
func (t *topicConfigs) logConfig(topic string) commitlog.Config {
	t.mu.Lock()
	delete(t.cache, topic)
	delete(t.effCache, topic)
	t.mu.Unlock()
	return logConfig(t.effective(topic))
}

// minISR is the topic's min.insync.replicas.
func (t *topicConfigs) minISR(topic string) int {
	return int(t.effective(topic).MinInsyncReplicas)
}

// describe answers DescribeConfigs for a topic (overrides read afresh).
func (t *topicConfigs) describe(ctx context.Context, topic string) ([]api.ConfigEntry, error) {
	o, err := t.zk.GetTopicConfig(ctx, topic)
	if err != nil {
		return nil, err
	}
	return toAPIEntries(config.DescribeTopicConfigs(t.cfg, o)), nil
}

func toAPIEntries(in []config.ConfigEntry) []api.ConfigEntry {
	out := make([]api.ConfigEntry, len(in))
	for i, e := range in {
		out[i] = api.ConfigEntry{Name: e.Name, Value: e.Value, Source: int8(e.Source), ReadOnly: e.ReadOnly, Sensitive: e.Sensitive, Type: int8(e.Type)}
		for _, s := range e.Synonyms {
			out[i].Synonyms = append(out[i].Synonyms, api.ConfigSynonym{Name: s.Name, Value: s.Value, Source: int8(s.Source)})
		}
	}
	return out
}
