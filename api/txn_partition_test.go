package api

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/netserver"
	"github.com/kbroker/kbroker/record"
)

func produceReq(t *testing.T, txnID *string, transactional bool) *kmsg.ProduceRequest {
	t.Helper()
	spec := record.NewSpec()
	spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence, spec.Transactional = 77, 0, 0, transactional
	b, err := record.Build(spec, []record.NewRecord{{Timestamp: 1_700_000_000_000, Value: []byte("v")}})
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis, req.TransactionID = 9, 1, 1000, txnID
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = "t"
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// A transactional batch without a transactional id fails the whole request
// with TRANSACTIONAL_ID_AUTHORIZATION_FAILED; with one it is appended
// (kbroker does not implement KIP-890's partition verification yet, which a
// default 3.9 broker runs), and a marker closes it.
func TestProduceTransactionalNeedsID(t *testing.T) {
	h := newTestHandler(t)
	ctx := context.Background()
	resp := h.produce(ctx, &netserver.Request{}, produceReq(t, nil, true)).Msg.(*kmsg.ProduceResponse)
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != kerr.TransactionalIDAuthorizationFailed.Code || p.BaseOffset != -1 || p.ErrorMessage == nil {
		t.Fatalf("null transactional id: %+v", p)
	}
	id := "tx"
	resp = h.produce(ctx, &netserver.Request{}, produceReq(t, &id, true)).Msg.(*kmsg.ProduceResponse)
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != 0 {
		t.Fatalf("with a transactional id: %+v", p)
	}
	mreq := kmsg.NewPtrWriteTxnMarkersRequest()
	mreq.Version = 1
	mk := kmsg.NewWriteTxnMarkersRequestMarker()
	mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = 77, 0, true, 1
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = "t", []int32{0, 5}
	mk.Topics = append(mk.Topics, mt)
	mreq.Markers = append(mreq.Markers, mk)
	mresp := h.writeTxnMarkers(ctx, mreq).(*kmsg.WriteTxnMarkersResponse)
	if len(mresp.Markers) != 1 || mresp.Markers[0].ProducerID != 77 || len(mresp.Markers[0].Topics) != 1 {
		t.Fatalf("markers response %+v", mresp)
	}
	ps := mresp.Markers[0].Topics[0].Partitions
	if len(ps) != 2 || ps[0].ErrorCode != 0 || ps[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("marker partitions %+v", ps)
	}
	// Non-transactional batches without an id are fine.
	resp = h.produce(ctx, &netserver.Request{}, produceReq(t, nil, false)).Msg.(*kmsg.ProduceResponse)
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 {
		t.Fatalf("idempotent batch: %+v", p)
	}
}
