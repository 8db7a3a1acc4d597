package segment

// RollParams describe a chunk about to be appended, for ShouldRoll.
type RollParams struct {
	MaxSegmentBytes int64 // segment.bytes
	MaxSegmentMs    int64 // segment.ms
	MessagesSize    int   // bytes of the chunk
	MaxTimestamp    int64 // largest timestamp in the chunk
	MaxOffset       int64 // last offset of the chunk
	Now             int64 // ms
}

// ShouldRoll applies Kafka's roll rules to the active segment before an
// append: the chunk would push the segment past segment.bytes; the segment is
// not empty and has waited longer than segment.ms minus its jitter (measured
// from the first batch's max timestamp to the chunk's max timestamp when the
// segment has timestamps, else from the segment's creation to now); an index
// is full; or the chunk's last offset cannot be stored relative to the base.
func (s *Segment) ShouldRoll(p RollParams) (bool, error) {
	if s.size > p.MaxSegmentBytes-int64(p.MessagesSize) {
		return true, nil
	}
	if s.size > 0 {
		waited, err := s.timeWaitedForRoll(p.Now, p.MaxTimestamp)
		if err != nil {
			return false, err
		}
		if waited > p.MaxSegmentMs-s.RollJitterMs {
			return true, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadIndexesLocked(); err != nil {
		return false, err
	}
	if s.offIdx.isFull() || s.timeIdx.isFull() {
		return true, nil
	}
	return !s.canConvertToRelative(p.MaxOffset), nil
}

func (s *Segment) timeWaitedForRoll(now, chunkMaxTimestamp int64) (int64, error) {
	if !s.rollTSKnown {
		var hdr [61]byte
		s.rollTS = -1
		if s.size > 0 {
			h, _, err := s.readHeader(hdr[:], 0, s.size)
			if err != nil {
				return 0, err
			}
			s.rollTS = h.MaxTimestamp()
		}
		s.rollTSKnown = true
	}
	if s.rollTS >= 0 {
		return chunkMaxTimestamp - s.rollTS, nil
	}
	return now - s.created, nil
}

// OnBecomeInactive is called when a newer segment takes over appends: the
// final time-index entry (the segment's max timestamp) is written even if the
// index is full, and both indexes are trimmed to their entries.
func (s *Segment) OnBecomeInactive(nextBase int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadIndexesLocked(); err != nil {
		return err
	}
	if err := s.loadMaxTimestampLocked(); err != nil {
		return err
	}
	if err := s.timeIdx.maybeAppend(s.maxTS.Timestamp, s.maxTS.Offset, true); err != nil {
		return err
	}
	if err := s.offIdx.trim(); err != nil {
		return err
	}
	if err := s.timeIdx.trim(); err != nil {
		return err
	}
	s.active = false
	s.nextBase = nextBase
	return nil
}
