package broker

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

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
		batchers: map[model.BrokerID]*verifyBatcher{},
	}
}

// txnVerifier asks a transactional id's coordinator whether partitions are
// in the producer's transaction (Kafka's AddPartitionsToTxnManager): an
// AddPartitionsToTxn v4 with VerifyOnly to the leader of the id's
// __transaction_state partition, over the inter-broker listener, with the
// questions waiting for a broker sent together (txnverify_batch.go); when
// that leader is this broker, the local coordinator answers directly.
type txnVerifier struct {
	self     model.BrokerID
	cache    *metacache.Cache
	local    *txn.Coordinator
	listener string
	clientID string
	timeout  time.Duration
	log      zerolog.Logger

	mu       sync.Mutex
	batchers map[model.BrokerID]*verifyBatcher // guarded by mu
	closed   bool                              // guarded by mu
}

// verify returns the error of each partition that is not verified, with
// the manager's translations: PRODUCER_FENCED becomes INVALID_PRODUCER_EPOCH
// (what producers expect on Produce), an unreachable coordinator
// NETWORK_EXCEPTION, no coordinator COORDINATOR_NOT_AVAILABLE.
func (v *txnVerifier) verify(ctx context.Context, id string, pid int64, epoch int16, tps []model.TopicPartition) map[model.TopicPartition]error {
	coordinator, ok := v.coordinator(id)
	if !ok {
		return errorsFor(tps, kerr.CoordinatorNotAvailable)
	}
	if coordinator == v.self && v.local != nil {
		res, err := v.local.VerifyPartitions(id, pid, epoch, tps)
		if err != nil {
			return errorsFor(tps, producerFacing(err))
		}
		out := map[model.TopicPartition]error{}
		for tp, err := range res {
			if err != nil {
				out[tp] = producerFacing(err)
			}
		}
		return out
	}
	b, err := v.batcher(coordinator)
	if err != nil {
		return errorsFor(tps, kerr.NetworkException)
	}
	return b.verify(ctx, &verification{id: id, pid: pid, epoch: epoch, tps: tps})
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

// batcher is the verification queue of a broker, replaced when its
// address changes.
func (v *txnVerifier) batcher(id model.BrokerID) (*verifyBatcher, error) {
	addr, ok := brokerAddr(v.cache, id, v.listener)
	if !ok {
		return nil, kerr.BrokerNotAvailable
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return nil, interbroker.ErrClosed
	}
	if b := v.batchers[id]; b != nil {
		if b.conn.Addr() == addr {
			return b, nil
		}
		go b.conn.Close()
	}
	b := &verifyBatcher{id: id, conn: interbroker.NewConn(addr, v.clientID, v.timeout), timeout: v.timeout, log: v.log, pending: map[string]*verification{}}
	v.batchers[id] = b
	return b, nil
}

func (v *txnVerifier) close() {
	v.mu.Lock()
	batchers := v.batchers
	v.batchers, v.closed = nil, true
	v.mu.Unlock()
	for _, b := range batchers {
		_ = b.conn.Close()
	}
}
