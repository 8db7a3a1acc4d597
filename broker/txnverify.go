package broker

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/metacache"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/txn"
)

// verifyTxn returns api's VerifyTxn: nil when
// transaction.partition.verification.enable is off.
func (b *Broker) verifyTxn() func(context.Context, string, int64, int16, []model.TopicPartition) map[model.TopicPartition]error {
	if b.verifier == nil {
		return nil
	}
	return b.verifier.verify
}

// newTxnVerifier returns the verifier, nil when
// transaction.partition.verification.enable is off.
func (b *Broker) newTxnVerifier() *txnVerifier {
	if !b.cfg.TransactionPartitionVerificationEnable {
		return nil
	}
	return &txnVerifier{
		self: b.id, cache: b.cache, local: b.txns, listener: b.cfg.InterBrokerListenerName,
		clientID: "txn-verify-" + strconv.Itoa(int(b.id)),
		timeout:  time.Duration(b.cfg.RequestTimeoutMs) * time.Millisecond,
		log:      b.log.With().Str("component", "txn-verify").Logger(),
		conns:    map[model.BrokerID]*interbroker.Conn{},
	}
}

// txnVerifier asks a transactional id's coordinator whether partitions are
// in the producer's transaction (Kafka's AddPartitionsToTxnManager): an
// AddPartitionsToTxn v4 with VerifyOnly to the leader of the id's
// __transaction_state partition, over the inter-broker listener; when that
// leader is this broker, the local coordinator answers directly.
type txnVerifier struct {
	self     model.BrokerID
	cache    *metacache.Cache
	local    *txn.Coordinator
	listener string
	clientID string
	timeout  time.Duration
	log      zerolog.Logger

	mu     sync.Mutex
	conns  map[model.BrokerID]*interbroker.Conn // guarded by mu
	closed bool                                 // guarded by mu
}

// verify returns the error of each partition that is not verified, with
// the manager's translations: PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH
// (what producers expect on Produce), an unreachable coordinator
// NETWORK_EXCEPTION, no coordinator COORDINATOR_NOT_AVAILABLE.
func (v *txnVerifier) verify(ctx context.Context, id string, pid int64, epoch int16, tps []model.TopicPartition) map[model.TopicPartition]error {
	all := func(err error) map[model.TopicPartition]error {
		out := make(map[model.TopicPartition]error, len(tps))
		for _, tp := range tps {
			out[tp] = err
		}
		return out
	}
	coordinator, ok := v.coordinator(id)
	if !ok {
		return all(kerr.CoordinatorNotAvailable)
	}
	if coordinator == v.self && v.local != nil {
		res, err := v.local.VerifyPartitions(id, pid, epoch, tps)
		if err != nil {
			return all(producerFacing(err))
		}
		out := map[model.TopicPartition]error{}
		for tp, err := range res {
			if err != nil {
				out[tp] = producerFacing(err)
			}
		}
		return out
	}
	resp, err := v.send(ctx, coordinator, id, pid, epoch, tps)
	if err != nil {
		v.log.Warn().Err(err).Int32("coordinator", int32(coordinator)).Str("transactional_id", id).
			Msg("transaction verification failed with a network error")
		return all(kerr.NetworkException)
	}
	if resp.ErrorCode != 0 {
		code := kerr.ErrorForCode(resp.ErrorCode)
		if errors.Is(code, kerr.ClusterAuthorizationFailed) {
			// Producers must not see the inter-broker refusal.
			code = kerr.InvalidTxnState
		}
		v.log.Error().Int32("coordinator", int32(coordinator)).Str("error", kerr.ErrorForCode(resp.ErrorCode).Error()).
			Msg("transaction verification refused by the coordinator")
		return all(code)
	}
	out := map[model.TopicPartition]error{}
	for _, tr := range resp.Transactions {
		if tr.TransactionalID != id {
			continue
		}
		for _, t := range tr.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					out[model.TopicPartition{Topic: t.Topic, Partition: p.Partition}] = producerFacing(kerr.ErrorForCode(p.ErrorCode))
				}
			}
		}
	}
	return out
}

// producerFacing is PRODUCER_FENCED as INVALID_PRODUCER_EPOCH.
func producerFacing(err error) error {
	if errors.Is(err, kerr.ProducerFenced) {
		return kerr.InvalidProducerEpoch
	}
	return err
}

// coordinator is the live leader of the id's __transaction_state
// partition.
func (v *txnVerifier) coordinator(id string) (model.BrokerID, bool) {
	n := v.cache.NumPartitions(txn.StateTopic)
	if n <= 0 {
		// No transaction state topic: no transaction has begun.
		return -1, false
	}
	info, ok := v.cache.Partition(model.TopicPartition{Topic: txn.StateTopic, Partition: txn.PartitionFor(id, int32(n))})
	if !ok || info.Leader < 0 || !v.cache.IsLive(info.Leader) {
		return -1, false
	}
	return info.Leader, true
}

func (v *txnVerifier) send(ctx context.Context, to model.BrokerID, id string, pid int64, epoch int16, tps []model.TopicPartition) (*kmsg.AddPartitionsToTxnResponse, error) {
	c, err := v.conn(to)
	if err != nil {
		return nil, err
	}
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.Version = 4
	t := kmsg.NewAddPartitionsToTxnRequestTransaction()
	t.TransactionalID, t.ProducerID, t.ProducerEpoch, t.VerifyOnly = id, pid, epoch, true
	byTopic := map[string]int{}
	for _, tp := range tps {
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
	req.Transactions = append(req.Transactions, t)
	resp, err := c.Request(ctx, req)
	if err != nil {
		return nil, err
	}
	r, ok := resp.(*kmsg.AddPartitionsToTxnResponse)
	if !ok {
		return nil, errors.New("unexpected response type to AddPartitionsToTxn")
	}
	return r, nil
}

// conn is the connection to a broker's inter-broker listener, replaced
// when its address changes.
func (v *txnVerifier) conn(id model.BrokerID) (*interbroker.Conn, error) {
	addr, ok := brokerAddr(v.cache, id, v.listener)
	if !ok {
		return nil, kerr.BrokerNotAvailable
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return nil, interbroker.ErrClosed
	}
	if c := v.conns[id]; c != nil {
		if c.Addr() == addr {
			return c, nil
		}
		go c.Close()
	}
	c := interbroker.NewConn(addr, v.clientID, v.timeout)
	v.conns[id] = c
	return c, nil
}

func (v *txnVerifier) close() {
	v.mu.Lock()
	conns := v.conns
	v.conns, v.closed = nil, true
	v.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}
