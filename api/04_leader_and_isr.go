package api

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/replica"
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

// moveCoordinators tells the group coordinator about __consumer_offsets
// partitions this request made this broker lead (load them) or follow
// (unload them), as Kafka's onLeadershipChange does.
func (h *Handler) moveCoordinators(req *kmsg.LeaderAndISRRequest, results []replica.PartitionResult) {
	if h.d.Groups == nil {
		return
	}
	failed := map[int32]bool{}
	for _, r := range results {
		if r.TP.Topic == group.OffsetsTopic && r.Err != nil {
			failed[r.TP.Partition] = true
		}
	}
	apply := func(topic string, p kmsg.LeaderAndISRRequestTopicPartition) {
		if topic != group.OffsetsTopic || failed[p.Partition] {
			return
		}
		if model.BrokerID(p.Leader) == h.d.BrokerID {
			h.d.Groups.Elect(p.Partition, p.LeaderEpoch)
		} else {
			h.d.Groups.Resign(p.Partition, p.LeaderEpoch)
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
