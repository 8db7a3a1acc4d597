package txn

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

// ErrNotFound is TRANSACTIONAL_ID_NOT_FOUND.
var ErrNotFound = kerr.TransactionalIDNotFound

// InitProducerID serves InitProducerId for a transactional id (Kafka's
// handleInitProducerId): a new id gets a producer id and epoch 0; an
// existing one gets its epoch bumped (a new producer id once the epoch is
// exhausted), which fences the previous producer. An ongoing transaction
// is aborted first with a bumped epoch and the answer is
// CONCURRENT_TRANSACTIONS, so the client retries. expectedPID and
// expectedEpoch (-1 for none) are KIP-360's: a producer re-initialising
// with the id and epoch it had.
func (c *Coordinator) InitProducerID(ctx context.Context, id string, timeoutMs int32, expectedPID int64, expectedEpoch int16) (int64, int16, error) {
	if id == "" {
		return -1, -1, kerr.InvalidRequest
	}
	if timeoutMs <= 0 || int64(timeoutMs) > c.cfg.MaxTimeout.Milliseconds() {
		return -1, -1, kerr.InvalidTransactionTimeout
	}
	for {
		s, err := c.shardFor(id)
		if err != nil {
			return -1, -1, err
		}
		m := s.get(id)
		if m == nil {
			pid, err := c.ids.Next(ctx)
			if err != nil {
				c.lg.Error().Err(err).Str("transactionalId", id).Msg("no producer id could be allocated")
				return -1, -1, kerr.UnknownServerError
			}
			if m, err = s.putIfAbsent(newMeta(id, pid, noEpoch, timeoutMs, c.nowMs())); err != nil {
				return -1, -1, err
			}
		}
		m.mu.Lock()
		if m.state == Dead && m.pending == nil {
			// Removed by expiry meanwhile; start again.
			m.mu.Unlock()
			continue
		}
		t, err := c.prepareInitLocked(ctx, m, timeoutMs, expectedPID, expectedEpoch)
		m.mu.Unlock()
		if err != nil {
			return -1, -1, err
		}
		if t.state == PrepareEpochFence {
			if err := c.endTxn(ctx, id, t.producerID, t.epoch, false, false); err != nil {
				return -1, -1, err
			}
			return -1, -1, kerr.ConcurrentTransactions
		}
		if err := c.write(ctx, s, m, t); err != nil {
			return -1, -1, err
		}
		return t.producerID, t.epoch, nil
	}
}

func (c *Coordinator) prepareInitLocked(ctx context.Context, m *txnMeta, timeoutMs int32, expectedPID int64, expectedEpoch int16) (*transit, error) {
	if m.pending != nil {
		return nil, kerr.ConcurrentTransactions
	}
	hasExpected := expectedPID != -1
	// KIP-360: the expected producer must be the current one, the
	// metadata must be new, or it is a retry of a rotation whose answer
	// was lost.
	if hasExpected && !(m.epoch == noEpoch || expectedPID == m.producerID ||
		(expectedPID == m.lastProducerID && epochExhausted(expectedEpoch))) {
		return nil, kerr.ProducerFenced
	}
	now := c.nowMs()
	switch m.state {
	case PrepareCommit, PrepareAbort:
		return nil, kerr.ConcurrentTransactions
	case Empty, CompleteCommit, CompleteAbort:
		if epochExhausted(m.epoch) && (!hasExpected || expectedEpoch == m.epoch) {
			pid, err := c.ids.Next(ctx)
			if err != nil {
				c.lg.Error().Err(err).Str("transactionalId", m.id).Msg("no producer id could be allocated")
				return nil, kerr.UnknownServerError
			}
			return m.prepareRotationLocked(pid, timeoutMs, hasExpected, now)
		}
		var exp *int16
		if hasExpected {
			exp = &expectedEpoch
		}
		return m.prepareIncrementEpochLocked(timeoutMs, exp, now)
	case Ongoing:
		return m.prepareFenceLocked(now)
	}
	return nil, kerr.ConcurrentTransactions
}

// checkProducerLocked is the common check of AddPartitionsToTxn and
// AddOffsetsToTxn.
func checkProducerLocked(m *txnMeta, pid int64, epoch int16) error {
	switch {
	case m.state == Dead && m.pending == nil:
		return kerr.InvalidProducerIDMapping
	case m.producerID != pid:
		return kerr.InvalidProducerIDMapping
	case m.epoch != epoch:
		return kerr.ProducerFenced
	case m.pending != nil, m.state == PrepareCommit, m.state == PrepareAbort:
		return kerr.ConcurrentTransactions
	}
	return nil
}

