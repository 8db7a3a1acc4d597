package producer

import "sort"

// TxnMetadata is an open or recently closed transaction on the partition:
// the producer, the offset of its first record and, once a marker closed
// it, the marker's offset (-1 while open).
type TxnMetadata struct {
	ProducerID  int64
	FirstOffset int64
	LastOffset  int64
}

// txnList is a list of transactions kept sorted by first offset (Kafka's
// TreeMap keyed by it). Partitions rarely hold more than a few, so a sorted
// slice is enough.
type txnList []TxnMetadata

func (l txnList) search(first int64) int {
	return sort.Search(len(l), func(i int) bool { return l[i].FirstOffset >= first })
}

func (l *txnList) put(t TxnMetadata) {
	i := l.search(t.FirstOffset)
	if i < len(*l) && (*l)[i].FirstOffset == t.FirstOffset {
		(*l)[i] = t
		return
	}
	*l = append(*l, TxnMetadata{})
	copy((*l)[i+1:], (*l)[i:])
	(*l)[i] = t
}

func (l *txnList) remove(first int64) (TxnMetadata, bool) {
	i := l.search(first)
	if i == len(*l) || (*l)[i].FirstOffset != first {
		return TxnMetadata{}, false
	}
	t := (*l)[i]
	*l = append((*l)[:i], (*l)[i+1:]...)
	return t, true
}

// OngoingTxns lists the open transactions, by first offset.
func (s *State) OngoingTxns() []TxnMetadata { return append([]TxnMetadata(nil), s.ongoing...) }

// UnreplicatedTxns lists the transactions whose marker is not yet below the
// high watermark, by first offset.
func (s *State) UnreplicatedTxns() []TxnMetadata {
	return append([]TxnMetadata(nil), s.unreplicated...)
}

// FirstUnstableOffset is the first offset of the earliest transaction that
// is open, or closed by a marker the high watermark has not passed yet
// (Kafka's firstUnstableOffset); ok is false when there is none.
func (s *State) FirstUnstableOffset() (offset int64, ok bool) {
	offset = -1
	if len(s.ongoing) > 0 {
		offset, ok = s.ongoing[0].FirstOffset, true
	}
	if len(s.unreplicated) > 0 && (!ok || s.unreplicated[0].FirstOffset <= offset) {
		offset, ok = s.unreplicated[0].FirstOffset, true
	}
	return offset, ok
}

// FirstUndecidedOffset is the first offset of the earliest open
// transaction.
func (s *State) FirstUndecidedOffset() (int64, bool) {
	if len(s.ongoing) == 0 {
		return -1, false
	}
	return s.ongoing[0].FirstOffset, true
}

// LastStableOffset is the last stable offset right after the marker that
// closes c is written (the value stored in the .txnindex): the first offset
// of the earliest open transaction of another producer, else the offset
// after the marker.
func (s *State) LastStableOffset(c CompletedTxn) int64 {
	for _, t := range s.ongoing {
		if t.ProducerID != c.ProducerID {
			return t.FirstOffset
		}
	}
	return c.LastOffset + 1
}

// CompleteTxn moves a transaction closed by a marker from the open ones to
// the unreplicated ones. Updates.Apply must have run first.
func (s *State) CompleteTxn(c CompletedTxn) {
	t, ok := s.ongoing.remove(c.FirstOffset)
	if !ok {
		// Kafka throws here; the state would be inconsistent with the log.
		t = TxnMetadata{ProducerID: c.ProducerID, FirstOffset: c.FirstOffset}
	}
	t.LastOffset = c.LastOffset
	s.unreplicated.put(t)
}

// OnHighWatermarkUpdated forgets the closed transactions whose marker is
// below the high watermark: they no longer hold the last stable offset.
func (s *State) OnHighWatermarkUpdated(hw int64) { s.removeUnreplicated(hw) }

func (s *State) removeUnreplicated(offset int64) {
	out := s.unreplicated[:0]
	for _, t := range s.unreplicated {
		if t.LastOffset < 0 || t.LastOffset >= offset {
			out = append(out, t)
		}
	}
	s.unreplicated = out
}

// CompleteTxns applies the transactions closed by u's markers, in order
// (after Apply): for each, onComplete (if not nil) is given the last stable
// offset at the marker — the log writes aborted ones to the .txnindex —
// then the transaction is completed. It stops at onComplete's first error.
func (u *Updates) CompleteTxns(onComplete func(c CompletedTxn, lastStableOffset int64) error) error {
	for _, c := range u.Completed {
		if onComplete != nil {
			if err := onComplete(c, u.s.LastStableOffset(c)); err != nil {
				return err
			}
		}
		u.s.CompleteTxn(c)
	}
	return nil
}
