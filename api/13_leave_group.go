package api

import "github.com/twmb/franz-go/pkg/kmsg"

// leaveGroup serves LeaveGroup (key 13): one member before v3 (its error
// is the top-level one), a batch of members from v3.
func (h *Handler) leaveGroup(req *kmsg.LeaveGroupRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := req.Members
	if req.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	errs, err := h.d.Groups.LeaveGroup(req.Group, leaving)
	resp.ErrorCode = errorCode(err)
	if err != nil {
		return resp
	}
	if req.Version < 3 {
		resp.ErrorCode = errorCode(errs[0])
		return resp
	}
	for i, l := range leaving {
		m := kmsg.NewLeaveGroupResponseMember()
		m.MemberID, m.InstanceID, m.ErrorCode = l.MemberID, l.InstanceID, errorCode(errs[i])
		resp.Members = append(resp.Members, m)
	}
	return resp
}
