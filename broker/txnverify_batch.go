package broker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/model"
)

// verification is one produce's question to a transaction coordinator.
type verification struct {
	id    string
	pid   int64
	epoch int16
	tps   []model.TopicPartition
	done  chan map[model.TopicPartition]error // buffered, one answer
}

// answer gives every partition of q the same error.
func (q *verification) answer(err error) { q.done <- errorsFor(q.tps, err) }

// errorsFor gives every partition of tps the error err.
func errorsFor(tps []model.TopicPartition, err error) map[model.TopicPartition]error {
	out := make(map[model.TopicPartition]error, len(tps))
	for _, tp := range tps {
		out[tp] = err
	}
	return out
}

// verifyBatcher sends the verifications for one coordinator broker as
// Kafka's AddPartitionsToTxnManager does: one request in flight; the
// questions that arrive meanwhile wait and go together in the next
// AddPartitionsToTxn v4, one transaction each. A second question for a
// transactional id already waiting replaces it: the older one is answered
// NETWORK_EXCEPTION (the same epoch: a client retry) or
// INVALID_PRODUCER_EPOCH (a newer epoch fenced it), and a question with an
// older epoch than the waiting one is answered INVALID_PRODUCER_EPOCH at
// once.
type verifyBatcher struct {
	id      model.BrokerID
	conn    *interbroker.Conn
	timeout time.Duration // request.timeout.ms
	log     zerolog.Logger

	mu       sync.Mutex
	inflight bool                     // guarded by mu
	pending  map[string]*verification // guarded by mu
	order    []string                 // guarded by mu; pending ids, first come first
}

// verify queues q and waits for its answer (NETWORK_EXCEPTION when ctx
// ends first).
func (b *verifyBatcher) verify(ctx context.Context, q *verification) map[model.TopicPartition]error {
	q.done = make(chan map[model.TopicPartition]error, 1)
	b.mu.Lock()
	if old := b.pending[q.id]; old != nil {
		if q.epoch < old.epoch {
			b.mu.Unlock()
			q.answer(kerr.InvalidProducerEpoch)
			return <-q.done
		}
		if old.epoch < q.epoch {
			old.answer(kerr.InvalidProducerEpoch)
		} else {
			old.answer(kerr.NetworkException)
		}
	} else {
		b.order = append(b.order, q.id)
	}
	b.pending[q.id] = q
	start := !b.inflight
	b.inflight = true
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case res := <-q.done:
		return res
	case <-ctx.Done():
		return errorsFor(q.tps, kerr.NetworkException)
	}
}

// run sends the waiting questions until none is left.
func (b *verifyBatcher) run() {
	for {
		b.mu.Lock()
		if len(b.order) == 0 {
			b.inflight = false
			b.mu.Unlock()
			return
		}
		batch := make([]*verification, 0, len(b.order))
		for _, id := range b.order {
			batch = append(batch, b.pending[id])
		}
		b.order, b.pending = nil, map[string]*verification{}
		b.mu.Unlock()
		b.send(batch)
	}
}

// send asks the coordinator about batch and answers each question.
func (b *verifyBatcher) send(batch []*verification) {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 4
	for _, q := range batch {
		req.Transactions = append(req.Transactions, verifyOnlyTransaction(q))
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
	defer cancel()
	resp, err := b.conn.Request(ctx, req)
	r, ok := resp.(*kmsg.AddPartitionsToTxnResponse)
	if err != nil || !ok {
		b.log.Warn().Err(err).Int32("coordinator", int32(b.id)).Int("transactions", len(batch)).
			Msg("transaction verification failed with a network error")
		for _, q := range batch {
			q.answer(kerr.NetworkException)
		}
		return
	}
	if r.ErrorCode != 0 {
		code := kerr.ErrorForCode(r.ErrorCode)
		b.log.Error().Int32("coordinator", int32(b.id)).Str("error", code.Error()).
			Msg("transaction verification refused by the coordinator")
		if errors.Is(code, kerr.ClusterAuthorizationFailed) {
			// Producers must not see the inter-broker refusal.
			code = kerr.InvalidTxnState
		}
		for _, q := range batch {
			q.answer(code)
		}
		return
	}
	byID := make(map[string]*kmsg.AddPartitionsToTxnResponseTransaction, len(r.Transactions))
	for i := range r.Transactions {
		byID[r.Transactions[i].TransactionalID] = &r.Transactions[i]
	}
	for _, q := range batch {
		tr := byID[q.id]
		if tr == nil {
			q.answer(kerr.NetworkException)
			continue
		}
		out := map[model.TopicPartition]error{}
		for _, t := range tr.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					out[model.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = producerFacing(kerr.ErrorForCode(p.ErrorCode))
				}
			}
		}
		q.done <- out
	}
}

// verifyOnlyTransaction is q as one transaction of AddPartitionsToTxn v4,
// its partitions grouped by topic in first-seen order.
func verifyOnlyTransaction(q *verification) kmsg.AddPartitionsToTxnRequestTransaction {
	t := kmsg.NewAddPartitionsToTxnRequestTransaction()
	t.TransactionalID, t.ProducerID, t.ProducerEpoch, t.VerifyOnly = q.id, q.pid, q.epoch, true
	byTopic := map[string]int{}
	for _, tp := range q.tps {
		i, ok := byTopic[tp.Topic]
		if !ok {
			i = len(t.Topics)
			byTopic[tp.Topic] = i
			rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
			rt.Topic = tp.Topic
			t.Topics = append(t.Topics, rt)
		}
		t.Topics[i].Partitions = append(t.Topics[i].Partitions, tp.Partition)
	}
	return t
}
