package api

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// stopReplica applies the controller's StopReplica (key 5).
func (h *Handler) stopReplica(req *kmsg.StopReplicaRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.StopReplicaResponse)
	results, err := h.d.Replicas.StopReplica(req)
	if err != nil {
		resp.ErrorCode = errorCode(err)
		return resp
	}
	for _, r := range results {
		p := kmsg.NewStopReplicaResponsePartition()
		p.Topic, p.Partition, p.ErrorCode = r.TP.Topic, r.TP.Partition, errorCode(r.Err)
		resp.Partitions = append(resp.Partitions, p)
	}
	return resp
}
