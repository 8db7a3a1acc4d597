package api

import "github.com/twmb/franz-go/pkg/kmsg"

// listGroups serves ListGroups (key 16), with the state filter of v4+.
func (h *Handler) listGroups(req *kmsg.ListGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
	var states []string
	if req.Version >= 4 {
		states = req.StatesFilter
	}
	groups, err := h.d.Groups.ListGroups(states)
	resp.ErrorCode = errorCode(err)
	for _, g := range groups {
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState = g.ID, g.ProtocolType, g.State
		resp.Groups = append(resp.Groups, lg)
	}
	return resp
}
