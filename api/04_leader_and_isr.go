package api

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/replica"
	"github.com/kbroker/kbroker/txn"
)

// leaderAndIsr applies the controller's LeaderAndIsr (key 4).
func (h *Handler) leaderAndIsr(req *kmsg.LeaderAndISRRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.LeaderAndISRResponse)
	results, err := h.d.Replicas.LeaderAndIsr(req)
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	h.moveCoordinators(req, results)
	if req.Version >= 5 {
		idx := map[model.TopicID]int{}
		for _, r := range results {
			i, ok := idx[r.TopicID]
			if !ok {
				t := kmsg.NewLeaderAndISRResponseTopic()
				t.TopicID = r.TopicID
				resp.Topics = append(resp.Topics, t)
				i = len(resp.Topics) - 1
				idx[r.TopicID] = i
			}
			p := kmsg.NewLeaderAndISRResponseTopicPartition()
			p.Partition, p.ErrorCode = r.TP.Partition, errorCode(r.Err)
			resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
		}
		return resp
	}
	for _, r := range results {
		p := kmsg.NewLeaderAndISRResponseTopicPartition()
		p.Topic, p.Partition, p.ErrorCode = r.TP.Topic, r.TP.Partition, errorCode(r.Err)
		resp.Partitions = append(resp.Partitions, p)
	}
	return resp
}

// moveCoordinators tells the group and transaction coordinators about
// __consumer_offsets and __transaction_state partitions this request made
// this broker lead (load them) or follow (unload them), as Kafka's
// onLeadershipChange does.
func (h *Handler) moveCoordinators(req *kmsg.LeaderAndISRRequest, results []replica.PartitionResult) {
	coords := h.coordinators()
	if len(coords) == 0 {
		return
	}
	failed := map[model.TopicPartition]bool{}
	for _, r := range results {
		if r.Err != nil {
			failed[r.TP] = true
		}
	}
	apply := func(topic string, p kmsg.LeaderAndISRRequestTopicPartition) {
		c, ok := coords[topic]
		if !ok || failed[model.TopicPartition{Topic: topic, Partition: p.Partition}] {
			return
		}
		if model.BrokerID(p.Leader) == h.d.BrokerID {
			c.Elect(p.Partition, p.LeaderEpoch)
		} else {
			c.Resign(p.Partition, p.LeaderEpoch)
		}
	}
	for _, p := range req.PartitionStates {
		apply(p.Topic, p)
	}
	for _, t := range req.TopicStates {
		for _, p := range t.PartitionStates {
			apply(t.Topic, p)
		}
	}
}

// coordinator is what the group and transaction coordinators share:
// loading a partition of their internal topic on leadership, unloading it
// when leadership moves or the replica stops.
type coordinator interface {
	Elect(p, epoch int32)
	Resign(p, epoch int32)
}

// coordinators maps the internal topics to their coordinators.
func (h *Handler) coordinators() map[string]coordinator {
	out := map[string]coordinator{}
	if h.d.Groups != nil {
		out[group.OffsetsTopic] = h.d.Groups
	}
	if h.d.Txn != nil {
		out[txn.StateTopic] = h.d.Txn
	}
	return out
}
