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
	// Transactional offset commits stay pending per producer id until
	// that producer's marker: COMMIT applies them (unless a later record
	// of the partition was loaded), ABORT drops them.
	txnPending := map[int64]map[string]map[topicPartition]txnOffset{}
	err := c.log.Load(s.ctx, s.partition, func(lr LogRecord) error {
		off, key, value := lr.Offset, lr.Key, lr.Value
		if lr.Marker {
			if lr.Commit {
				for id, offs := range txnPending[lr.ProducerID] {
					for tp, o := range offs {
						if offsets[id] == nil {
							offsets[id] = map[topicPartition]offsetEntry{}
						}
						if cur, ok := offsets[id][tp]; !ok || cur.logOffset < o.logOffset {
							offsets[id][tp] = offsetEntry{CommittedOffset: o.CommittedOffset, logOffset: o.logOffset}
						}
					}
				}
			}
			delete(txnPending, lr.ProducerID)
			return nil
		}
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
			if lr.Transactional {
				prod := txnPending[lr.ProducerID]
				if prod == nil {
					prod = map[string]map[topicPartition]txnOffset{}
					txnPending[lr.ProducerID] = prod
				}
				if r.Offset == nil {
					delete(prod[r.GroupID], tp)
					return nil
				}
				if prod[r.GroupID] == nil {
					prod[r.GroupID] = map[topicPartition]txnOffset{}
				}
				prod[r.GroupID][tp] = txnOffset{CommittedOffset: *r.Offset, logOffset: off}
				return nil
			}
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
	txnGroups := map[int64]map[string]bool{}
	for pid, byGroup := range txnPending {
		for id, offs := range byGroup {
			if len(offs) == 0 {
				continue
			}
			g := groups[id]
			if g == nil {
				g = newGroup(c, s, id)
				groups[id] = g
			}
			g.pendingTxn[pid] = offs
			if txnGroups[pid] == nil {
				txnGroups[pid] = map[string]bool{}
			}
			txnGroups[pid][id] = true
		}
	}
	n := len(groups)
	s.mu.Lock()
	if !s.removed {
		s.groups, s.loaded, s.txnGroups = groups, true, txnGroups
	}
	removed := s.removed
	early := s.early
	s.early = nil
	s.mu.Unlock()
	if removed {
		for _, g := range groups {
			g.mu.Lock()
			g.shutdown(kerr.NotCoordinator)
			g.mu.Unlock()
		}
		return
	}
	// Markers written while loading: those the load read already find
	// nothing pending any more.
	for _, m := range early {
		c.CompleteTxn(s.partition, m.producerID, m.commit)
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
