package api

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/netserver"
)

func (h *Handler) describeCluster(nr *netserver.Request, req *kmsg.DescribeClusterRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	resp.EndpointType = req.EndpointType
	resp.ClusterID = h.d.ClusterID
	resp.ControllerID = int32(h.d.Cache.ControllerID())
	for _, b := range h.d.Cache.Brokers() {
		e, ok := b.Endpoint(nr.Conn.Listener)
		if !ok {
			continue
		}
		rb := kmsg.NewDescribeClusterResponseBroker()
		rb.NodeID, rb.Host, rb.Port, rb.Rack = int32(b.ID), e.Host, e.Port, b.Rack
		resp.Brokers = append(resp.Brokers, rb)
	}
	return resp
}
