package api

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// initProducerID answers InitProducerId (key 22). An idempotent producer
// (no transactional id) always gets a fresh producer id with epoch 0, as
// Kafka's coordinator does for a null transactional id, whatever id and
// epoch it sends (v3+, KIP-360); the two must be both set or both -1
// (INVALID_REQUEST). A transactional id goes to the transaction
// coordinator (txn.Coordinator.InitProducerID); PRODUCER_FENCED becomes
// INVALID_PRODUCER_EPOCH before v4, as Kafka answers older clients.
func (h *Handler) initProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if (req.ProducerID == -1) != (req.ProducerEpoch == -1) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	if req.TransactionalID != nil {
		if h.d.Txn == nil {
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
			return resp
		}
		pid, epoch, err := h.d.Txn.InitProducerID(ctx, *req.TransactionalID, req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch)
		if err != nil {
			resp.ErrorCode = fencedCode(err, req.Version < 4)
			return resp
		}
		resp.ProducerID, resp.ProducerEpoch = pid, epoch
		return resp
	}
	if h.d.ProducerIDs == nil {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	id, err := h.d.ProducerIDs.Next(ctx)
	if err != nil {
		h.log.Error().Err(err).Msg("InitProducerId: no producer id could be allocated")
		resp.ErrorCode = kerr.UnknownServerError.Code
		return resp
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return resp
}

// fencedCode is the code of a coordinator error, with PRODUCER_FENCED
// answered as INVALID_PRODUCER_EPOCH to versions from before KIP-588.
func fencedCode(err error, old bool) int16 {
	if old && errors.Is(err, kerr.ProducerFenced) {
		return kerr.InvalidProducerEpoch.Code
	}
	return errorCode(err)
}
