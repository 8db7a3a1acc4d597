package producer

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/record"
)

// Origin says who appends, which decides how much is checked (Kafka's
// AppendOrigin).
type Origin int8

const (
	// FromClient is a producer's batch on the leader: epoch, sequence and
	// transaction state are checked, duplicates detected.
	FromClient Origin = iota
	// FromCoordinator is a coordinator's write on the leader (transaction
	// markers, transactional offset commits): the epoch is checked, not the
	// sequence.
	FromCoordinator
	// FromReplication is a follower's append, log recovery or replay: the
	// leader already validated the batches; a stale epoch or coordinator
	// epoch is accepted.
	FromReplication
)

// CompletedTxn is a transaction that a COMMIT or ABORT marker closed.
type CompletedTxn struct {
	ProducerID  int64
	FirstOffset int64 // the transaction's first data offset
	LastOffset  int64 // the marker's offset
	IsAborted   bool
}

// Append accumulates the batches of one producer in one append (Kafka's
// ProducerAppendInfo). Each batch is checked against the state left by the
// previous ones; nothing changes in the State until State.Update applies it,
// which the log does only once the batches are written.
type Append struct {
	partition string
	origin    Origin
	current   *Entry  // state before the append; never nil (an empty entry for a new producer)
	updated   *Entry  // what the append leads to; starts with no batches
	started   []int64 // first offsets of the transactions this append opened
	// verifying is the producer's pending transaction verification when
	// the append started, nil if none.
	verifying *Verification
}

// ProducerID is the producer this append is for.
func (a *Append) ProducerID() int64 { return a.updated.ProducerID }

// Updated is the state accumulated so far (read only).
func (a *Append) Updated() *Entry { return a.updated }

// AppendBatch checks and records one batch whose offsets are assigned: a
// data batch, or a control batch carrying a COMMIT or ABORT marker (an empty
// control batch changes nothing). It returns the transaction a marker closed,
// if it had data.
//
// Errors carry Kafka's codes: INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER,
// INVALID_TXN_STATE, TRANSACTION_COORDINATOR_FENCED, and for an unreadable
// marker CORRUPT_MESSAGE or INVALID_RECORD (UNKNOWN_SERVER_ERROR for a
// control type other than COMMIT or ABORT).
func (a *Append) AppendBatch(b record.Batch) (*CompletedTxn, error) {
	if !b.IsControl() {
		return nil, a.AppendDataBatch(b.ProducerEpoch(), b.BaseSequence(), b.LastSequence(), b.MaxTimestamp(),
			b.BaseOffset(), b.LastOffset(), b.IsTransactional())
	}
	it, err := b.Records()
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if !it.Next() {
		// The whole transaction was cleaned from the log.
		return nil, it.Err()
	}
	rec := it.Record()
	_, typ, err := record.ParseControlKey(rec.Key)
	if err != nil {
		return nil, err
	}
	if typ != record.ControlAbort && typ != record.ControlCommit {
		return nil, fmt.Errorf("invalid control record type for end transaction marker: %v: %w", typ, kerr.UnknownServerError)
	}
	marker, err := record.ParseEndTxnMarker(rec.Value)
	if err != nil {
		return nil, err
	}
	ts := b.BaseTimestamp() + rec.TimestampDelta
	if b.TimestampType() == record.LogAppendTime {
		ts = b.MaxTimestamp()
	}
	return a.AppendEndTxnMarker(typ, marker.CoordinatorEpoch, b.ProducerEpoch(), b.BaseOffset(), ts)
}

// AppendDataBatch checks and records a data batch: the epoch (not lower
// than the known one), for client batches the sequence, then the
// transaction state (a non-transactional batch while a transaction is open
// is refused; a transactional one opens a transaction if none is).
func (a *Append) AppendDataBatch(epoch int16, firstSeq, lastSeq int32, lastTimestamp, firstOffset, lastOffset int64, transactional bool) error {
	if err := a.checkEpoch(epoch, firstOffset); err != nil {
		return err
	}
	if a.origin == FromClient {
		if err := a.checkSequence(epoch, firstSeq, firstOffset); err != nil {
			return err
		}
	}
	a.updated.addBatch(epoch, lastSeq, lastOffset, int32(lastOffset-firstOffset), lastTimestamp)
	switch {
	case a.updated.CurrentTxnFirstOffset >= 0 && !transactional:
		return fmt.Errorf("expected transactional write from producer %d at offset %d in partition %s: %w",
			a.updated.ProducerID, firstOffset, a.partition, kerr.InvalidTxnState)
	case a.updated.CurrentTxnFirstOffset < 0 && transactional:
		a.updated.CurrentTxnFirstOffset = firstOffset
		a.started = append(a.started, firstOffset)
	}
	return nil
}

