package api

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// offsetForLeaderEpoch answers OffsetForLeaderEpoch (key 23): for each
// partition, the end offset of the requested leader epoch on its leader
// (replica.Manager.LastOffsetForLeaderEpoch). Topics and partitions are
// answered in request order. Kafka ignores the replica id (v3+): consumers
// and followers get the same answers. CurrentLeaderEpoch exists from v2;
// before that the request carries none (-1). v0 answers have no leader
// epoch; kmsg leaves it out by version.
func (h *Handler) offsetForLeaderEpoch(req *kmsg.OffsetForLeaderEpochRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	resp.Topics = make([]kmsg.OffsetForLeaderEpochResponseTopic, 0, len(req.Topics))
	for _, rt := range req.Topics {
		t := kmsg.NewOffsetForLeaderEpochResponseTopic()
		t.Topic = rt.Topic
		t.Partitions = make([]kmsg.OffsetForLeaderEpochResponseTopicPartition, 0, len(rt.Partitions))
		for _, rp := range rt.Partitions {
			p := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			p.Partition = rp.Partition
			current := int32(-1)
			if req.Version >= 2 {
				current = rp.CurrentLeaderEpoch
			}
			tp := model.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
			res, err := h.d.Replicas.LastOffsetForLeaderEpoch(tp, current, rp.LeaderEpoch, h.knownPartition)
			if err != nil {
				p.ErrorCode = errorCode(err)
			} else {
				p.LeaderEpoch, p.EndOffset = int32(res.Epoch), int64(res.EndOffset)
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}
