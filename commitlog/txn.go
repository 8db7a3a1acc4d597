package commitlog

import (
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/segment"
)

// Transactions on the partition (Kafka's UnifiedLog): the producer state
// knows the open transactions and the closed ones whose marker the high
// watermark has not passed; the earliest of them is the first unstable
// offset, and the last stable offset (LSO) is the smaller of it and the high
// watermark. An ABORT marker adds an entry to the .txnindex of the segment
// that holds it (append, follower append, recovery), which read_committed
// fetches use to list the aborted transactions of the range they read.

// abortedTxn is the .txnindex entry for an aborted transaction.
func abortedTxn(c producer.CompletedTxn, lastStableOffset int64) segment.AbortedTxn {
	return segment.AbortedTxn{ProducerID: c.ProducerID, FirstOffset: c.FirstOffset, LastOffset: c.LastOffset, LastStableOffset: lastStableOffset}
}

// LastStableOffset is the offset below which every transaction is decided
// and its marker replicated: the high watermark, or the first offset of an
// earlier unstable transaction (never below the log start).
func (l *Log) LastStableOffset() model.Offset {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return model.Offset(l.lastStableLocked())
}

func (l *Log) lastStableLocked() int64 {
	if first, ok := l.producers.FirstUnstableOffset(); ok {
		if first = max(first, l.logStart); first < l.hw {
			return first
		}
	}
	return l.hw
}

// FirstUnstableOffset is the first offset of the earliest open (or not yet
// replicated) transaction; ok is false when there is none.
func (l *Log) FirstUnstableOffset() (model.Offset, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	first, ok := l.producers.FirstUnstableOffset()
	return model.Offset(max(first, l.logStart)), ok
}

// OngoingTxns lists the open transactions, by first offset.
func (l *Log) OngoingTxns() []producer.TxnMetadata {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.producers.OngoingTxns()
}

// collectAbortedLocked lists the aborted transactions of a read of r from
// segment i at fetch offset off (Kafka's LocalLog.addAbortedTransactions):
// the upper bound is the first offset-index entry past the bytes read, else
// the next segment's base, else the log end; the .txnindex of segment i and
// of the following ones are searched until one entry's last stable offset
// reaches the bound.
func (l *Log) collectAbortedLocked(off int64, i int, r segment.Range) ([]segment.AbortedTxn, error) {
	upper, ok, err := l.segments[i].FetchUpperBoundOffset(r.Position, r.Size)
	if err != nil {
		return nil, err
	}
	if !ok {
		upper = l.leo
		if i+1 < len(l.segments) {
			upper = l.segments[i+1].BaseOffset()
		}
	}
	return l.collectAbortedFromLocked(off, upper, i)
}

func (l *Log) collectAbortedFromLocked(from, upper int64, i int) ([]segment.AbortedTxn, error) {
	out := []segment.AbortedTxn{}
	for ; i < len(l.segments); i++ {
		got, complete, err := l.segments[i].CollectAbortedTxns(from, upper)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
		if complete {
			break
		}
	}
	return out, nil
}

// CollectAbortedTxns lists the aborted transactions that overlap [from,
// upper), searching the .txnindex files from the segment holding from.
func (l *Log) CollectAbortedTxns(from, upper model.Offset) ([]segment.AbortedTxn, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.checkUsable(); err != nil {
		return nil, err
	}
	return l.collectAbortedFromLocked(int64(from), int64(upper), max(l.floorSegment(int64(from)), 0))
}

// AbortedTxnIndex lists the .txnindex entries of every segment, oldest
// first (tests and tools).
func (l *Log) AbortedTxnIndex() ([]segment.AbortedTxn, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []segment.AbortedTxn
	for _, s := range l.segments {
		got, err := s.AbortedTxns()
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}
