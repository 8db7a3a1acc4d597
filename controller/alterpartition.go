package controller

import (
	"context"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// AlterPartition handles a leader's ISR changes (Kafka's
// processAlterPartition in ZooKeeper mode). The request runs as an event of
// the controller's loop; the call blocks until it has (or ctx ends, which
// answers REQUEST_TIMED_OUT).
func (c *Controller) AlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) *kmsg.AlterPartitionResponse {
	done := make(chan *kmsg.AlterPartitionResponse, 1)
	c.enqueue(func() {
		var resp *kmsg.AlterPartitionResponse
		defer func() {
			// Also when a fenced write made the loop resign mid-way.
			if resp == nil {
				resp = req.ResponseKind().(*kmsg.AlterPartitionResponse)
				resp.ErrorCode = kerr.NotController.Code
			}
			done <- resp
		}()
		resp = c.processAlterPartition(req)
	})
	select {
	case resp := <-done:
		return resp
	case <-ctx.Done():
	case <-c.done:
	}
	resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
	resp.ErrorCode = kerr.RequestTimedOut.Code
	return resp
}

// alterItem is one partition of an AlterPartition request.
type alterItem struct {
	tp       model.TopicPartition
	id       model.TopicID
	proposed model.LeaderAndISR
	err      *kerr.Error
	result   model.LeaderAndISR
}

// ineligibleCode is the answer for an ISR naming a broker that is not
// live: INELIGIBLE_REPLICA from v2, OPERATION_NOT_ATTEMPTED before.
func ineligibleCode(version int16) *kerr.Error {
	if version > 1 {
		return kerr.IneligibleReplica
	}
	return kerr.OperationNotAttempted
}

