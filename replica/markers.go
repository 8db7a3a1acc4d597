package replica

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
)

// TxnMarker is one marker of a WriteTxnMarkers request: the end of a
// producer's transaction on some partitions.
type TxnMarker struct {
	ProducerID       int64
	ProducerEpoch    int16
	Commit           bool
	CoordinatorEpoch int32
	Partitions       []model.TopicPartition
}

// TxnMarkerResult is one partition's outcome of a marker.
type TxnMarkerResult struct {
	TP  model.TopicPartition
	Err error
}

// WriteTxnMarkers appends the COMMIT or ABORT control batch of each marker
// to each of its partitions (Kafka's handleWriteTxnMarkersRequest): a
// partition this broker does not host answers UNKNOWN_TOPIC_OR_PARTITION;
// the others are appended as the coordinator's writes with acks=all (the
// leader check, min.insync.replicas, the producer's epoch —
// INVALID_PRODUCER_EPOCH — and the coordinator epoch —
// TRANSACTION_COORDINATOR_FENCED — apply) and answered once replicated, or
// with REQUEST_TIMED_OUT after timeout. Each marker closes the producer's
// transaction in the partition's producer state; an ABORT adds it to the
// segment's .txnindex. Results follow the request's order.
func (m *Manager) WriteTxnMarkers(ctx context.Context, timeout time.Duration, markers []TxnMarker) [][]TxnMarkerResult {
	out := make([][]TxnMarkerResult, len(markers))
	type slot struct{ m, p int }
	var parts []ProducePartition
	var slots []slot
	now := m.opts.Now()
	for mi, mk := range markers {
		out[mi] = make([]TxnMarkerResult, len(mk.Partitions))
		typ := record.ControlAbort
		if mk.Commit {
			typ = record.ControlCommit
		}
		for pi, tp := range mk.Partitions {
			out[mi][pi].TP = tp
			if _, ok := m.Partition(tp); !ok {
				out[mi][pi].Err = fmt.Errorf("this broker does not host %s: %w", tp, kerr.UnknownTopicOrPartition)
				continue
			}
			b, err := record.BuildEndTxnMarker(mk.ProducerID, mk.ProducerEpoch, typ, mk.CoordinatorEpoch, now)
			if err != nil {
				out[mi][pi].Err = fmt.Errorf("building the %v marker for %s: %w", typ, tp, kerr.UnknownServerError)
				continue
			}
			parts = append(parts, ProducePartition{TP: tp, Records: b})
			slots = append(slots, slot{mi, pi})
		}
	}
	if len(parts) == 0 {
		return out
	}
	for i, r := range m.Produce(ctx, -1, timeout, parts, record.FromCoordinator) {
		out[slots[i].m][slots[i].p].Err = r.Err
	}
	return out
}
