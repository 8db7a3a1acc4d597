package controller

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// unknownBrokerEpoch is the broker epoch of a request that carries none
// (ControlledShutdown v0 and v1): it is never stale.
const unknownBrokerEpoch = -1

// ControlledShutdown handles a broker's request to move its leaderships
// away before it stops (Kafka's doControlledShutdown). It runs as an event
// of the controller's loop and waits for it, or for ctx. The answer lists
// the partitions (replication factor > 1) the broker still leads; the
// broker retries until the list is empty.
func (c *Controller) ControlledShutdown(ctx context.Context, req *kmsg.ControlledShutdownRequest) *kmsg.ControlledShutdownResponse {
	resp := req.ResponseKind().(*kmsg.ControlledShutdownResponse)
	if !c.started.Load() {
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	type result struct {
		code      int16
		remaining []model.TopicPartition
	}
	done := make(chan result, 1)
	id, epoch := model.BrokerID(req.BrokerID), req.BrokerEpoch
	c.enqueue(func() {
		sent := false
		// A fenced write that finds a newer controller unwinds the event
		// (run() then resigns): answer NOT_CONTROLLER on the way out.
		defer func() {
			if !sent {
				done <- result{code: kerr.NotController.Code}
			}
		}()
		code, remaining := c.doControlledShutdown(id, epoch)
		done <- result{code: code, remaining: remaining}
		sent = true
	})
	select {
	case r := <-done:
		resp.ErrorCode = r.code
		for _, tp := range r.remaining {
			p := kmsg.NewControlledShutdownResponsePartitionsRemaining()
			p.Topic, p.Partition = tp.Topic, tp.Partition
			resp.PartitionsRemaining = append(resp.PartitionsRemaining, p)
		}
	case <-c.done: // the loop stopped: this broker no longer controls anything
		resp.ErrorCode = kerr.NotController.Code
	case <-ctx.Done():
		resp.ErrorCode = kerr.RequestTimedOut.Code
	}
	return resp
}

// doControlledShutdown is the event: check the broker and its epoch, mark
// it shutting down, move the leaderships it holds to other ISR members,
// stop its follower replicas and take it out of their ISRs, and return the
// partitions it still leads.
func (c *Controller) doControlledShutdown(id model.BrokerID, epoch int64) (int16, []model.TopicPartition) {
	if c.st == nil {
		return kerr.NotController.Code, nil
	}
	reg, ok := c.st.live[id]
	if !ok {
		c.log.Info().Int32("peer", int32(id)).Msg("controlled shutdown of a broker that is not registered")
		return kerr.BrokerNotAvailable.Code, nil
	}
	if epoch != unknownBrokerEpoch && epoch < reg.Epoch {
		c.log.Info().Int32("peer", int32(id)).Int64("brokerEpoch", epoch).Int64("currentBrokerEpoch", reg.Epoch).
			Msg("controlled shutdown request from an old broker epoch")
		return kerr.StaleBrokerEpoch.Code, nil
	}
	c.log.Info().Int32("peer", int32(id)).Msg("controlled shutdown of broker")
	if c.st.shuttingDown == nil {
		c.st.shuttingDown = map[model.BrokerID]bool{}
	}
	c.st.shuttingDown[id] = true

	led, followed := c.replicatedPartitionsOn(id)
	c.electAwayFrom(led)
	c.stopReplicas(id, followed)
	c.removeReplicasFromISR(followed, []model.BrokerID{id})

	remaining, _ := c.replicatedPartitionsOn(id)
	c.log.Info().Int32("peer", int32(id)).Int("movedLeaderships", len(led)-len(remaining)).
		Int("followerReplicasStopped", len(followed)).Interface("remaining", remaining).
		Msg("controlled shutdown handled")
	return 0, remaining
}

// replicatedPartitionsOn splits the partitions with more than one replica,
// one of them on broker id, that have a state and whose topic is not being
// deleted, into those the broker leads and those it follows (sorted).
func (c *Controller) replicatedPartitionsOn(id model.BrokerID) (led, followed []model.TopicPartition) {
	for t, ts := range c.st.topics {
		if c.st.deleting[t] != nil {
			continue
		}
		for p, replicas := range ts.partitions {
			if len(replicas) <= 1 || !slices.Contains(replicas, id) {
				continue
			}
			s, ok := ts.states[p]
			if !ok {
				continue
			}
			tp := model.TopicPartition{Topic: t, Partition: p}
			if s.Leader == id {
				led = append(led, tp)
			} else {
				followed = append(followed, tp)
			}
		}
	}
	slices.SortFunc(led, model.CompareTopicPartitions)
	slices.SortFunc(followed, model.CompareTopicPartitions)
	return led, followed
}

// electAwayFrom runs Kafka's controlled-shutdown election on partitions led
// by a shutting-down broker; those without another eligible ISR member keep
// their leader (the broker is told they remain).
func (c *Controller) electAwayFrom(tps []model.TopicPartition) {
	updates := map[string]map[int32]model.LeaderAndISR{}
	for _, tp := range tps {
		ts := c.st.topics[tp.Topic]
		s := ts.states[tp.Partition]
		e, ok := electControlledShutdown(ts.partitions[tp.Partition], s.ISR, c.isLive, c.isShuttingDown)
		if !ok {
			c.log.Warn().Str("partition", tp.String()).Int32("leader", int32(s.Leader)).Interface("isr", s.ISR).
				Msg("controlled shutdown: no other live ISR member to lead; the leader stays")
			continue
		}
		n := s
		n.Leader, n.ISR, n.LeaderEpoch, n.ControllerEpoch = e.leader, e.isr, s.LeaderEpoch+1, c.st.fence.Epoch
		if updates[tp.Topic] == nil {
			updates[tp.Topic] = map[int32]model.LeaderAndISR{}
		}
		updates[tp.Topic][tp.Partition] = n
	}
	c.applyUpdates(updates, "controlled shutdown leader election")
}

// stopReplicas sends StopReplica(delete=false) for the partitions to one
// broker: it stops fetching them but keeps their logs.
func (c *Controller) stopReplicas(to model.BrokerID, tps []model.TopicPartition) {
	if len(tps) == 0 {
		return
	}
	req := kmsg.NewPtrStopReplicaRequest()
	req.Version = stopReplicaVersion
	req.ControllerID = int32(c.opts.BrokerID)
	req.ControllerEpoch = c.st.fence.Epoch
	req.BrokerEpoch = c.st.live[to].Epoch
	for _, tp := range tps {
		if n := len(req.Topics); n == 0 || req.Topics[n-1].Topic != tp.Topic {
			t := kmsg.NewStopReplicaRequestTopic()
			t.Topic = tp.Topic
			req.Topics = append(req.Topics, t)
		}
		ps := kmsg.NewStopReplicaRequestTopicPartitionState()
		ps.Partition = tp.Partition
		ps.LeaderEpoch = int32(c.st.topics[tp.Topic].states[tp.Partition].LeaderEpoch)
		ps.Delete = false
		t := &req.Topics[len(req.Topics)-1]
		t.PartitionStates = append(t.PartitionStates, ps)
	}
	c.send(to, req, func(r kmsg.Response, err error) {
		if err != nil {
			return
		}
		resp := r.(*kmsg.StopReplicaResponse)
		if resp.ErrorCode != 0 {
			c.log.Warn().Int32("peer", int32(to)).Str("error", kerr.ErrorForCode(resp.ErrorCode).Error()).Msg("StopReplica refused")
			return
		}
		for _, p := range resp.Partitions {
			if p.ErrorCode != 0 {
				c.log.Warn().Int32("peer", int32(to)).Str("topic", p.Topic).Int32("partition", p.Partition).
					Str("error", kerr.ErrorForCode(p.ErrorCode).Error()).Msg("StopReplica failed for a partition")
			}
		}
	})
}
