package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// syncGroup serves SyncGroup (key 14); a follower waits for the leader's
// assignment.
func (h *Handler) syncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) kmsg.Response {
	resp, err := h.d.Groups.SyncGroup(ctx, req)
	resp.ErrorCode = errorCode(err)
	if err != nil {
		resp.ProtocolType, resp.Protocol = nil, nil
	}
	return resp
}
