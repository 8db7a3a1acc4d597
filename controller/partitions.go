package controller

import (
	"slices"

	"github.com/kbroker/kbroker/model"
)

// byTopic groups partitions by topic.
func byTopic(tps []model.TopicPartition) map[string][]int32 {
	out := map[string][]int32{}
	for _, tp := range tps {
		out[tp.Topic] = append(out[tp.Topic], tp.Partition)
	}
	return out
}

// createPartitions gives new partitions their first state (leader = first
// live replica, ISR = live replicas, epochs 0), writes the state znodes
// (fenced), and sends LeaderAndIsr(isNew) to the replicas and
// UpdateMetadata to everyone. A partition with no live replica stays new.
func (c *Controller) createPartitions(tps []model.TopicPartition) {
	var created []model.TopicPartition
	for topic, parts := range byTopic(tps) {
		ts := c.st.topics[topic]
		states := map[int32]model.LeaderAndISR{}
		for _, p := range parts {
			s, ok := initialState(ts.partitions[p], c.isEligible, c.st.fence.Epoch)
			if !ok {
				c.log.Warn().Str("topic", topic).Int32("partition", p).Msg("no live replica for a new partition; it stays offline")
				continue
			}
			states[p] = s
		}
		if len(states) == 0 {
			continue
		}
		failed, err := c.zk.CreatePartitionStates(c.ctx, c.st.fence, topic, states)
		if !c.check(err, "creating partition states of "+topic) {
			continue
		}
		for p, s := range states {
			if ferr := failed[p]; ferr != nil {
				c.log.Warn().Err(ferr).Str("topic", topic).Int32("partition", p).Msg("creating a partition state znode")
				continue
			}
			// A freshly created znode has version 0: the partition epoch.
			s.PartitionEpoch = 0
			ts.states[p] = s
			created = append(created, model.TopicPartition{Topic: topic, Partition: p})
		}
	}
	if len(created) == 0 {
		return
	}
	c.log.Info().Int("partitions", len(created)).Msg("created partitions")
	c.sendLeaderAndIsrNew(created, true)
	c.sendUpdateMetadata(c.liveIDs(), created)
}

// electOffline elects leaders for partitions whose leader is not live
// (Kafka's OfflinePartitionLeaderElectionStrategy), and writes and
// announces the ones that succeeded. A partition without a live ISR member
// gets the first live replica when its topic allows unclean elections
// (the topic's override, else the broker default): that leader starts
// RECOVERING and alone in the ISR. Otherwise it keeps its state and shows
// as offline.
func (c *Controller) electOffline(tps []model.TopicPartition) {
	updates := map[string]map[int32]model.LeaderAndISR{}
	type uncleanPick struct {
		oldISR []model.BrokerID
		leader model.BrokerID
	}
	unclean := map[model.TopicPartition]uncleanPick{}
	allowed := map[string]bool{} // per topic, read once per round
	for _, tp := range tps {
		ts := c.st.topics[tp.Topic]
		s, ok := ts.states[tp.Partition]
		if !ok {
			continue
		}
		topic := tp.Topic
		allow := func() bool {
			v, ok := allowed[topic]
			if !ok {
				v = c.uncleanElectionEnabled(topic)
				allowed[topic] = v
			}
			return v
		}
		e, ok := electOffline(ts.partitions[tp.Partition], s.ISR, c.isEligible, allow)
		if !ok {
			c.log.Warn().Str("partition", tp.String()).Interface("isr", s.ISR).Msg("no live ISR member; the partition is offline")
			continue
		}
		n := s
		n.Leader, n.ISR, n.LeaderEpoch, n.ControllerEpoch = e.leader, e.isr, s.LeaderEpoch+1, c.st.fence.Epoch
		if e.unclean {
			n.LeaderRecoveryState = leaderRecovering
			unclean[tp] = uncleanPick{oldISR: s.ISR, leader: e.leader}
		}
		if updates[tp.Topic] == nil {
			updates[tp.Topic] = map[int32]model.LeaderAndISR{}
		}
		updates[tp.Topic][tp.Partition] = n
	}
	for _, tp := range c.applyUpdates(updates, "offline partition election") {
		if u, ok := unclean[tp]; ok {
			c.log.Warn().Str("partition", tp.String()).Int32("leader", int32(u.leader)).Interface("previousISR", u.oldISR).
				Msg("unclean leader election: an out-of-sync replica leads; records acknowledged by the previous ISR may be lost")
		}
	}
}

