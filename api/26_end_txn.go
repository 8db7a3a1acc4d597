package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// endTxn serves EndTxn (key 26): commit or abort; the answer comes once
// the prepared state is written, the markers follow.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
func (h *Handler) endTxn(ctx context.Context, req *kmsg.EndTxnRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	if h.d.Txn == nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	err := h.d.Txn.EndTxn(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit)
	resp.ErrorCode = fencedCode(err, req.Version < 2)
	return resp
}
