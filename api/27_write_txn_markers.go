package api

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/replica"
)

// markerTimeout is how long the markers wait for replication: Kafka uses
// the broker's request.timeout.ms (30 s by default).
const markerTimeout = 30 * time.Second

// writeTxnMarkers serves the transaction coordinator: each marker's COMMIT
// or ABORT control batch is appended to its partitions on this broker (the
// leader) with acks=all, and every partition answers its own error code
// (UNKNOWN_TOPIC_OR_PARTITION when not hosted here, NOT_LEADER_OR_FOLLOWER,
// NOT_ENOUGH_REPLICAS(_AFTER_APPEND), INVALID_PRODUCER_EPOCH,
// TRANSACTION_COORDINATOR_FENCED, REQUEST_TIMED_OUT). As in Kafka's
// response, the partitions are grouped by producer id.
func (h *Handler) writeTxnMarkers(ctx context.Context, req *kmsg.WriteTxnMarkersRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	markers := make([]replica.TxnMarker, len(req.Markers))
	for i, rm := range req.Markers {
		mk := replica.TxnMarker{ProducerID: rm.ProducerID, ProducerEpoch: rm.ProducerEpoch, Commit: rm.Committed, CoordinatorEpoch: rm.CoordinatorEpoch}
		for _, t := range rm.Topics {
			for _, p := range t.Partitions {
				mk.Partitions = append(mk.Partitions, model.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
		markers[i] = mk
	}
	results := h.d.Replicas.WriteTxnMarkers(ctx, markerTimeout, markers)
	byPID := map[int64]int{}
	for i, rs := range results {
		mk := markers[i]
		ri, ok := byPID[mk.ProducerID]
		if !ok {
			m := kmsg.NewWriteTxnMarkersResponseMarker()
			m.ProducerID = mk.ProducerID
			resp.Markers = append(resp.Markers, m)
			ri = len(resp.Markers) - 1
			byPID[mk.ProducerID] = ri
		}
		m := &resp.Markers[ri]
		for _, r := range rs {
			ti := -1
			for j := range m.Topics {
				if m.Topics[j].Topic == r.TP.Topic {
					ti = j
					break
				}
			}
			if ti < 0 {
				t := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
				t.Topic = r.TP.Topic
				m.Topics = append(m.Topics, t)
				ti = len(m.Topics) - 1
			}
			p := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
			p.Partition = r.TP.Partition
			if r.Err != nil {
				p.ErrorCode = errorCode(r.Err)
				h.log.Debug().Err(r.Err).Str("topic", r.TP.Topic).Int32("partition", r.TP.Partition).Int64("producerId", mk.ProducerID).Msg("transaction marker failed")
			} else if h.d.TxnMarkerWritten != nil {
				h.d.TxnMarkerWritten(r.TP, mk.ProducerID, mk.Commit)
			}
			m.Topics[ti].Partitions = append(m.Topics[ti].Partitions, p)
		}
	}
	return resp
}