// leaderRecovering is LeaderRecoveryState RECOVERING: the leader was
// elected uncleanly and has not reported recovery yet.
const leaderRecovering int8 = 1

// removeReplicasFromISR takes replicas out of the ISRs of the given
// partitions (Kafka's OfflineReplica transition, for dead brokers and for a
// broker in controlled shutdown). The removed replicas get no
// LeaderAndIsr for it; the others do.
func (c *Controller) removeReplicasFromISR(tps []model.TopicPartition, dead []model.BrokerID) {
	updates := map[string]map[int32]model.LeaderAndISR{}
	for _, tp := range tps {
		ts := c.st.topics[tp.Topic]
		s, ok := ts.states[tp.Partition]
		if !ok {
			continue
		}
		n := s
		changed := false
		for _, d := range dead {
			if slices.Contains(n.ISR, d) || n.Leader == d {
				n = removeFromISR(n, d)
				n.LeaderEpoch = s.LeaderEpoch + 1
				changed = true
			}
		}
		// As in Kafka, the epoch grows even when only the last ISR member
		// (kept in the ISR) lost its leadership earlier.
		if !changed {
			continue
		}
		n.ControllerEpoch = c.st.fence.Epoch
		if updates[tp.Topic] == nil {
			updates[tp.Topic] = map[int32]model.LeaderAndISR{}
		}
		updates[tp.Topic][tp.Partition] = n
	}
	c.applyUpdatesTo(updates, "removing replicas from the ISR", func(b model.BrokerID) bool { return !slices.Contains(dead, b) })
}

// applyUpdates writes new partition states with a version check (fenced by
// the controller epoch), re-reading and skipping partitions whose znode
// changed under us, then sends LeaderAndIsr to their live replicas and
// UpdateMetadata to everyone. It returns the partitions written.
func (c *Controller) applyUpdates(updates map[string]map[int32]model.LeaderAndISR, why string) []model.TopicPartition {
	return c.applyUpdatesTo(updates, why, nil)
}

// applyUpdatesTo is applyUpdates sending LeaderAndIsr only to the replicas
// for which want is true (all live replicas when want is nil).
func (c *Controller) applyUpdatesTo(updates map[string]map[int32]model.LeaderAndISR, why string, want func(model.BrokerID) bool) []model.TopicPartition {
	var done []model.TopicPartition
	for topic, states := range updates {
		ts := c.st.topics[topic]
		epochs, bad, err := c.zk.UpdatePartitionStates(c.ctx, c.st.fence, topic, states)
		if !c.check(err, why) {
			continue
		}
		for p, e := range epochs {
			s := states[p]
			s.PartitionEpoch = e
			ts.states[p] = s
			done = append(done, model.TopicPartition{Topic: topic, Partition: p})
		}
		if len(bad) > 0 {
			// Someone else (a leader changing its ISR) wrote first: re-read,
			// so the next event works from the truth.
			fresh, err := c.zk.GetPartitionStates(c.ctx, topic, bad)
			if c.check(err, "re-reading partition states") {
				for p, s := range fresh {
					ts.states[p] = s
				}
			}
			c.log.Warn().Str("topic", topic).Interface("partitions", bad).Str("why", why).Msg("partition state changed concurrently; skipped")
		}
	}
	if len(done) == 0 {
		return nil
	}
	c.log.Info().Int("partitions", len(done)).Str("why", why).Msg("partition states updated")
	if want == nil {
		c.sendLeaderAndIsr(done)
	} else {
		c.sendLeaderAndIsrFiltered(done, false, want)
	}
	c.sendUpdateMetadata(c.liveIDs(), done)
	return done
}

// partitionsWithLeader lists the partitions that have a state (for a new
// broker's first UpdateMetadata).
func (c *Controller) partitionsWithLeader() []model.TopicPartition {
	var out []model.TopicPartition
	for t, ts := range c.st.topics {
		if c.st.deleting[t] != nil {
			continue
		}
		for p := range ts.states {
			out = append(out, model.TopicPartition{Topic: t, Partition: p})
		}
	}
	return out
}
