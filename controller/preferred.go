package controller

import (
	"slices"
	"time"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/zkmeta"
)

// Preferred leader election (kafka-zk-spec.md §2.8): the preferred replica
// of a partition is the head of its assignment. It becomes leader again
// only when it is live (registered, not shutting down) and in the ISR; the
// ISR stays as it is and the leader epoch grows by one. Three things ask
// for it: the auto-rebalance check (below), the ElectLeaders API
// (electleaders.go) and the legacy /admin/preferred_replica_election znode
// (below).

// firstRebalanceDelay is how long after a failover the first auto
// rebalance check runs (Kafka: 5 s, then every
// leader.imbalance.check.interval.seconds).
const firstRebalanceDelay = 5 * time.Second

// preferredLeader is Kafka's preferred-replica election algorithm: the
// assignment head when it is eligible and in the ISR.
func preferredLeader(replicas, isr []model.BrokerID, eligible func(model.BrokerID) bool) (model.BrokerID, bool) {
	if len(replicas) == 0 {
		return model.NoLeader, false
	}
	p := replicas[0]
	if eligible(p) && slices.Contains(isr, p) {
		return p, true
	}
	return model.NoLeader, false
}

// rebalancePartition is one partition as the auto-rebalance check sees it.
type rebalancePartition struct {
	tp       model.TopicPartition
	replicas []model.BrokerID
	// hasState is false for a partition without a state znode yet: it
	// counts for its preferred broker but is never "not led by it".
	hasState bool
	state    model.LeaderAndISR
}

// brokerImbalance is one broker's share of the check: the partitions whose
// preferred replica it is, and those of them another broker (or nobody)
// leads.
type brokerImbalance struct {
	broker     model.BrokerID
	preferred  int
	notLeading []model.TopicPartition
}

// ratio is Kafka's leader imbalance ratio of the broker.
func (b brokerImbalance) ratio() float64 {
	return float64(len(b.notLeading)) / float64(b.preferred)
}

// overThreshold is Kafka's test: the ratio strictly above
// leader.imbalance.per.broker.percentage / 100.
func (b brokerImbalance) overThreshold(percentage int32) bool {
	return b.ratio() > float64(percentage)/100
}

// rebalanceCandidates is Kafka's checkAndTriggerAutoLeaderRebalance
// without the writes: partitions are grouped by preferred replica (those
// of topics being deleted must not be passed); for each broker whose ratio
// is over the threshold, the partitions it does not lead and whose
// preferred replica can lead (canLead) are elected. It returns every
// broker's figures (sorted by broker) and the partitions to elect (sorted).
func rebalanceCandidates(parts []rebalancePartition, percentage int32, canLead func(rebalancePartition) bool) ([]brokerImbalance, []model.TopicPartition) {
	byBroker := map[model.BrokerID]*brokerImbalance{}
	var brokers []model.BrokerID
	index := map[model.TopicPartition]rebalancePartition{}
	for _, p := range parts {
		if len(p.replicas) == 0 {
			continue
		}
		head := p.replicas[0]
		b := byBroker[head]
		if b == nil {
			b = &brokerImbalance{broker: head}
			byBroker[head] = b
			brokers = append(brokers, head)
		}
		b.preferred++
		if p.hasState && p.state.Leader != head {
			b.notLeading = append(b.notLeading, p.tp)
			index[p.tp] = p
		}
	}
	slices.Sort(brokers)
	out := make([]brokerImbalance, 0, len(brokers))
	var elect []model.TopicPartition
	for _, id := range brokers {
		b := byBroker[id]
		slices.SortFunc(b.notLeading, model.CompareTopicPartitions)
		out = append(out, *b)
		if !b.overThreshold(percentage) {
			continue
		}
		for _, tp := range b.notLeading {
			if canLead(index[tp]) {
				elect = append(elect, tp)
			}
		}
	}
	slices.SortFunc(elect, model.CompareTopicPartitions)
	return out, elect
}

// scheduleAutoRebalance arms the next auto leader rebalance check when
// auto.leader.rebalance.enable is set. The timer only enqueues the check;
// a check of an earlier controller term does nothing.
func (c *Controller) scheduleAutoRebalance(after time.Duration) {
	if !c.opts.AutoLeaderRebalanceEnable || c.st == nil {
		return
	}
	gen := c.st.generation
	c.st.rebalanceTimer = time.AfterFunc(after, func() {
		c.enqueue(func() {
			if c.st == nil || c.st.generation != gen {
				return
			}
			// The next check is armed even if this one unwinds (a fenced
			// write that lost makes the loop resign, which stops it).
			defer c.scheduleAutoRebalance(c.opts.LeaderImbalanceCheckInterval)
			c.autoRebalance()
		})
	})
}