// lookup returns the shard and state of an existing id, or
// INVALID_PRODUCER_ID_MAPPING when it is unknown.
func (c *Coordinator) lookup(id string) (*shard, *txnMeta, error) {
	if id == "" {
		return nil, nil, kerr.InvalidRequest
	}
	s, err := c.shardFor(id)
	if err != nil {
		return nil, nil, err
	}
	m := s.get(id)
	if m == nil {
		return nil, nil, kerr.InvalidProducerIDMapping
	}
	return s, m, nil
}

// AddPartitions adds partitions to the producer's transaction, starting
// one when none is ongoing (AddPartitionsToTxn, and AddOffsetsToTxn with
// the group's __consumer_offsets partition). Partitions already in the
// ongoing transaction need no write.
func (c *Coordinator) AddPartitions(ctx context.Context, id string, pid int64, epoch int16, parts []model.TopicPartition) error {
	s, m, err := c.lookup(id)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if err := checkProducerLocked(m, pid, epoch); err != nil {
		m.mu.Unlock()
		return err
	}
	if m.state == Ongoing {
		all := true
		for _, tp := range parts {
			if _, ok := m.partitions[tp]; !ok {
				all = false
				break
			}
		}
		if all {
			m.mu.Unlock()
			return nil
		}
	}
	t, err := m.prepareAddPartitionsLocked(parts, c.nowMs())
	m.mu.Unlock()
	if err != nil {
		return err
	}
	return c.write(ctx, s, m, t)
}

// VerifyPartitions answers AddPartitionsToTxn v4+ with VerifyOnly, the
// question a partition leader asks before the first transactional batch of
// a transaction (Kafka's handleVerifyPartitionsInTransaction): which
// partitions the transaction holds (the others get INVALID_TXN_STATE). A
// non-nil error applies to every partition: INVALID_PRODUCER_ID_MAPPING for
// another producer id, PRODUCER_FENCED for another epoch,
// CONCURRENT_TRANSACTIONS while the transaction is being committed or
// aborted. As in Kafka a pending transition is not checked: the leader's
// guard catches a transaction that ends before the batch is written.
func (c *Coordinator) VerifyPartitions(id string, pid int64, epoch int16, parts []model.TopicPartition) (map[model.TopicPartition]error, error) {
	_, m, err := c.lookup(id)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.state == Dead && m.pending == nil, m.producerID != pid:
		return nil, kerr.InvalidProducerIDMapping
	case m.epoch != epoch:
		return nil, kerr.ProducerFenced
	case m.state == PrepareCommit, m.state == PrepareAbort:
		return nil, kerr.ConcurrentTransactions
	}
	out := make(map[model.TopicPartition]error, len(parts))
	for _, tp := range parts {
		if _, ok := m.partitions[tp]; ok {
			out[tp] = nil
		} else {
			out[tp] = kerr.InvalidTxnState
		}
	}
	return out, nil
}

// EndTxn commits or aborts the producer's transaction (EndTxn): the
// PrepareCommit/PrepareAbort state is written, the answer is sent, and the
// markers then go to the partitions' leaders; the transaction is complete
// once they are all written (CONCURRENT_TRANSACTIONS until then).
func (c *Coordinator) EndTxn(ctx context.Context, id string, pid int64, epoch int16, commit bool) error {
	return c.endTxn(ctx, id, pid, epoch, commit, true)
}

