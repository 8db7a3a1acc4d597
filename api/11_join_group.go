package api

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/netserver"
)

// joinGroup serves JoinGroup (key 11); it waits until the group's join
// phase ends.
func (h *Handler) joinGroup(ctx context.Context, nr *netserver.Request, req *kmsg.JoinGroupRequest) kmsg.Response {
	resp, err := h.d.Groups.JoinGroup(ctx, group.JoinRequest{JoinGroupRequest: req, ClientID: nr.ClientID, ClientHost: clientHost(nr.Conn)})
	resp.ErrorCode = errorCode(err)
	switch {
	case req.Version < 7:
		if resp.Protocol == nil {
			resp.Protocol = new(string) // not nullable before v7
		}
	case err != nil:
		resp.ProtocolType, resp.Protocol = nil, nil
	}
	return resp
}

// clientHost is the client's address as Kafka records it for a member:
// "/" and the IP.
func clientHost(c *netserver.Conn) string {
	if c == nil || c.Remote == nil {
		return ""
	}
	if a, ok := c.Remote.(*net.TCPAddr); ok {
		return "/" + a.IP.String()
	}
	return "/" + c.Remote.String()
}