// stopAutoRebalance stops the rebalance timer (on resignation).
func (c *Controller) stopAutoRebalance() {
	if c.st != nil && c.st.rebalanceTimer != nil {
		c.st.rebalanceTimer.Stop()
		c.st.rebalanceTimer = nil
	}
}

// autoRebalance is one auto leader rebalance check (an event).
func (c *Controller) autoRebalance() {
	var parts []rebalancePartition
	for t, ts := range c.st.topics {
		if c.st.deleting[t] != nil {
			continue
		}
		for p, replicas := range ts.partitions {
			s, ok := ts.states[p]
			parts = append(parts, rebalancePartition{tp: model.TopicPartition{Topic: t, Partition: p}, replicas: replicas, hasState: ok, state: s})
		}
	}
	pct := c.opts.LeaderImbalancePerBrokerPercentage
	canLead := func(p rebalancePartition) bool {
		_, ok := preferredLeader(p.replicas, p.state.ISR, c.isEligible)
		return ok
	}
	brokers, elect := rebalanceCandidates(parts, pct, canLead)
	over := false
	for _, b := range brokers {
		if b.overThreshold(pct) {
			over = true
			c.log.Info().Int32("broker", int32(b.broker)).Float64("imbalanceRatio", b.ratio()).
				Int("preferredPartitions", b.preferred).Interface("notLedByPreferred", b.notLeading).
				Msg("leader imbalance above leader.imbalance.per.broker.percentage")
		}
	}
	if !over {
		c.log.Debug().Msg("auto leader rebalance check: no broker above the imbalance threshold")
		return
	}
	if len(elect) == 0 {
		return
	}
	c.log.Info().Interface("partitions", elect).Msg("starting preferred replica leader election triggered by auto leader rebalance")
	won, noLeader, failed := c.electPreferredReplicas(elect, "auto leader rebalance")
	c.log.Info().Int("elected", len(won)).Interface("noLeader", noLeader).Interface("failed", failed).
		Msg("auto leader rebalance done")
}

// electPreferredReplicas runs the preferred-replica election on the
// partitions (which must exist) and reports the new states written, the
// partitions whose preferred replica cannot lead, and those whose write
// kept failing.
func (c *Controller) electPreferredReplicas(tps []model.TopicPartition, why string) (won map[model.TopicPartition]model.LeaderAndISR, noLeader, failed []model.TopicPartition) {
	return c.electWith(tps, func(_ model.TopicPartition, replicas []model.BrokerID, s model.LeaderAndISR) (model.LeaderAndISR, bool) {
		leader, ok := preferredLeader(replicas, s.ISR, c.isEligible)
		if !ok {
			return s, false
		}
		n := s
		n.Leader = leader
		n.LeaderEpoch = s.LeaderEpoch + 1
		n.ControllerEpoch = c.st.fence.Epoch
		return n, true
	}, "preferred replica leader election ("+why+")")
}

// electionStrategy computes a partition's next state from its replicas
// and current state; ok is false when it finds no leader.
type electionStrategy func(tp model.TopicPartition, replicas []model.BrokerID, s model.LeaderAndISR) (next model.LeaderAndISR, ok bool)

// maxElectionRounds bounds the re-elections of partitions whose state
// znode changed under a write (Kafka retries until none is left).
const maxElectionRounds = 5

