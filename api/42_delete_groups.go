package api

import "github.com/twmb/franz-go/pkg/kmsg"

// deleteGroups serves DeleteGroups (key 42): Empty groups only.
func (h *Handler) deleteGroups(req *kmsg.DeleteGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
	for _, id := range req.Groups {
		g := kmsg.NewDeleteGroupsResponseGroup()
		g.Group, g.ErrorCode = id, errorCode(h.d.Groups.DeleteGroup(id))
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}
