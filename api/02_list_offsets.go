package api

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

func (h *Handler) listOffsets(req *kmsg.ListOffsetsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		t := kmsg.NewListOffsetsResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewListOffsetsResponseTopicPartition()
			p.Partition = rp.Partition
			tp := model.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
			current := int32(-1)
			if req.Version >= 4 {
				current = rp.CurrentLeaderEpoch
			}
			var err error
			var found partition.OffsetLookup
			if !h.knownPartition(tp) {
				err = kerr.UnknownTopicOrPartition
			} else if part, ok := h.d.Replicas.Partition(tp); !ok {
				err = kerr.NotLeaderForPartition
			} else {
				found, err = part.OffsetForTimestamp(rp.Timestamp, req.IsolationLevel, current, req.ReplicaID >= 0)
			}
			if err != nil {
				p.ErrorCode = errorCode(err)
				if req.Version == 0 {
					p.OldStyleOffsets = []int64{}
				}
			} else if req.Version == 0 {
				// v0 answers a list of offsets (at most MaxNumOffsets).
				p.OldStyleOffsets = []int64{}
				if found.Offset >= 0 && rp.MaxNumOffsets > 0 {
					p.OldStyleOffsets = append(p.OldStyleOffsets, found.Offset)
				}
			} else {
				p.Offset, p.Timestamp, p.LeaderEpoch = found.Offset, found.Timestamp, found.LeaderEpoch
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}