// electWith is Kafka's OnlinePartition transition with a given election
// strategy: every partition's next state is computed from the
// controller's view and written conditionally on its state znode version,
// fenced by the controller epoch; its live replicas get LeaderAndIsr and
// everyone UpdateMetadata (applyUpdates). A partition whose znode changed
// meanwhile is re-read and elected again. It returns the states written,
// the partitions without a state or a leader under the strategy, and those
// whose write still failed after the retries.
func (c *Controller) electWith(tps []model.TopicPartition, strategy electionStrategy, why string) (won map[model.TopicPartition]model.LeaderAndISR, noLeader, failed []model.TopicPartition) {
	won = map[model.TopicPartition]model.LeaderAndISR{}
	pending := tps
	for round := 0; round < maxElectionRounds && len(pending) > 0; round++ {
		updates := map[string]map[int32]model.LeaderAndISR{}
		var attempted []model.TopicPartition
		for _, tp := range pending {
			ts := c.st.topics[tp.Topic]
			if ts == nil {
				noLeader = append(noLeader, tp)
				continue
			}
			s, ok := ts.states[tp.Partition]
			if !ok {
				noLeader = append(noLeader, tp)
				continue
			}
			n, ok := strategy(tp, ts.partitions[tp.Partition], s)
			if !ok {
				noLeader = append(noLeader, tp)
				continue
			}
			if updates[tp.Topic] == nil {
				updates[tp.Topic] = map[int32]model.LeaderAndISR{}
			}
			updates[tp.Topic][tp.Partition] = n
			attempted = append(attempted, tp)
		}
		done := c.applyUpdates(updates, why)
		for _, tp := range done {
			won[tp] = c.st.topics[tp.Topic].states[tp.Partition]
		}
		pending = slices.DeleteFunc(attempted, func(tp model.TopicPartition) bool { _, ok := won[tp]; return ok })
	}
	failed = pending
	slices.SortFunc(noLeader, model.CompareTopicPartitions)
	slices.SortFunc(failed, model.CompareTopicPartitions)
	return won, noLeader, failed
}

// onPreferredElectionZnode handles /admin/preferred_replica_election
// (Kafka's ZK-triggered ReplicaLeaderElection): it reads the znode, leaving
// one watch on it, and when it exists elects the preferred replica of each
// listed partition that exists, is not being deleted and is not led by its
// preferred replica already, then deletes the znode whatever the outcome.
// The data watch fires on that deletion, which re-arms an exists watch for
// the next request. Called at failover and on every watch event.
func (c *Controller) onPreferredElectionZnode() {
	data, ok, changed, err := c.zk.WatchPreferredReplicaElection(c.ctx)
	if !c.check(err, "reading "+zkmeta.PreferredReplicaElectionPath) {
		return
	}
	c.watch(changed, c.onPreferredElectionZnode)
	if !ok {
		return
	}
	tps, err := zkmeta.ParsePreferredReplicaElection(data)
	if err != nil {
		// Kafka's controller fails the event and leaves the znode: it is
		// read again when someone rewrites or deletes it.
		c.log.Error().Err(err).Msg("ignoring an unreadable preferred replica election request")
		return
	}
	var elect []model.TopicPartition
	for _, tp := range tps {
		ts := c.st.topics[tp.Topic]
		replicas, exists := []model.BrokerID(nil), false
		if ts != nil {
			replicas, exists = ts.partitions[tp.Partition]
		}
		switch {
		case !exists || len(replicas) == 0:
			c.log.Info().Str("partition", tp.String()).Msg("skipping preferred replica leader election of a partition that does not exist")
		case c.st.deleting[tp.Topic] != nil:
			c.log.Warn().Str("partition", tp.String()).Msg("skipping preferred replica leader election of a partition whose topic is being deleted")
		default:
			if s, ok := ts.states[tp.Partition]; ok && s.Leader == replicas[0] {
				continue // already led by its preferred replica
			}
			elect = append(elect, tp)
		}
	}
	slices.SortFunc(elect, model.CompareTopicPartitions)
	if len(elect) > 0 {
		c.log.Info().Interface("partitions", elect).Msg("starting preferred replica leader election requested in " + zkmeta.PreferredReplicaElectionPath)
		won, noLeader, failed := c.electPreferredReplicas(elect, zkmeta.PreferredReplicaElectionPath)
		for _, tp := range append(noLeader, failed...) {
			ts := c.st.topics[tp.Topic]
			c.log.Warn().Str("partition", tp.String()).Int32("preferred", int32(ts.partitions[tp.Partition][0])).
				Int32("leader", int32(ts.states[tp.Partition].Leader)).
				Msg("partition failed to complete preferred replica leader election")
		}
		c.log.Info().Int("elected", len(won)).Msg("preferred replica leader election requested in ZooKeeper done")
	}
	err = c.zk.DeletePreferredReplicaElection(c.ctx, c.st.fence)
	c.check(err, "deleting "+zkmeta.PreferredReplicaElectionPath)
}
