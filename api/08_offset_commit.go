package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/model"
)

// offsetCommit serves OffsetCommit (key 8). Partitions of topics this
// broker does not know get UNKNOWN_TOPIC_OR_PARTITION; the rest go to the
// group coordinator. v0 commits (which Kafka keeps in ZooKeeper) are kept
// in __consumer_offsets like every other version.
func (h *Handler) offsetCommit(ctx context.Context, req *kmsg.OffsetCommitRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	cr := group.CommitRequest{Group: req.Group, MemberID: req.MemberID, InstanceID: req.InstanceID,
		Generation: req.Generation, RetentionMs: -1}
	if req.Version == 0 {
		cr.Generation, cr.MemberID = -1, ""
	}
	if req.Version >= 2 && req.Version <= 4 {
		cr.RetentionMs = req.RetentionTimeMillis
	}
	type slot struct{ t, p, i int }
	var slots []slot
	for ti, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for pi, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
			if !h.knownPartition(model.TopicPartition{Topic: t.Topic, Partition: p.Partition}) {
				rt.Partitions[pi].ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			o := group.CommitOffset{Topic: t.Topic, Partition: p.Partition, Offset: p.Offset, LeaderEpoch: -1, Timestamp: -1}
			if p.Metadata != nil {
				o.Metadata = *p.Metadata
			}
			if req.Version >= 6 {
				o.LeaderEpoch = p.LeaderEpoch
			}
			if req.Version == 1 {
				o.Timestamp = p.Timestamp
			}
			slots = append(slots, slot{ti, pi, len(cr.Offsets)})
			cr.Offsets = append(cr.Offsets, o)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(cr.Offsets) == 0 {
		return resp
	}
	errs := h.d.Groups.CommitOffsets(ctx, cr)
	for _, s := range slots {
		resp.Topics[s.t].Partitions[s.p].ErrorCode = errorCode(errs[s.i])
	}
	return resp
}
