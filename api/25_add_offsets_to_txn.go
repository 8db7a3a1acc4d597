package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/model"
)

// addOffsetsToTxn serves AddOffsetsToTxn (key 25): the group's
// __consumer_offsets partition joins the transaction, so the commit or
// abort marker reaches the offsets committed with TxnOffsetCommit.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
func (h *Handler) addOffsetsToTxn(ctx context.Context, req *kmsg.AddOffsetsToTxnRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	if h.d.Txn == nil || h.d.Groups == nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	p, ok := h.d.Groups.PartitionOf(req.Group)
	if !ok {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	tp := model.TopicPartition{Topic: group.OffsetsTopic, Partition: p}
	err := h.d.Txn.AddPartitions(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, []model.TopicPartition{tp})
	resp.ErrorCode = fencedCode(err, req.Version < 2)
	return resp
}