func (c *Coordinator) endTxn(ctx context.Context, id string, pid int64, epoch int16, commit, fromClient bool) error {
	s, m, err := c.lookup(id)
	if err != nil {
		return err
	}
	m.mu.Lock()
	fenceReleased := func() {
		if m.pending != nil && m.pending.state == PrepareEpochFence && !fromClient {
			m.pending = nil
		}
	}
	isFence := false
	var t *transit
	switch {
	case m.producerID != pid:
		err = kerr.InvalidProducerIDMapping
	case (fromClient && epoch != m.epoch) || epoch < m.epoch:
		err = kerr.ProducerFenced
	case m.pending != nil && (fromClient || m.pending.state != PrepareEpochFence):
		err = kerr.ConcurrentTransactions
	default:
		switch m.state {
		case Ongoing:
			next := PrepareAbort
			if commit {
				next = PrepareCommit
			}
			if m.pending != nil {
				// The abort of an epoch fence: it carries the bumped epoch.
				if commit {
					err = kerr.UnknownServerError
					break
				}
				isFence = true
				m.pending = nil
				m.epoch, m.lastEpoch = epoch, noEpoch
			}
			t, err = m.prepareEndLocked(next, c.nowMs())
		case CompleteCommit:
			if !commit {
				err = kerr.InvalidTxnState
			}
		case CompleteAbort:
			if commit {
				err = kerr.InvalidTxnState
			}
		case PrepareCommit:
			err = kerr.InvalidTxnState
			if commit {
				err = kerr.ConcurrentTransactions
			}
		case PrepareAbort:
			err = kerr.InvalidTxnState
			if !commit {
				err = kerr.ConcurrentTransactions
			}
		case Empty:
			err = kerr.InvalidTxnState
		default:
			err = kerr.UnknownServerError
		}
	}
	if t == nil {
		fenceReleased()
		m.mu.Unlock()
		return err
	}
	m.mu.Unlock()
	if err := c.write(ctx, s, m, t); err != nil {
		if isFence {
			m.mu.Lock()
			m.failedFence = true
			m.mu.Unlock()
		}
		return err
	}
	m.mu.Lock()
	if m.producerID == t.producerID && m.epoch == t.epoch && m.pending == nil && m.state == t.state {
		c.startCompletionLocked(s, m)
	}
	m.mu.Unlock()
	return nil
}

// Description is one answer of DescribeTransactions.
type Description struct {
	State         State
	ProducerID    int64
	ProducerEpoch int16
	TimeoutMs     int32
	StartMs       int64
	Partitions    []model.TopicPartition
}

// Describe returns the state of a transactional id: NOT_COORDINATOR,
// COORDINATOR_LOAD_IN_PROGRESS or TRANSACTIONAL_ID_NOT_FOUND otherwise.
func (c *Coordinator) Describe(id string) (Description, error) {
	s, err := c.shardFor(id)
	if err != nil {
		return Description{}, err
	}
	m := s.get(id)
	if m == nil {
		return Description{}, ErrNotFound
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == Dead {
		return Description{}, ErrNotFound
	}
	return Description{State: m.state, ProducerID: m.producerID, ProducerEpoch: m.epoch, TimeoutMs: m.timeoutMs,
		StartMs: m.startMs, Partitions: sortedPartitions(m.partitions)}, nil
}

// Listing is one transactional id of ListTransactions.
type Listing struct {
	TransactionalID string
	ProducerID      int64
	State           State
}

// List answers ListTransactions over the partitions this broker
// coordinates: filtered by state names (unknown names are returned apart),
// producer ids and, when durationMs >= 0, transactions running longer
// than durationMs. COORDINATOR_LOAD_IN_PROGRESS while a partition loads.
func (c *Coordinator) List(states []string, pids []int64, durationMs int64) ([]Listing, []string, error) {
	var unknown []string
	stateSet := map[State]bool{}
	for _, n := range states {
		if st, ok := StateByName(n); ok {
			stateSet[st] = true
		} else {
			unknown = append(unknown, n)
		}
	}
	pidSet := map[int64]bool{}
	for _, p := range pids {
		pidSet[p] = true
	}
	shards := c.allShards()
	for _, s := range shards {
		s.mu.Lock()
		loading := !s.loaded && !s.removed
		s.mu.Unlock()
		if loading {
			return nil, nil, kerr.CoordinatorLoadInProgress
		}
	}
	now := c.nowMs()
	var out []Listing
	for _, s := range shards {
		for _, m := range s.all() {
			m.mu.Lock()
			keep := m.state != Dead &&
				(len(pidSet) == 0 || pidSet[m.producerID]) &&
				(len(states) == 0 || stateSet[m.state]) &&
				(durationMs < 0 || now-m.startMs > durationMs)
			if keep {
				out = append(out, Listing{TransactionalID: m.id, ProducerID: m.producerID, State: m.state})
			}
			m.mu.Unlock()
		}
	}
	return out, unknown, nil
}

// IsRetriable reports errors a client retries (used in logs and tests).
func IsRetriable(err error) bool {
	var ke *kerr.Error
	return errors.As(err, &ke) && ke.Retriable
}
