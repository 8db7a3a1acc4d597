package group

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// load reads a shard's partition from its start to its end and rebuilds
// the groups and their offsets (Kafka's loadGroupsAndOffsets); the shard
// answers COORDINATOR_LOAD_IN_PROGRESS until it is done. A group with
// members comes back Stable (its members must heartbeat within their
// session timeouts), one without members Empty; offsets without group
// metadata make an Empty group of a consumer outside group management.
func (c *Coordinator) load(s *shard) {
	start := time.Now()
	offsets := map[string]map[topicPartition]offsetEntry{}
	metas := map[string]*kmsg.GroupMetadataValue{}
	skipped := 0
	err := c.log.Load(s.ctx, s.partition, func(off int64, key, value []byte) error {
		if value != nil {
			// Kept (member metadata and assignments alias it); the
			// caller may reuse its buffer.
			value = append([]byte{}, value...)
		}
		r, err := ParseRecord(key, value)
		if err != nil {
			if skipped == 0 || !errors.Is(err, ErrUnknownKeyVersion) {
				c.lg.Warn().Err(err).Int32("partition", s.partition).Int64("offset", off).Msg("skipping a __consumer_offsets record")
			}
			skipped++
			return nil
		}
		switch r.Kind {
		case OffsetRecord:
			tp := topicPartition{r.Topic, r.Partition}
			if r.Offset == nil {
				if m := offsets[r.GroupID]; m != nil {
					delete(m, tp)
				}
				return nil
			}
			if offsets[r.GroupID] == nil {
				offsets[r.GroupID] = map[topicPartition]offsetEntry{}
			}
			offsets[r.GroupID][tp] = offsetEntry{CommittedOffset: *r.Offset, logOffset: off}
		case GroupRecord:
			if r.Group == nil {
				delete(metas, r.GroupID) // offsets have tombstones of their own
				return nil
			}
			metas[r.GroupID] = r.Group
		}
		return nil
	})
	if err != nil {
		if s.ctx.Err() == nil {
			c.lg.Error().Err(err).Int32("partition", s.partition).Msg("loading groups failed; the partition's groups stay unavailable")
		}
		return
	}
	groups := map[string]*group{}
	for id, v := range metas {
		groups[id] = c.restoreGroup(s, id, v)
	}
	for id, offs := range offsets {
		g := groups[id]
		if g == nil {
			g = newGroup(c, s, id)
			groups[id] = g
		}
		g.offsets = offs
	}
	n := len(groups)
	s.mu.Lock()
	if !s.removed {
		s.groups, s.loaded = groups, true
	}
	removed := s.removed
	s.mu.Unlock()
	if removed {
		for _, g := range groups {
			g.mu.Lock()
			g.shutdown(kerr.NotCoordinator)
			g.mu.Unlock()
		}
		return
	}
	c.lg.Info().Int32("partition", s.partition).Int32("epoch", s.epoch).Int("groups", n).
		Dur("took", time.Since(start)).Msg("loaded groups and offsets")
}

// restoreGroup rebuilds a group from its stored metadata.
func (c *Coordinator) restoreGroup(s *shard, id string, v *kmsg.GroupMetadataValue) *group {
	g := newGroup(c, s, id)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.protocolType, g.generation = v.ProtocolType, v.Generation
	if v.Protocol != nil {
		g.protocol = *v.Protocol
	}
	if v.Leader != nil {
		g.leader = *v.Leader
	}
	if v.CurrentStateTimestamp >= 0 && v.Version >= 2 {
		g.stateTime = time.UnixMilli(v.CurrentStateTimestamp)
	}
	for _, vm := range v.Members {
		m := &member{id: vm.MemberID, instanceID: vm.InstanceID, clientID: vm.ClientID, clientHost: vm.ClientHost,
			rebalanceTimeout: time.Duration(vm.RebalanceTimeoutMillis) * time.Millisecond,
			sessionTimeout:   time.Duration(vm.SessionTimeoutMillis) * time.Millisecond,
			protocolType:     v.ProtocolType, protocols: []protocol{{name: g.protocol, metadata: vm.Subscription}},
			assignment: vm.Assignment}
		if v.Version < 1 {
			m.rebalanceTimeout = m.sessionTimeout
		}
		g.members[m.id] = m
		if m.instanceID != nil {
			g.static[*m.instanceID] = m.id
		}
	}
	if len(g.members) == 0 {
		g.state = Empty
		return g
	}
	g.state = Stable
	for _, m := range g.members {
		g.armHeartbeat(m, m.sessionTimeout, false)
	}
	return g
}
