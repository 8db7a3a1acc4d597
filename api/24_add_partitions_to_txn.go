package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// addPartitionsToTxn serves AddPartitionsToTxn (key 24). v0–3 carry one
// transaction (from producers); v4+ a batch (from brokers), each possibly
// VerifyOnly. Per transaction, as Kafka's KafkaApis: a partition unknown
// to the metadata fails the whole transaction's request with
// UNKNOWN_TOPIC_OR_PARTITION for it and OPERATION_NOT_ATTEMPTED for the
// others; otherwise the coordinator's answer applies to every partition.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
func (h *Handler) addPartitionsToTxn(ctx context.Context, req *kmsg.AddPartitionsToTxnRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if req.Version < 4 {
		var tps []model.TopicPartition
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				tps = append(tps, model.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
		codes := h.addPartitions(ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, tps, false, req.Version < 2)
		for _, g := range groupCodes(tps, codes) {
			t := kmsg.NewAddPartitionsToTxnResponseTopic()
			t.Topic = g.topic
			for i, p := range g.partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, g.codes[i]
				t.Partitions = append(t.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, t)
		}
		return resp
	}
	for _, rt := range req.Transactions {
		var tps []model.TopicPartition
		for _, t := range rt.Topics {
			for _, p := range t.Partitions {
				tps = append(tps, model.TopicPartition{Topic: t.Topic, Partition: p})
			}
		}
		codes := h.addPartitions(ctx, rt.TransactionalID, rt.ProducerID, rt.ProducerEpoch, tps, rt.VerifyOnly, false)
		tr := kmsg.NewAddPartitionsToTxnResponseTransaction()
		tr.TransactionalID = rt.TransactionalID
		for _, g := range groupCodes(tps, codes) {
			t := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			t.Topic = g.topic
			for i, p := range g.partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				rp.Partition, rp.ErrorCode = p, g.codes[i]
				t.Partitions = append(t.Partitions, rp)
			}
			tr.Topics = append(tr.Topics, t)
		}
		resp.Transactions = append(resp.Transactions, tr)
	}
	return resp
}

// addPartitions runs one transaction's addition (or verification) and
// returns a code per partition, in the order of tps.
func (h *Handler) addPartitions(ctx context.Context, id string, pid int64, epoch int16, tps []model.TopicPartition, verify, old bool) []int16 {
	codes := make([]int16, len(tps))
	all := func(code int16) []int16 {
		for i := range codes {
			codes[i] = code
		}
		return codes
	}
	if h.d.Txn == nil {
		return all(kerr.CoordinatorNotAvailable.Code)
	}
	missing := false
	for i, tp := range tps {
		if _, ok := h.d.Cache.Partition(tp); !ok {
			codes[i], missing = kerr.UnknownTopicOrPartition.Code, true
		}
	}
	if missing {
		for i := range codes {
			if codes[i] == 0 {
				codes[i] = kerr.OperationNotAttempted.Code
			}
		}
		return codes
	}
	if verify {
		res, err := h.d.Txn.VerifyPartitions(id, pid, epoch, tps)
		if err != nil {
			return all(fencedCode(err, old))
		}
		for i, tp := range tps {
			codes[i] = errorCode(res[tp])
		}
		return codes
	}
	return all(fencedCode(h.d.Txn.AddPartitions(ctx, id, pid, epoch, tps), old))
}

type topicCodes struct {
	topic      string
	partitions []int32
	codes      []int16
}

// groupCodes groups partition codes by topic, topics in first-seen order.
func groupCodes(tps []model.TopicPartition, codes []int16) []*topicCodes {
	var out []*topicCodes
	idx := map[string]*topicCodes{}
	for i, tp := range tps {
		g := idx[tp.Topic]
		if g == nil {
			g = &topicCodes{topic: tp.Topic}
			idx[tp.Topic] = g
			out = append(out, g)
		}
		g.partitions = append(g.partitions, tp.Partition)
		g.codes = append(g.codes, codes[i])
	}
	return out
}
