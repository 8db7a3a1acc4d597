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
	for topic, c := range h.coordinators() {
		epochs := stopReplicaEpochs(req, topic)
		for _, r := range results {
			if r.TP.Topic == topic && r.Err == nil {
				c.Resign(r.TP.Partition, epochs[r.TP.Partition])
			}
		}
	}
	for _, r := range results {
		p := kmsg.NewStopReplicaResponsePartition()
		p.Topic, p.Partition, p.ErrorCode = r.TP.Topic, r.TP.Partition, errorCode(r.Err)
		resp.Partitions = append(resp.Partitions, p)
	}
	return resp
}

// stopReplicaEpochs maps the partitions of an internal topic in a
// StopReplica to their leader epochs (-1, "any", before v3).
func stopReplicaEpochs(req *kmsg.StopReplicaRequest, topic string) map[int32]int32 {
	out := map[int32]int32{}
	for _, t := range req.Topics {
		if t.Topic != topic {
			continue
		}
		out[t.Partition] = -1
		for _, p := range t.Partitions {
			out[p] = -1
		}
		for _, ps := range t.PartitionStates {
			out[ps.Partition] = ps.LeaderEpoch
		}
	}
	return out
}
