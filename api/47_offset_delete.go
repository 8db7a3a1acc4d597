package api

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/model"
)

// offsetDelete serves OffsetDelete (key 47). Partitions of unknown topics
// get UNKNOWN_TOPIC_OR_PARTITION and are not passed on, as in Kafka.
func (h *Handler) offsetDelete(req *kmsg.OffsetDeleteRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	var known []group.TopicPartitions
	for _, t := range req.Topics {
		tp := group.TopicPartitions{Topic: t.Topic}
		for _, p := range t.Partitions {
			if h.knownPartition(model.TopicPartition{Topic: t.Topic, Partition: p.Partition}) {
				tp.Partitions = append(tp.Partitions, p.Partition)
			}
		}
		known = append(known, tp)
	}
	errs, err := h.d.Groups.DeleteOffsets(req.Group, known)
	resp.ErrorCode = errorCode(err)
	if err != nil {
		return resp
	}
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			if e, ok := errs[t.Topic][p.Partition]; ok {
				rp.ErrorCode = errorCode(e)
			} else {
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}
