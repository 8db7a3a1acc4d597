package api

import "github.com/twmb/franz-go/pkg/kmsg"

// heartbeat serves Heartbeat (key 12).
func (h *Handler) heartbeat(req *kmsg.HeartbeatRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	resp.ErrorCode = errorCode(h.d.Groups.Heartbeat(req))
	return resp
}
