package api

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// leaderAndIsr applies the controller's LeaderAndIsr (key 4).
func (h *Handler) leaderAndIsr(req *kmsg.LeaderAndISRRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.LeaderAndISRResponse)
	results, err := h.d.Replicas.LeaderAndIsr(req)
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
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
