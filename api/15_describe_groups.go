package api

import "github.com/twmb/franz-go/pkg/kmsg"

// describeGroups serves DescribeGroups (key 15). Authorized operations
// (v3+) are not computed: kbroker has no ACLs, so the field keeps its
// "not requested" value.
func (h *Handler) describeGroups(req *kmsg.DescribeGroupsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range req.Groups {
		g, err := h.d.Groups.DescribeGroup(id)
		g.ErrorCode = errorCode(err)
		resp.Groups = append(resp.Groups, g)
	}
	return resp
}
