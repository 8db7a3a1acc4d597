package controller

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// Election types of ElectLeaders (Kafka's ElectionType).
const (
	ElectionPreferred int8 = 0
	ElectionUnclean   int8 = 1
)

// Messages Kafka's controller puts in ElectLeaders results.
const (
	msgElectionNotNeeded = "Leader election not needed for topic partition."
	msgTopicDeleting     = "The topic is being deleted"
	msgNoSuchPartition   = "The partition does not exist."
)

// ElectLeaders runs an ElectLeaders request for the listed partitions
// (Kafka's processReplicaLeaderElection triggered by the admin client) as
// an event of the controller's loop and waits for it, or for ctx
// (REQUEST_TIMED_OUT for every partition). electionType is
// ElectionPreferred or ElectionUnclean; the caller rejects others and
// resolves a request for all partitions into a list. The results hold one
// entry per distinct partition, topics and partitions sorted; leaders maps
// each partition elected to its new leader, which the caller waits to see
// in its metadata cache before answering (Kafka's DelayedElectLeader).
func (c *Controller) ElectLeaders(ctx context.Context, electionType int8, partitions []model.TopicPartition) ([]kmsg.ElectLeadersResponseTopic, map[model.TopicPartition]model.BrokerID) {
	tps := slices.Clone(partitions)
	slices.SortFunc(tps, model.CompareTopicPartitions)
	tps = slices.Compact(tps)
	type answer struct {
		codes   map[model.TopicPartition]electionOutcome
		leaders map[model.TopicPartition]model.BrokerID
	}
	everyone := func(code int16) answer {
		a := answer{codes: map[model.TopicPartition]electionOutcome{}}
		for _, tp := range tps {
			a.codes[tp] = electionOutcome{code: code}
		}
		return a
	}
	if !c.started.Load() {
		a := everyone(kerr.NotController.Code)
		return electionResults(tps, a.codes), nil
	}
	done := make(chan answer, 1)
	c.enqueue(func() {
		sent := false
		// A fenced write that finds a newer controller unwinds the event
		// (run() then resigns): NOT_CONTROLLER for everything, as Kafka
		// answers a ControllerMovedException.
		defer func() {
			if !sent {
				done <- everyone(kerr.NotController.Code)
			}
		}()
		if c.st == nil {
			done <- everyone(kerr.NotController.Code)
			sent = true
			return
		}
		codes, leaders := c.electLeaders(electionType, tps)
		done <- answer{codes: codes, leaders: leaders}
		sent = true
	})
	var a answer
	select {
	case a = <-done:
	case <-c.done:
		a = everyone(kerr.NotController.Code)
	case <-ctx.Done():
		a = everyone(kerr.RequestTimedOut.Code)
	}
	return electionResults(tps, a.codes), a.leaders
}

// electionOutcome is one partition's result: an error code (0 for an
// election done) and its message (nil for none).
type electionOutcome struct {
	code int16
	msg  *string
}

func outcome(code int16, msg string) electionOutcome { return electionOutcome{code: code, msg: &msg} }

// electionResults renders the outcomes of sorted partitions as the
// response's topic entries.
func electionResults(tps []model.TopicPartition, codes map[model.TopicPartition]electionOutcome) []kmsg.ElectLeadersResponseTopic {
	var out []kmsg.ElectLeadersResponseTopic
	for _, tp := range tps {
		if n := len(out); n == 0 || out[n-1].Topic != tp.Topic {
			t := kmsg.NewElectLeadersResponseTopic()
			t.Topic = tp.Topic
			out = append(out, t)
		}
		o := codes[tp]
		p := kmsg.NewElectLeadersResponseTopicPartition()
		p.Partition, p.ErrorCode, p.ErrorMessage = tp.Partition, o.code, o.msg
		t := &out[len(out)-1]
		t.Partitions = append(t.Partitions, p)
	}
	return out
}