// AppendEndTxnMarker checks and records a COMMIT or ABORT marker at offset:
// the epoch must not be lower than the known one, nor the coordinator epoch
// (TRANSACTION_COORDINATOR_FENCED). The open transaction, if any, is closed
// and returned.
func (a *Append) AppendEndTxnMarker(typ record.ControlType, coordinatorEpoch int32, epoch int16, offset, timestamp int64) (*CompletedTxn, error) {
	if err := a.checkEpoch(epoch, offset); err != nil {
		return nil, err
	}
	if a.updated.CoordinatorEpoch > coordinatorEpoch && a.origin != FromReplication {
		return nil, fmt.Errorf("invalid coordinator epoch for producerId %d at offset %d in partition %s: %d (zombie), %d (current): %w",
			a.updated.ProducerID, offset, a.partition, coordinatorEpoch, a.updated.CoordinatorEpoch, kerr.TransactionCoordinatorFenced)
	}
	var done *CompletedTxn
	if a.updated.CurrentTxnFirstOffset >= 0 {
		done = &CompletedTxn{ProducerID: a.updated.ProducerID, FirstOffset: a.updated.CurrentTxnFirstOffset, LastOffset: offset, IsAborted: typ == record.ControlAbort}
	}
	a.updated.endTxn(epoch, coordinatorEpoch, timestamp)
	return done, nil
}

// checkEpoch refuses an epoch lower than the known one, except from
// replication (the leader accepted it; Kafka only logs it).
func (a *Append) checkEpoch(epoch int16, offset int64) error {
	if epoch < a.updated.Epoch && a.origin != FromReplication {
		return fmt.Errorf("epoch of producer %d at offset %d in %s is %d, which is smaller than the last seen epoch %d: %w",
			a.updated.ProducerID, offset, a.partition, epoch, a.updated.Epoch, kerr.InvalidProducerEpoch)
	}
	return nil
}

// checkSequence is Kafka's rule for client batches: while a verification
// is pending, no first sequence above its lowest one; a new epoch starts at
// sequence 0 (unless the producer's epoch is unknown); within an epoch the
// first sequence follows the last one (MaxInt32 is followed by 0); a
// producer without state accepts any sequence.
func (a *Append) checkSequence(epoch int16, firstSeq int32, offset int64) error {
	if v := a.verifying; v != nil && firstSeq > v.LowestSequence {
		// A lower sequence is being verified: it must be written first.
		return fmt.Errorf("out of order sequence number for producer %d at offset %d in partition %s: %d (incoming seq. number), %d (earliest seen sequence): %w",
			a.updated.ProducerID, offset, a.partition, firstSeq, v.LowestSequence, kerr.OutOfOrderSequenceNumber)
	}
	if epoch != a.updated.Epoch {
		if firstSeq != 0 && a.updated.Epoch != NoEpoch {
			return fmt.Errorf("invalid sequence number for new epoch of producer %d at offset %d in partition %s: %d (request epoch), %d (seq. number), %d (current producer epoch): %w",
				a.updated.ProducerID, offset, a.partition, epoch, firstSeq, a.updated.Epoch, kerr.OutOfOrderSequenceNumber)
		}
		return nil
	}
	lastSeq := NoSequence
	switch {
	case !a.updated.IsEmpty():
		lastSeq = a.updated.LastSeq()
	case epoch == a.current.Epoch:
		lastSeq = a.current.LastSeq()
	}
	if a.current.Epoch != NoEpoch && !inSequence(lastSeq, firstSeq) {
		return fmt.Errorf("out of order sequence number for producer %d at offset %d in partition %s: %d (incoming seq. number), %d (current end sequence number): %w",
			a.updated.ProducerID, offset, a.partition, firstSeq, lastSeq, kerr.OutOfOrderSequenceNumber)
	}
	return nil
}
