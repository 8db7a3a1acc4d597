package txn

import (
	"math"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

// noEpoch is RecordBatch.NO_PRODUCER_EPOCH.
const noEpoch int16 = -1

// epochExhausted reports whether an epoch can no longer be bumped (Kafka
// keeps Short.MaxValue for the fence of an ongoing transaction).
func epochExhausted(e int16) bool { return e >= math.MaxInt16-1 }

// txnMeta is the coordinator's state of one transactional id (Kafka's
// TransactionMetadata). A transition is prepared under mu (pending), the
// record is appended without the lock, and the transition is applied (or
// dropped) under mu again; while pending is set other requests for the id
// answer CONCURRENT_TRANSACTIONS.
type txnMeta struct {
	id string

	mu             sync.Mutex
	producerID     int64                             // guarded by mu
	lastProducerID int64                             // guarded by mu; the id before a rotation, -1 none
	epoch          int16                             // guarded by mu
	lastEpoch      int16                             // guarded by mu; the epoch before the last bump (KIP-360 retries)
	timeoutMs      int32                             // guarded by mu
	state          State                             // guarded by mu
	partitions     map[model.TopicPartition]struct{} // guarded by mu
	startMs        int64                             // guarded by mu; -1 when no transaction started
	lastUpdateMs   int64                             // guarded by mu
	pending        *transit                          // guarded by mu; the transition being written
	failedFence    bool                              // guarded by mu; an epoch fence was not written: do not bump again
}

// transit is a prepared transition (Kafka's TxnTransitMetadata).
type transit struct {
	producerID, lastProducerID int64
	epoch, lastEpoch           int16
	timeoutMs                  int32
	state                      State
	partitions                 []model.TopicPartition
	startMs, lastUpdateMs      int64
}

func newMeta(id string, pid int64, epoch int16, timeoutMs int32, nowMs int64) *txnMeta {
	return &txnMeta{id: id, producerID: pid, lastProducerID: -1, epoch: epoch, lastEpoch: noEpoch,
		timeoutMs: timeoutMs, state: Empty, partitions: map[model.TopicPartition]struct{}{}, startMs: -1, lastUpdateMs: nowMs}
}

// metaFromRecord rebuilds the state of a loaded record.
func metaFromRecord(id string, r *Metadata) *txnMeta {
	m := newMeta(id, r.ProducerID, r.ProducerEpoch, r.TimeoutMs, r.LastUpdateMs)
	m.state, m.startMs = r.State, r.StartTimestamp
	for _, tp := range r.Partitions {
		m.partitions[tp] = struct{}{}
	}
	return m
}

// sortedPartitions lists the partitions by topic and partition.
func sortedPartitions(set map[model.TopicPartition]struct{}) []model.TopicPartition {
	out := make([]model.TopicPartition, 0, len(set))
	for tp := range set {
		out = append(out, tp)
	}
	model.SortTopicPartitions(out)
	return out
}

// validPrevious lists the states each state may be entered from (Kafka's
// TransactionState.validPreviousStates).
var validPrevious = map[State][]State{
	Empty:             {Empty, CompleteCommit, CompleteAbort},
	Ongoing:           {Ongoing, Empty, CompleteCommit, CompleteAbort},
	PrepareCommit:     {Ongoing},
	PrepareAbort:      {Ongoing, PrepareEpochFence},
	CompleteCommit:    {PrepareCommit},
	CompleteAbort:     {PrepareAbort},
	Dead:              {Empty, CompleteCommit, CompleteAbort},
	PrepareEpochFence: {Ongoing},
}

// prepareLocked records a transition as pending; it fails (as Kafka's
// IllegalStateException) when another is pending or the move is invalid.
func (m *txnMeta) prepareLocked(t *transit) (*transit, error) {
	if m.pending != nil {
		return nil, kerr.ConcurrentTransactions
	}
	ok := false
	for _, s := range validPrevious[t.state] {
		if s == m.state {
			ok = true
		}
	}
	if !ok || t.timeoutMs < 0 {
		return nil, kerr.UnknownServerError
	}
	m.pending = t
	return t, nil
}

// base is a transit copying the current state.
func (m *txnMeta) baseLocked(nowMs int64) *transit {
	return &transit{producerID: m.producerID, lastProducerID: m.lastProducerID, epoch: m.epoch, lastEpoch: m.lastEpoch,
		timeoutMs: m.timeoutMs, state: m.state, partitions: sortedPartitions(m.partitions), startMs: m.startMs, lastUpdateMs: nowMs}
}

// applyLocked makes a written transition the current state.
func (m *txnMeta) applyLocked(t *transit) {
	m.producerID, m.lastProducerID, m.epoch, m.lastEpoch = t.producerID, t.lastProducerID, t.epoch, t.lastEpoch
	m.timeoutMs, m.state, m.startMs, m.lastUpdateMs = t.timeoutMs, t.state, t.startMs, t.lastUpdateMs
	m.partitions = make(map[model.TopicPartition]struct{}, len(t.partitions))
	for _, tp := range t.partitions {
		m.partitions[tp] = struct{}{}
	}
	m.pending = nil
	if t.state == CompleteCommit || t.state == CompleteAbort {
		m.failedFence = false
	}
}

// record is the stored form of a transition.
func (t *transit) record() *Metadata {
	return &Metadata{ProducerID: t.producerID, ProducerEpoch: t.epoch, TimeoutMs: t.timeoutMs, State: t.state,
		Partitions: t.partitions, LastUpdateMs: t.lastUpdateMs, StartTimestamp: t.startMs}
}

// prepareIncrementEpochLocked bumps the epoch for InitProducerId (Kafka's
// prepareIncrementProducerEpoch): without an expected epoch the epoch is
// bumped; with one it must be the current epoch (bump) or the previous one
// (a retry of a bump whose answer was lost: the current epoch again);
// anything else is PRODUCER_FENCED.
func (m *txnMeta) prepareIncrementEpochLocked(timeoutMs int32, expected *int16, nowMs int64) (*transit, error) {
	if epochExhausted(m.epoch) {
		return nil, kerr.UnknownServerError
	}
	epoch, last := m.epoch+1, noEpoch
	if expected != nil {
		switch {
		case m.epoch == noEpoch || *expected == m.epoch:
			last = m.epoch
		case *expected == m.lastEpoch:
			epoch, last = m.epoch, m.lastEpoch
		default:
			return nil, kerr.ProducerFenced
		}
	}
	t := m.baseLocked(nowMs)
	t.epoch, t.lastEpoch, t.timeoutMs, t.state, t.partitions, t.startMs = epoch, last, timeoutMs, Empty, nil, -1
	return m.prepareLocked(t)
}

// prepareRotationLocked moves to a new producer id with epoch 0 when the
// epoch is exhausted (Kafka's prepareProducerIdRotation).
func (m *txnMeta) prepareRotationLocked(newPID int64, timeoutMs int32, recordLast bool, nowMs int64) (*transit, error) {
	t := m.baseLocked(nowMs)
	t.lastProducerID, t.producerID, t.epoch, t.lastEpoch = m.producerID, newPID, 0, noEpoch
	if recordLast {
		t.lastEpoch = m.epoch
	}
	t.timeoutMs, t.state, t.partitions, t.startMs = timeoutMs, Empty, nil, -1
	return m.prepareLocked(t)
}

// prepareFenceLocked prepares the epoch bump that fences the producer of an
// ongoing transaction before it is aborted (never written as such: the
// abort that follows carries the bumped epoch).
func (m *txnMeta) prepareFenceLocked(nowMs int64) (*transit, error) {
	if m.epoch == math.MaxInt16 {
		return nil, kerr.UnknownServerError
	}
	t := m.baseLocked(m.lastUpdateMs)
	if !m.failedFence {
		t.epoch = m.epoch + 1
	}
	t.lastEpoch, t.state = noEpoch, PrepareEpochFence
	return m.prepareLocked(t)
}

// prepareAddPartitionsLocked adds partitions, starting a transaction when
// none is ongoing.
func (m *txnMeta) prepareAddPartitionsLocked(add []model.TopicPartition, nowMs int64) (*transit, error) {
	t := m.baseLocked(nowMs)
	switch m.state {
	case Empty, CompleteCommit, CompleteAbort:
		t.startMs = nowMs
		t.partitions = nil
	}
	set := map[model.TopicPartition]struct{}{}
	for _, tp := range t.partitions {
		set[tp] = struct{}{}
	}
	for _, tp := range add {
		set[tp] = struct{}{}
	}
	t.partitions, t.state = sortedPartitions(set), Ongoing
	return m.prepareLocked(t)
}

// prepareEndLocked moves an ongoing transaction to PrepareCommit or
// PrepareAbort.
func (m *txnMeta) prepareEndLocked(next State, nowMs int64) (*transit, error) {
	t := m.baseLocked(nowMs)
	t.state = next
	return m.prepareLocked(t)
}

// prepareCompleteLocked is the transition written once every marker is
// written: CompleteCommit or CompleteAbort without partitions.
func (m *txnMeta) prepareCompleteLocked(nowMs int64) (*transit, error) {
	t := m.baseLocked(nowMs)
	t.partitions = nil
	if m.state == PrepareCommit {
		t.state = CompleteCommit
	} else {
		t.state = CompleteAbort
	}
	return m.prepareLocked(t)
}

// prepareDeadLocked is the removal of an expired transactional id.
func (m *txnMeta) prepareDeadLocked(nowMs int64) (*transit, error) {
	t := m.baseLocked(nowMs)
	t.state, t.partitions = Dead, nil
	return m.prepareLocked(t)
}
