package api

import (
	"context"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/netserver"
	"github.com/kbroker/kbroker/partition"
	"github.com/kbroker/kbroker/replica"
)

// fetch serves consumers and followers. Fetch sessions are not created: a
// full fetch is answered with session id 0 (always acceptable to clients),
// and an incremental fetch in a session gets FETCH_SESSION_ID_NOT_FOUND.
// Record data is sent with sendfile from the segment files.
func (h *Handler) fetch(ctx context.Context, nr *netserver.Request, req *kmsg.FetchRequest) *netserver.Response {
	resp := req.ResponseKind().(*kmsg.FetchResponse)
	if req.Version >= 7 && req.SessionID != 0 && req.SessionEpoch > 0 {
		resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
		return &netserver.Response{Msg: resp}
	}
	replicaID := req.ReplicaID
	if req.Version >= 15 {
		replicaID = req.ReplicaState.ID
	}
	maxBytes := int(req.MaxBytes)
	if req.Version < 3 {
		maxBytes = math.MaxInt32
	}
	type slot struct{ t, p int }
	var parts []replica.FetchPartition
	var slots []slot
	for ti, rt := range req.Topics {
		t := kmsg.NewFetchResponseTopic()
		t.Topic, t.TopicID = rt.Topic, rt.TopicID
		name := rt.Topic
		unknownID := false
		if req.Version >= 13 {
			n, ok := h.d.Cache.TopicByID(model.TopicID(rt.TopicID))
			name, unknownID = n, !ok
		}
		for pi, rp := range rt.Partitions {
			p := kmsg.NewFetchResponseTopicPartition()
			p.Partition = rp.Partition
			p.RecordBatches = []byte{}
			if req.IsolationLevel == partition.ReadCommitted {
				p.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
			}
			tp := model.TopicPartition{Topic: name, Partition: rp.Partition}
			switch {
			case unknownID:
				setFetchError(&p, kerr.UnknownTopicID)
			case req.Version < 4:
				// v0-v3 expect the legacy message format, which kbroker
				// neither stores nor converts to.
				setFetchError(&p, kerr.UnsupportedVersion)
			case !h.knownPartition(tp):
				setFetchError(&p, kerr.UnknownTopicOrPartition)
			case req.Version < 10 && replicaID < 0 && h.topicCompression(name) == "zstd":
				// Consumers learned zstd with Fetch v10; a topic
				// configured for zstd is refused to older ones
				// whatever its batches hold, as Kafka does.
				setFetchError(&p, kerr.UnsupportedCompressionType)
			default:
				lastFetched := int32(-1)
				if req.Version >= 12 {
					lastFetched = rp.LastFetchedEpoch
				}
				current := int32(-1)
				if req.Version >= 9 {
					current = rp.CurrentLeaderEpoch
				}
				parts = append(parts, replica.FetchPartition{TP: tp, Params: partition.FetchParams{
					ReplicaID: model.BrokerID(replicaID), FetchOffset: rp.FetchOffset, MaxBytes: int(rp.PartitionMaxBytes),
					CurrentLeaderEpoch: current, LastFetchedEpoch: lastFetched, Isolation: req.IsolationLevel,
				}})
				slots = append(slots, slot{ti, pi})
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	out := &netserver.Response{Msg: resp}
	if len(parts) == 0 {
		return out
	}
	minBytes := int(req.MinBytes)
	if len(parts) < countPartitions(req) {
		minBytes = 0 // an error partition answers at once
	}
	results := h.d.Replicas.Fetch(ctx, parts, maxBytes, minBytes, timeoutOf(req.MaxWaitMillis))
	for i, r := range results {
		s := slots[i]
		p := &resp.Topics[s.t].Partitions[s.p]
		if r.Err != nil {
			setFetchError(p, r.Err)
			continue
		}
		p.HighWatermark = int64(r.HighWatermark)
		p.LastStableOffset = int64(r.LastStableOffset)
		p.LogStartOffset = int64(r.LogStartOffset)
		if r.DivergingEpoch != nil {
			p.DivergingEpoch.Epoch = int32(r.DivergingEpoch.Epoch)
			p.DivergingEpoch.EndOffset = int64(r.DivergingEpoch.EndOffset)
		}
		if req.IsolationLevel == partition.ReadCommitted && replicaID < 0 {
			p.AbortedTransactions = make([]kmsg.FetchResponseTopicPartitionAbortedTransaction, 0, len(r.AbortedTxns))
			for _, a := range r.AbortedTxns {
				at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
				at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
				p.AbortedTransactions = append(p.AbortedTransactions, at)
			}
		}
		if r.Range.Size > 0 {
			ph := netserver.NewPlaceholder()
			p.RecordBatches = ph
			out.Files = append(out.Files, netserver.FileData{Placeholder: ph, File: r.Range.File, Offset: r.Range.Position, Size: r.Range.Size})
		}
	}
	return out
}

func (h *Handler) topicCompression(topic string) string {
	if h.d.TopicCompression == nil {
		return "producer"
	}
	return h.d.TopicCompression(topic)
}

func countPartitions(req *kmsg.FetchRequest) int {
	n := 0
	for _, t := range req.Topics {
		n += len(t.Partitions)
	}
	return n
}

// setFetchError marks a partition failed the way Kafka does: error code,
// and -1 for the high watermark, last stable offset and log start offset.
func setFetchError(p *kmsg.FetchResponseTopicPartition, err error) {
	p.ErrorCode = errorCode(err)
	p.HighWatermark, p.LastStableOffset, p.LogStartOffset = -1, -1, -1
	p.AbortedTransactions = nil
}
