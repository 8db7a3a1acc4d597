package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// controlledShutdown hands a broker's ControlledShutdown (key 7) to the
// active controller; any other broker answers NOT_CONTROLLER.
func (h *Handler) controlledShutdown(ctx context.Context, req *kmsg.ControlledShutdownRequest) kmsg.Response {
	if h.d.Controller == nil || h.d.IsController == nil || !h.d.IsController() {
		resp := req.ResponseKind().(*kmsg.ControlledShutdownResponse)
		resp.ErrorCode = kerr.NotController.Code
		return resp
	}
	resp := h.d.Controller.ControlledShutdown(ctx, req)
	resp.Version = req.Version
	return resp
}
