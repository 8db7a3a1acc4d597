package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// alterPartition hands a leader's AlterPartition (key 56) to the active
// controller; any other broker answers NOT_CONTROLLER.
func (h *Handler) alterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) kmsg.Response {
	if h.d.Controller == nil || h.d.IsController == nil || !h.d.IsController() {
		resp := req.ResponseKind().(*kmsg.AlterPartitionResponse)
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	resp := h.d.Controller.AlterPartition(ctx, req)
	resp.Version = req.Version
	return resp
}
