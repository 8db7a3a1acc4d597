package api

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/netserver"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/replica"
)

// slot places a partition in a Produce request and response: topic and
// partition index.
type slot struct{ t, p int }

func (h *Handler) produce(ctx context.Context, nr *netserver.Request, req *kmsg.ProduceRequest) *netserver.Response {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	if req.TransactionID == nil && hasTransactionalRecords(req) {
		// Kafka refuses the whole request before anything else: a
		// transactional batch needs the transactional id it is authorized
		// by (null before v3).
		if req.Acks == 0 {
			return &netserver.Response{NoResponse: true, Close: true}
		}
		failWholeProduce(resp, req, kerr.TransactionalIDAuthorizationFailed, "Transactional Id authorization failed.")
		return &netserver.Response{Msg: resp}
	}
	var parts []replica.ProducePartition
	var slots []slot
	errs := map[slot]error{}
	validAcks := req.Acks == -1 || req.Acks == 0 || req.Acks == 1
	for ti, rt := range req.Topics {
		t := kmsg.NewProduceResponseTopic()
		t.Topic = rt.Topic
		for pi, rp := range rt.Partitions {
			p := kmsg.NewProduceResponseTopicPartition()
			p.Partition = rp.Partition
			t.Partitions = append(t.Partitions, p)
			s := slot{ti, pi}
			tp := model.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
			switch {
			case !validAcks:
				errs[s] = kerr.InvalidRequiredAcks
			case !h.knownPartition(tp):
				errs[s] = kerr.UnknownTopicOrPartition
			default:
				if err := checkProduceRecords(req.Version, rp.Records); err != nil {
					errs[s] = err
					continue
				}
				parts = append(parts, replica.ProducePartition{TP: tp, Records: rp.Records})
				slots = append(slots, s)
			}
		}
		resp.Topics = append(resp.Topics, t)
	}
	if req.TransactionID != nil {
		failed, ok := h.verifyTxnProduce(ctx, *req.TransactionID, parts)
		if !ok {
			// Kafka's InvalidPidMappingException fails the whole request.
			resp.Topics = nil
			if req.Acks == 0 {
				return &netserver.Response{NoResponse: true, Close: true}
			}
			failWholeProduce(resp, req, kerr.InvalidProducerIDMapping, "Transactional records contained more than one producer ID")
			return &netserver.Response{Msg: resp}
		}
		if len(failed) > 0 {
			var keptParts []replica.ProducePartition
			var keptSlots []slot
			for i := range parts {
				if err, bad := failed[i]; bad {
					errs[slots[i]] = err
					continue
				}
				keptParts, keptSlots = append(keptParts, parts[i]), append(keptSlots, slots[i])
			}
			parts, slots = keptParts, keptSlots
		}
	}
	results := h.d.Replicas.Produce(ctx, req.Acks, timeoutOf(req.TimeoutMillis), parts, record.FromClient)
	for i, r := range results {
		s := slots[i]
		p := &resp.Topics[s.t].Partitions[s.p]
		p.BaseOffset, p.LogAppendTime, p.LogStartOffset = r.BaseOffset, r.LogAppendTime, r.LogStartOffset
		if r.Err != nil {
			errs[s] = r.Err
		}
	}
	failed := false
	for s, err := range errs {
		p := &resp.Topics[s.t].Partitions[s.p]
		fillProduceError(p, err)
		failed = true
		h.log.Debug().Err(err).Str("topic", resp.Topics[s.t].Topic).Int32("partition", p.Partition).Msg("produce failed")
	}
	if req.Acks == 0 {
		// No response; a failure closes the connection so the client
		// notices and refreshes its metadata (Kafka's behaviour).
		return &netserver.Response{NoResponse: true, Close: failed}
	}
	return &netserver.Response{Msg: resp}
}

// hasTransactionalRecords is Kafka's ProduceRequest flag: the first batch
// of some partition's records has the transactional bit.
func hasTransactionalRecords(req *kmsg.ProduceRequest) bool {
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			if b, _, err := record.Next(p.Records, 0); err == nil && b != nil && b.IsTransactional() {
				return true
			}
		}
	}
	return false
}

// failWholeProduce answers every partition with err and the exception's
// message (Kafka's ProduceRequest.getErrorResponse: no offsets).
func failWholeProduce(resp *kmsg.ProduceResponse, req *kmsg.ProduceRequest, err *kerr.Error, msg string) {
	for _, rt := range req.Topics {
		t := kmsg.NewProduceResponseTopic()
		t.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			p := kmsg.NewProduceResponseTopicPartition()
			p.Partition = rp.Partition
			p.ErrorCode = err.Code
			p.BaseOffset, p.LogAppendTime, p.LogStartOffset = -1, -1, -1
			m := msg
			p.ErrorMessage = &m
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
}

// checkProduceRecords applies the per-version checks of a partition's
// records: v3+ exactly one magic 2 batch (zstd only from v7); older versions
// may carry magic 2 batches too, but legacy message sets are refused.
func checkProduceRecords(version int16, records []byte) error {
	if version >= 3 {
		_, err := record.ValidateProduceRecords(version, records)
		return err
	}
	_, _, err := record.Next(records, 0)
	return err
}

func fillProduceError(p *kmsg.ProduceResponseTopicPartition, err error) {
	p.ErrorCode = errorCode(err)
	p.BaseOffset, p.LogAppendTime, p.LogStartOffset = -1, -1, -1
	p.ErrorMessage = errorMessage(err)
	var re *record.Error
	if errors.As(err, &re) {
		for _, e := range re.RecordErrors {
			er := kmsg.NewProduceResponseTopicPartitionErrorRecord()
			er.RelativeOffset = e.BatchIndex
			msg := e.Message
			er.ErrorMessage = &msg
			p.ErrorRecords = append(p.ErrorRecords, er)
		}
	}
}

// knownPartition reports whether the metadata cache knows the partition.
func (h *Handler) knownPartition(tp model.TopicPartition) bool {
	_, ok := h.d.Cache.Partition(tp)
	return ok
}
