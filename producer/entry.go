package producer

import "math"

// Values a batch carries when it has no producer id, epoch or sequence.
const (
	NoProducerID int64 = -1
	NoEpoch      int16 = -1
	NoSequence   int32 = -1
)

// NumBatchesToRetain is how many batches per producer are remembered for
// duplicate detection. Clients cap in-flight requests at this number when
// idempotence is on.
const NumBatchesToRetain = 5

// BatchMetadata is what is remembered of one appended batch.
type BatchMetadata struct {
	LastSeq     int32
	LastOffset  int64
	OffsetDelta int32 // LastOffset - first offset
	Timestamp   int64 // the batch's max timestamp
}

// FirstSeq is the batch's base sequence.
func (m BatchMetadata) FirstSeq() int32 { return DecrementSequence(m.LastSeq, m.OffsetDelta) }

// FirstOffset is the batch's base offset.
func (m BatchMetadata) FirstOffset() int64 { return m.LastOffset - int64(m.OffsetDelta) }

// DecrementSequence subtracts delta from seq, wrapping below 0 to MaxInt32
// (the inverse of record.IncrementSequence).
func DecrementSequence(seq, delta int32) int32 {
	if seq < delta {
		return math.MaxInt32 - (delta - seq) + 1
	}
	return seq - delta
}

// inSequence reports whether next follows last (MaxInt32 is followed by 0).
func inSequence(last, next int32) bool {
	return int64(next) == int64(last)+1 || (next == 0 && last == math.MaxInt32)
}

// Entry is the state of one producer id on one partition.
type Entry struct {
	ProducerID int64
	Epoch      int16
	// CoordinatorEpoch is the epoch of the transaction coordinator that wrote
	// this producer's last marker, -1 if none.
	CoordinatorEpoch int32
	// LastTimestamp is the max timestamp of the last batch or marker; expiry
	// counts from it.
	LastTimestamp int64
	// CurrentTxnFirstOffset is the first offset of the open transaction, -1
	// when none is open.
	CurrentTxnFirstOffset int64

	batches []BatchMetadata // oldest first, at most NumBatchesToRetain
	ins     uint64          // insertion order in the State (hash-map order)
}

// newEntry is the state of a producer never seen: no epoch, no batches.
func newEntry(pid int64) Entry {
	return Entry{ProducerID: pid, Epoch: NoEpoch, CoordinatorEpoch: -1, LastTimestamp: -1, CurrentTxnFirstOffset: -1}
}

// Batches returns the retained batches, oldest first.
func (e *Entry) Batches() []BatchMetadata { return append([]BatchMetadata(nil), e.batches...) }

// IsEmpty reports that no batch is retained.
func (e *Entry) IsEmpty() bool { return len(e.batches) == 0 }

// FirstSeq is the first sequence of the oldest retained batch, -1 if none.
func (e *Entry) FirstSeq() int32 {
	if e.IsEmpty() {
		return NoSequence
	}
	return e.batches[0].FirstSeq()
}

// LastSeq is the last sequence of the newest retained batch, -1 if none.
func (e *Entry) LastSeq() int32 {
	if e.IsEmpty() {
		return NoSequence
	}
	return e.batches[len(e.batches)-1].LastSeq
}

// LastDataOffset is the last offset of the newest retained batch, -1 if none.
func (e *Entry) LastDataOffset() int64 {
	if e.IsEmpty() {
		return -1
	}
	return e.batches[len(e.batches)-1].LastOffset
}

// LastOffsetDelta is the offset delta of the newest retained batch, 0 if none.
func (e *Entry) LastOffsetDelta() int32 {
	if e.IsEmpty() {
		return 0
	}
	return e.batches[len(e.batches)-1].OffsetDelta
}

// FindDuplicate returns the retained batch with the same epoch and the same
// first and last sequence, if any: such a batch is a retry of one already
// written.
func (e *Entry) FindDuplicate(epoch int16, firstSeq, lastSeq int32) (BatchMetadata, bool) {
	if epoch != e.Epoch {
		return BatchMetadata{}, false
	}
	for _, m := range e.batches {
		if m.FirstSeq() == firstSeq && m.LastSeq == lastSeq {
			return m, true
		}
	}
	return BatchMetadata{}, false
}

// maybeUpdateEpoch moves to epoch, forgetting the batches of the old one.
func (e *Entry) maybeUpdateEpoch(epoch int16) {
	if e.Epoch != epoch {
		e.batches = e.batches[:0]
		e.Epoch = epoch
	}
}

func (e *Entry) addBatchMetadata(m BatchMetadata) {
	if len(e.batches) == NumBatchesToRetain {
		copy(e.batches, e.batches[1:])
		e.batches = e.batches[:NumBatchesToRetain-1]
	}
	e.batches = append(e.batches, m)
}

// addBatch records a data batch.
func (e *Entry) addBatch(epoch int16, lastSeq int32, lastOffset int64, offsetDelta int32, timestamp int64) {
	e.maybeUpdateEpoch(epoch)
	e.addBatchMetadata(BatchMetadata{LastSeq: lastSeq, LastOffset: lastOffset, OffsetDelta: offsetDelta, Timestamp: timestamp})
	e.LastTimestamp = timestamp
}

// update applies what an append accumulated in next.
func (e *Entry) update(next *Entry) {
	e.maybeUpdateEpoch(next.Epoch)
	for _, m := range next.batches {
		e.addBatchMetadata(m)
	}
	e.CoordinatorEpoch = next.CoordinatorEpoch
	e.CurrentTxnFirstOffset = next.CurrentTxnFirstOffset
	e.LastTimestamp = next.LastTimestamp
}

// endTxn records a transaction marker: the transaction is closed, the
// batches of the same epoch are kept.
func (e *Entry) endTxn(epoch int16, coordinatorEpoch int32, timestamp int64) {
	e.maybeUpdateEpoch(epoch)
	e.CoordinatorEpoch = coordinatorEpoch
	e.CurrentTxnFirstOffset = -1
	e.LastTimestamp = timestamp
}

// Clone returns a copy that shares nothing with e.
func (e *Entry) Clone() Entry { return *e.clone() }

// clone copies the entry with its own batch slice.
func (e *Entry) clone() *Entry {
	c := *e
	c.batches = append(make([]BatchMetadata, 0, NumBatchesToRetain), e.batches...)
	return &c
}
