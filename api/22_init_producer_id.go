package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// initProducerID answers InitProducerId (key 22). An idempotent producer
// (no transactional id) always gets a fresh producer id with epoch 0, as
// Kafka's coordinator does for a null transactional id, whatever id and
// epoch it sends (v3+, KIP-360); the two must be both set or both -1
// (INVALID_REQUEST). Transactional ids need the transaction coordinator,
// which does not exist yet: COORDINATOR_NOT_AVAILABLE, as FindCoordinator
// answers for them.
func (h *Handler) initProducerID(ctx context.Context, req *kmsg.InitProducerIDRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if (req.ProducerID == -1) != (req.ProducerEpoch == -1) {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return resp
	}
	if req.TransactionalID != nil {
		h.log.Info().Str("transactionalId", *req.TransactionalID).Msg("InitProducerId for a transactional id: transactions are not supported yet")
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
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
