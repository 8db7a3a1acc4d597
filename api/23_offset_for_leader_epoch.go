package api

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// offsetForLeaderEpoch answers OffsetForLeaderEpoch (key 23).
// Placeholder: every partition answers UNKNOWN_SERVER_ERROR until written.
func (h *Handler) offsetForLeaderEpoch(req *kmsg.OffsetForLeaderEpochRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	return resp
}
