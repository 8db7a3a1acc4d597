package group

import (
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// expireLoop removes expired offsets every
// offsets.retention.check.interval.ms.
func (c *Coordinator) expireLoop() {
	defer c.wg.Done()
	t := time.NewTicker(c.cfg.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
			c.ExpireOffsets()
		}
	}
}

// ExpireOffsets removes the offsets whose retention has passed (KIP-211)
// from every group led here and writes their tombstones; an Empty group
// left without offsets becomes Dead and, if it ever had a generation, gets
// a group tombstone too. It returns how many offsets expired.
func (c *Coordinator) ExpireOffsets() int {
	n := 0
	for _, s := range c.allShards() {
		s.mu.Lock()
		if !s.loaded {
			s.mu.Unlock()
			continue
		}
		groups := make([]*group, 0, len(s.groups))
		for _, g := range s.groups {
			groups = append(groups, g)
		}
		s.mu.Unlock()
		for _, g := range groups {
			n += c.expireGroup(g)
		}
	}
	return n
}

func (c *Coordinator) expireGroup(g *group) int {
	g.mu.Lock()
	if g.state == Dead {
		g.mu.Unlock()
		return 0
	}
	expired := g.expiredOffsets(c.cfg.Now().UnixMilli(), c.cfg.OffsetsRetention.Milliseconds())
	if err := c.removeOffsets(g, expired); err != nil {
		c.lg.Warn().Err(err).Str("group", g.id).Msg("writing tombstones of expired offsets failed")
	}
	if len(expired) > 0 {
		c.lg.Info().Str("group", g.id).Int("offsets", len(expired)).Msg("removed expired offsets")
	}
	return len(expired)
}

// expiredOffsets lists the offsets to expire now (Kafka's
// removeExpiredOffsets): for an Empty group that had members, retention
// counts from when it became Empty; for a Stable consumer group, offsets
// of topics no member subscribes to expire from their commit time; for a
// group that never had members, every offset from its commit time. An
// explicit expire timestamp (OffsetCommit v2-v4) wins.
func (g *group) expiredOffsets(now, retention int64) []topicPartition {
	var base func(o offsetEntry) int64
	var subscribed map[string]bool
	switch {
	case g.protocolType != "" && g.state == Empty:
		base = func(offsetEntry) int64 { return g.stateTime.UnixMilli() }
	case g.protocolType == "consumer" && g.state == Stable:
		var ok bool
		if subscribed, ok = g.subscribedTopics(); !ok {
			return nil
		}
		base = func(o offsetEntry) int64 { return o.CommitTimestamp }
	case g.protocolType == "":
		base = func(o offsetEntry) int64 { return o.CommitTimestamp }
	default:
		return nil
	}
	if g.hasAnyPending() {
		return nil
	}
	var out []topicPartition
	for tp, o := range g.offsets {
		if subscribed[tp.topic] {
			continue
		}
		if o.ExpireTimestamp != NoExpireTimestamp {
			if now >= o.ExpireTimestamp {
				out = append(out, tp)
			}
		} else if now-base(o) >= retention {
			out = append(out, tp)
		}
	}
	return out
}

// subscribedTopics is the union of the members' subscriptions, decoded
// from the consumer protocol metadata; false when one cannot be decoded.
func (g *group) subscribedTopics() (map[string]bool, bool) {
	out := map[string]bool{}
	for _, m := range g.members {
		var md kmsg.ConsumerMemberMetadata
		if err := md.ReadFrom(m.metadataFor(g.protocol)); err != nil {
			return nil, false
		}
		for _, t := range md.Topics {
			out[t] = true
		}
	}
	return out, true
}