// electLeaders is the event: unknown partitions, partitions of topics
// being deleted and partitions that need no election are answered at once;
// the others get the preferred election, or for UNCLEAN the offline
// election with unclean picks allowed, and are written before the answer.
func (c *Controller) electLeaders(electionType int8, tps []model.TopicPartition) (map[model.TopicPartition]electionOutcome, map[model.TopicPartition]model.BrokerID) {
	codes := map[model.TopicPartition]electionOutcome{}
	var electable []model.TopicPartition
	for _, tp := range tps {
		ts := c.st.topics[tp.Topic]
		var replicas []model.BrokerID
		exists := false
		if ts != nil {
			replicas, exists = ts.partitions[tp.Partition]
		}
		if !exists || len(replicas) == 0 {
			codes[tp] = outcome(kerr.UnknownTopicOrPartition.Code, msgNoSuchPartition)
			continue
		}
		if c.st.deleting[tp.Topic] != nil {
			codes[tp] = outcome(kerr.InvalidTopicException.Code, msgTopicDeleting)
			continue
		}
		leader := model.NoLeader
		if s, ok := ts.states[tp.Partition]; ok {
			leader = s.Leader
		}
		var needed bool
		if electionType == ElectionUnclean {
			needed = leader == model.NoLeader || !c.isEligible(leader)
		} else {
			needed = leader != replicas[0]
		}
		if !needed {
			codes[tp] = outcome(kerr.ElectionNotNeeded.Code, msgElectionNotNeeded)
			continue
		}
		electable = append(electable, tp)
	}
	if len(electable) == 0 {
		return codes, nil
	}
	name := "PREFERRED"
	if electionType == ElectionUnclean {
		name = "UNCLEAN"
	}
	c.log.Info().Str("electionType", name).Interface("partitions", electable).
		Msg("starting replica leader election triggered by the admin client")
	var won map[model.TopicPartition]model.LeaderAndISR
	var noLeader, failed []model.TopicPartition
	noLeaderCode, strategyName := kerr.PreferredLeaderNotAvailable.Code, "PreferredReplicaPartitionLeaderElectionStrategy"
	if electionType == ElectionUnclean {
		noLeaderCode, strategyName = kerr.EligibleLeadersNotAvailable.Code, "OfflinePartitionLeaderElectionStrategy(true)"
		won, noLeader, failed = c.electUncleanByAdmin(electable)
	} else {
		won, noLeader, failed = c.electPreferredReplicas(electable, "admin client")
	}
	leaders := map[model.TopicPartition]model.BrokerID{}
	for tp, s := range won {
		codes[tp] = electionOutcome{}
		leaders[tp] = s.Leader
	}
	for _, tp := range noLeader {
		codes[tp] = outcome(noLeaderCode, "Failed to elect leader for partition "+tp.String()+" under strategy "+strategyName)
	}
	for _, tp := range failed {
		c.log.Error().Str("partition", tp.String()).Str("electionType", name).Msg("error completing replica leader election: the partition state could not be written")
		codes[tp] = electionOutcome{code: kerr.UnknownServerError.Code}
	}
	return codes, leaders
}

// electUncleanByAdmin is the offline-partition election with unclean picks
// allowed whatever the topic says (Kafka's UNCLEAN election from the admin
// client): the first live ISR member in assignment order leads with the
// live ISR, else the first live replica alone, RECOVERING.
func (c *Controller) electUncleanByAdmin(tps []model.TopicPartition) (won map[model.TopicPartition]model.LeaderAndISR, noLeader, failed []model.TopicPartition) {
	oldISR := map[model.TopicPartition][]model.BrokerID{}
	won, noLeader, failed = c.electWith(tps, func(tp model.TopicPartition, replicas []model.BrokerID, s model.LeaderAndISR) (model.LeaderAndISR, bool) {
		e, ok := electOffline(replicas, s.ISR, c.isEligible, func() bool { return true })
		if !ok {
			return s, false
		}
		n := s
		n.Leader, n.ISR, n.LeaderEpoch, n.ControllerEpoch = e.leader, e.isr, s.LeaderEpoch+1, c.st.fence.Epoch
		if e.unclean {
			n.LeaderRecoveryState = leaderRecovering
			oldISR[tp] = s.ISR
		} else {
			delete(oldISR, tp)
		}
		return n, true
	}, "unclean leader election (admin client)")
	for tp, s := range won {
		if isr, ok := oldISR[tp]; ok {
			c.log.Warn().Str("partition", tp.String()).Int32("leader", int32(s.Leader)).Interface("previousISR", isr).
				Msg("unclean leader election: an out-of-sync replica leads; records acknowledged by the previous ISR may be lost")
		}
	}
	return won, noLeader, failed
}