func (c *Controller) processAlterPartition(req *kmsg.AlterPartitionRequest) *kmsg.AlterPartitionResponse {
	resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
	resp.Version = req.Version
	if c.st == nil {
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	from := model.BrokerID(req.BrokerID)
	reg, ok := c.st.live[from]
	if !ok || reg.Epoch != req.BrokerEpoch {
		c.log.Info().Int32("broker", req.BrokerID).Int64("brokerEpoch", req.BrokerEpoch).Msg("rejecting AlterPartition: unknown broker or stale broker epoch")
		resp.ErrorCode = kerr.StaleBrokerEpoch.Code
		return resp
	}
	items := c.alterItems(req)
	writes := map[string]map[int32]model.LeaderAndISR{}
	for _, it := range items {
		if it.err != nil {
			continue
		}
		c.validateAlter(it, req.Version)
		if it.err == nil && it.result.PartitionEpoch < 0 {
			if writes[it.tp.Topic] == nil {
				writes[it.tp.Topic] = map[int32]model.LeaderAndISR{}
			}
			writes[it.tp.Topic][it.tp.Partition] = it.proposed
		}
	}
	written := c.writeAlters(writes, items)
	if len(written) > 0 {
		c.sendUpdateMetadata(c.liveIDs(), written)
	}
	return alterResponse(resp, req.Version, items)
}

// alterItems flattens the request, resolving topic ids (v2+) and marking
// unknown topics and partitions.
func (c *Controller) alterItems(req *kmsg.AlterPartitionRequest) []*alterItem {
	var out []*alterItem
	for _, t := range req.Topics {
		name, id := t.Topic, model.TopicID(t.TopicID)
		var ts *topicState
		if req.Version >= 2 {
			name = ""
			for n, s := range c.st.topics {
				if s.id == id {
					name, ts = n, s
					break
				}
			}
		} else {
			ts = c.st.topics[name]
		}
		for _, p := range t.Partitions {
			it := &alterItem{tp: model.TopicPartition{Topic: name, Partition: p.Partition}, id: id}
			isr := toBrokerIDs(p.NewISR)
			if req.Version >= 3 {
				isr = nil
				for _, e := range p.NewEpochISR {
					isr = append(isr, model.BrokerID(e.BrokerID))
				}
			}
			it.proposed = model.LeaderAndISR{
				Leader: model.BrokerID(req.BrokerID), LeaderEpoch: model.LeaderEpoch(p.LeaderEpoch), ISR: isr,
				ControllerEpoch: c.st.fence.Epoch, PartitionEpoch: p.PartitionEpoch, LeaderRecoveryState: p.LeaderRecoveryState,
			}
			it.result.PartitionEpoch = -1
			switch {
			case ts == nil && req.Version >= 2:
				it.err = kerr.UnknownTopicID
			case ts == nil || c.st.deleting[name] != nil:
				it.err = kerr.UnknownTopicOrPartition
			}
			out = append(out, it)
		}
	}
	return out
}

// validateAlter applies Kafka's checks, in Kafka's order, to one partition.
// An identical state is answered at once (idempotent retries); a valid
// change is left with result.PartitionEpoch = -1 for writing.
func (c *Controller) validateAlter(it *alterItem, version int16) {
	cur, ok := c.st.topics[it.tp.Topic].states[it.tp.Partition]
	n := it.proposed
	switch {
	case !ok:
		it.err = kerr.UnknownTopicOrPartition
	case n.PartitionEpoch > cur.PartitionEpoch || n.LeaderEpoch > cur.LeaderEpoch:
		// The leader knows a newer state than ours: we are likely no
		// longer the controller.
		it.err = kerr.NotController
	case n.LeaderEpoch < cur.LeaderEpoch:
		it.err = kerr.FencedLeaderEpoch
	case n.Leader == cur.Leader && slices.Equal(n.ISR, cur.ISR) && n.LeaderRecoveryState == cur.LeaderRecoveryState:
		it.result = cur
	case n.PartitionEpoch < cur.PartitionEpoch:
		it.err = kerr.InvalidUpdateVersion
	case !slices.Contains(n.ISR, n.Leader):
		it.err = kerr.InvalidRequest
	case n.LeaderRecoveryState == 1 && len(n.ISR) > 1:
		it.err = kerr.InvalidRequest
	case cur.LeaderRecoveryState == 0 && n.LeaderRecoveryState == 1:
		it.err = kerr.InvalidRequest
	default:
		for _, b := range n.ISR {
			if !c.isEligible(b) { // registered and not shutting down
				it.err = ineligibleCode(version)
				break
			}
		}
	}
	if it.err != nil {
		c.log.Info().Str("partition", it.tp.String()).Int32("broker", int32(n.Leader)).Interface("isr", n.ISR).
			Int32("leaderEpoch", int32(n.LeaderEpoch)).Int32("partitionEpoch", n.PartitionEpoch).
			Str("error", it.err.Message).Msg("rejecting AlterPartition")
	}
}

// writeAlters writes the accepted changes (fenced, conditional on the
// partition epoch); a version conflict is INVALID_UPDATE_VERSION. It
// returns the partitions written.
func (c *Controller) writeAlters(writes map[string]map[int32]model.LeaderAndISR, items []*alterItem) []model.TopicPartition {
	var done []model.TopicPartition
	byTP := map[model.TopicPartition]*alterItem{}
	for _, it := range items {
		byTP[it.tp] = it
	}
	for topic, states := range writes {
		ts := c.st.topics[topic]
		epochs, bad, err := c.zk.UpdatePartitionStates(c.ctx, c.st.fence, topic, states)
		if !c.check(err, "writing ISR changes") {
			for p := range states {
				if _, ok := epochs[p]; !ok {
					byTP[model.TopicPartition{Topic: topic, Partition: p}].err = kerr.NotController
				}
			}
		}
		for p, e := range epochs {
			s := states[p]
			s.PartitionEpoch = e
			ts.states[p] = s
			byTP[model.TopicPartition{Topic: topic, Partition: p}].result = s
			done = append(done, model.TopicPartition{Topic: topic, Partition: p})
			c.log.Info().Str("topic", topic).Int32("partition", p).Interface("isr", s.ISR).
				Int32("leaderEpoch", int32(s.LeaderEpoch)).Int32("partitionEpoch", e).Msg("ISR change written")
		}
		for _, p := range bad {
			byTP[model.TopicPartition{Topic: topic, Partition: p}].err = kerr.InvalidUpdateVersion
		}
		if len(bad) > 0 {
			fresh, err := c.zk.GetPartitionStates(c.ctx, topic, bad)
			if c.check(err, "re-reading partition states") {
				for p, s := range fresh {
					ts.states[p] = s
				}
			}
		}
	}
	model.SortTopicPartitions(done)
	return done
}

func alterResponse(resp *kmsg.AlterPartitionResponse, version int16, items []*alterItem) *kmsg.AlterPartitionResponse {
	index := map[string]int{}
	for _, it := range items {
		key := it.tp.Topic
		if version >= 2 {
			key = string(it.id[:])
		}
		i, ok := index[key]
		if !ok {
			t := kmsg.NewAlterPartitionResponseTopic()
			t.Topic, t.TopidID = it.tp.Topic, it.id
			resp.Topics = append(resp.Topics, t)
			i = len(resp.Topics) - 1
			index[key] = i
		}
		p := kmsg.NewAlterPartitionResponseTopicPartition()
		p.Partition = it.tp.Partition
		if it.err != nil {
			p.ErrorCode = it.err.Code
		} else {
			r := it.result
			p.LeaderID, p.LeaderEpoch, p.PartitionEpoch, p.LeaderRecoveryState = int32(r.Leader), int32(r.LeaderEpoch), r.PartitionEpoch, r.LeaderRecoveryState
			p.ISR = toInt32s(r.ISR)
		}
		resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
	}
	return resp
}

func toBrokerIDs(ids []int32) []model.BrokerID {
	out := make([]model.BrokerID, len(ids))
	for i, v := range ids {
		out[i] = model.BrokerID(v)
	}
	return out
}
