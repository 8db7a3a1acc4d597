package api

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/netserver"
)

// DescribeProducers lists the open transaction of a transactional producer
// and answers Kafka's errors: illegal names and unknown topics for the
// whole topic (with the error's default message), partitions the cache
// does not know from the replica manager.
func TestDescribeProducers(t *testing.T) {
	h := newTestHandler(t)
	id := "tx"
	resp := h.produce(context.Background(), &netserver.Request{}, produceReq(t, &id, true)).Msg.(*kmsg.ProduceResponse)
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 {
		t.Fatalf("produce: %+v", p)
	}
	req := kmsg.NewPtrDescribeProducersRequest()
	for _, rt := range []struct {
		topic string
		parts []int32
	}{{"t", []int32{0, 5}}, {"missing", []int32{0}}, {"bad name", []int32{2}}} {
		t := kmsg.NewDescribeProducersRequestTopic()
		t.Topic, t.Partitions = rt.topic, rt.parts
		req.Topics = append(req.Topics, t)
	}
	out := h.describeProducers(req).(*kmsg.DescribeProducersResponse)
	if len(out.Topics) != 3 || len(out.Topics[0].Partitions) != 2 {
		t.Fatalf("response %+v", out)
	}
	p0 := out.Topics[0].Partitions[0]
	if p0.Partition != 0 || p0.ErrorCode != 0 || len(p0.ActiveProducers) != 1 {
		t.Fatalf("t-0: %+v", p0)
	}
	ap := p0.ActiveProducers[0]
	if ap.ProducerID != 77 || ap.ProducerEpoch != 0 || ap.LastSequence != 0 || ap.LastTimestamp != 1_700_000_000_000 ||
		ap.CoordinatorEpoch != -1 || ap.CurrentTxnStartOffset != 0 {
		t.Fatalf("t-0 producer: %+v", ap)
	}
	if p := out.Topics[0].Partitions[1]; p.Partition != 5 || p.ErrorCode != kerr.UnknownTopicOrPartition.Code || p.ErrorMessage != nil {
		t.Fatalf("t-5: %+v", p)
	}
	if p := out.Topics[1].Partitions[0]; p.ErrorCode != kerr.UnknownTopicOrPartition.Code || p.ErrorMessage == nil ||
		*p.ErrorMessage != "This server does not host this topic-partition." {
		t.Fatalf("missing-0: %+v", p)
	}
	if p := out.Topics[2].Partitions[0]; p.Partition != 2 || p.ErrorCode != kerr.InvalidTopicException.Code || p.ErrorMessage == nil {
		t.Fatalf("bad name: %+v", p)
	}
	// The marker closes the transaction: no start offset, the coordinator
	// epoch of the marker.
	mreq := kmsg.NewPtrWriteTxnMarkersRequest()
	mreq.Version = 1
	mk := kmsg.NewWriteTxnMarkersRequestMarker()
	mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = 77, 0, false, 4
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = "t", []int32{0}
	mk.Topics = append(mk.Topics, mt)
	mreq.Markers = append(mreq.Markers, mk)
	h.writeTxnMarkers(context.Background(), mreq)
	req.Topics = req.Topics[:1]
	req.Topics[0].Partitions = []int32{0}
	out = h.describeProducers(req).(*kmsg.DescribeProducersResponse)
	if ap := out.Topics[0].Partitions[0].ActiveProducers; len(ap) != 1 || ap[0].CurrentTxnStartOffset != -1 || ap[0].CoordinatorEpoch != 4 {
		t.Fatalf("after the ABORT marker: %+v", ap)
	}
}
