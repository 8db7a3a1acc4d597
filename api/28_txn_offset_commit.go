package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/model"
)

// txnOffsetCommit serves TxnOffsetCommit (key 28): offsets committed in a
// transaction, pending on the group coordinator until the transaction's
// marker reaches the group's __consumer_offsets partition. Partitions of
// topics this broker does not know get UNKNOWN_TOPIC_OR_PARTITION; the
// member fields (v3+) are checked when given.
func (h *Handler) txnOffsetCommit(ctx context.Context, req *kmsg.TxnOffsetCommitRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	tr := group.TxnCommitRequest{Group: req.Group, TransactionalID: req.TransactionalID,
		ProducerID: req.ProducerID, ProducerEpoch: req.ProducerEpoch, Generation: -1}
	if req.Version >= 3 {
		tr.MemberID, tr.InstanceID, tr.Generation = req.MemberID, req.InstanceID, req.Generation
	}
	type slot struct{ t, p, i int }
	var slots []slot
	for ti, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for pi, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
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
			if req.Version >= 2 {
				o.LeaderEpoch = p.LeaderEpoch
			}
			slots = append(slots, slot{ti, pi, len(tr.Offsets)})
			tr.Offsets = append(tr.Offsets, o)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(tr.Offsets) == 0 {
		return resp
	}
	errs := h.d.Groups.CommitTxnOffsets(ctx, tr)
	for _, s := range slots {
		resp.Topics[s.t].Partitions[s.p].ErrorCode = errorCode(errs[s.i])
	}
	return resp
}
