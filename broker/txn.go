package broker

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/api"
	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/metacache"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/replica"
	"github.com/kbroker/kbroker/txn"
)

// newTxnCoordinator builds the transaction coordinator over the local
// __transaction_state replicas, the producer ids and a marker channel to
// the partition leaders.
func (b *Broker) newTxnCoordinator(ids *txn.ProducerIDs) *txn.Coordinator {
	ms := func(v int32) time.Duration { return time.Duration(v) * time.Millisecond }
	b.markers = &markerChannel{cache: b.cache, listener: b.cfg.InterBrokerListenerName, clientID: "txn-marker-" + strconv.Itoa(int(b.id)),
		timeout: ms(b.cfg.RequestTimeoutMs), log: b.log, senders: map[model.BrokerID]*markerSender{}}
	cfg := txn.Config{
		MaxTimeout:            ms(b.cfg.TransactionMaxTimeoutMs),
		IDExpiration:          ms(b.cfg.TransactionalIDExpirationMs),
		AbortInterval:         ms(b.cfg.TransactionAbortTimedOutTransactionCleanupIntervalMs),
		RemoveExpiredInterval: ms(b.cfg.TransactionRemoveExpiredTransactionCleanupIntervalMs),
		AppendTimeout:         ms(b.cfg.RequestTimeoutMs),
		PartitionCount:        topicPartitionCount(b.cache, txn.StateTopic, b.cfg.TransactionStateLogNumPartitions),
		Logger:                b.log,
	}
	return txn.New(cfg, &txnStateLog{replicas: b.replicas, loadBuffer: int(b.cfg.TransactionStateLogLoadBufferSize)}, ids, b.markers)
}

// topicPartitionCount is the partition count of an internal topic: the
// real count once it exists, the configured one before.
func topicPartitionCount(cache *metacache.Cache, topic string, configured int32) func() (int32, bool) {
	return func() (int32, bool) {
		if n := cache.NumPartitions(topic); n > 0 {
			return int32(n), true
		}
		return configured, configured > 0
	}
}

func (b *Broker) txnTopicSettings() api.TxnTopicSettings {
	return api.TxnTopicSettings{
		Partitions:        b.cfg.TransactionStateLogNumPartitions,
		ReplicationFactor: b.cfg.TransactionStateLogReplicationFactor,
		MinISR:            b.cfg.TransactionStateLogMinISR,
		SegmentBytes:      b.cfg.TransactionStateLogSegmentBytes,
	}
}

// txnStateLog is txn.Log over the replica manager: appends with acks=all
// as the coordinator, uncompressed; loads read the local replica (the
// reader is offsetsLog's).
type txnStateLog struct {
	replicas   *replica.Manager
	loadBuffer int
}

func (l *txnStateLog) Append(ctx context.Context, p int32, entries []txn.Entry) error {
	recs := make([]record.NewRecord, len(entries))
	for i, e := range entries {
		recs[i] = record.NewRecord{Timestamp: e.Timestamp, Key: e.Key, Value: e.Value}
	}
	batch, err := record.Build(record.NewSpec(), recs)
	if err != nil {
		return err
	}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	tp := model.TopicPartition{Topic: txn.StateTopic, Partition: p}
	res := l.replicas.Produce(ctx, -1, timeout, []replica.ProducePartition{{TP: tp, Records: batch}}, record.FromCoordinator)
	return res[0].Err
}

func (l *txnStateLog) Load(ctx context.Context, p int32, fn func(offset int64, key, value []byte) error) error {
	return readLocal(ctx, l.replicas, model.TopicPartition{Topic: txn.StateTopic, Partition: p}, l.loadBuffer, fn)
}

// markerChannel is txn.MarkerTransport: the leader from the metadata
// cache, and one ordered queue per broker (interbroker.Sender) on the
// inter-broker listener, rebuilt when the broker's address changes.
type markerChannel struct {
	cache    *metacache.Cache
	listener string
	clientID string
	timeout  time.Duration
	log      zerolog.Logger

	mu      sync.Mutex
	senders map[model.BrokerID]*markerSender // guarded by mu
	closed  bool                             // guarded by mu
}

type markerSender struct {
	addr string
	s    *interbroker.Sender
}

func (m *markerChannel) Leader(tp model.TopicPartition) (model.BrokerID, error) {
	info, ok := m.cache.Partition(tp)
	if !ok {
		if _, _, exists := m.cache.Topic(tp.Topic); !exists {
			return -1, kerr.UnknownTopicOrPartition
		}
		return -1, kerr.LeaderNotAvailable
	}
	if info.Leader < 0 || !m.cache.IsLive(info.Leader) {
		return -1, kerr.LeaderNotAvailable
	}
	return info.Leader, nil
}

func (m *markerChannel) Send(broker model.BrokerID, req *kmsg.WriteTxnMarkersRequest, cb func(*kmsg.WriteTxnMarkersResponse, error)) {
	s, err := m.sender(broker)
	if err != nil {
		cb(nil, err)
		return
	}
	s.Enqueue(req, func(resp kmsg.Response, err error) {
		if err != nil {
			cb(nil, err)
			return
		}
		r, ok := resp.(*kmsg.WriteTxnMarkersResponse)
		if !ok {
			cb(nil, kerr.UnknownServerError)
			return
		}
		cb(r, nil)
	})
}

func (m *markerChannel) sender(id model.BrokerID) (*interbroker.Sender, error) {
	addr, ok := brokerAddr(m.cache, id, m.listener)
	if !ok {
		return nil, kerr.BrokerNotAvailable
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, interbroker.ErrClosed
	}
	for other, cur := range m.senders {
		if other != id && !m.cache.IsLive(other) {
			delete(m.senders, other)
			go cur.s.Close()
		}
	}
	if cur := m.senders[id]; cur != nil {
		if cur.addr == addr {
			return cur.s, nil
		}
		go cur.s.Close()
	}
	s := interbroker.NewSender(addr, m.clientID, m.timeout, 100*time.Millisecond, m.log)
	m.senders[id] = &markerSender{addr: addr, s: s}
	return s, nil
}

func (m *markerChannel) Close() {
	m.mu.Lock()
	senders := m.senders
	m.senders, m.closed = nil, true
	m.mu.Unlock()
	for _, s := range senders {
		s.s.Close()
	}
}
