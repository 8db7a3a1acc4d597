package segment

import "fmt"

// Append writes a chunk of one or more whole batches at the end of the .log.
// largestOffset is the chunk's last offset, largestTimestamp its max
// timestamp and offsetOfMaxTimestamp the offset the time index records for
// it. Before the write, if more than index.interval.bytes were appended since
// the last index entry, an offset-index entry (largestOffset, position of the
// chunk) and a time-index entry (max timestamp so far, its offset) are added.
//
// A failed write returns a *StorageError; the segment's size is unchanged
// (bytes past it are ignored and overwritten by the next append).
func (s *Segment) Append(largestOffset, largestTimestamp, offsetOfMaxTimestamp int64, chunk []byte) error {
	if len(chunk) == 0 {
		return nil
	}
	if !s.canConvertToRelative(largestOffset) {
		return fmt.Errorf("offset %d cannot be stored relative to base offset %d of %s", largestOffset, s.base, s.logPath)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadIndexesLocked(); err != nil {
		return err
	}
	if err := s.loadMaxTimestampLocked(); err != nil {
		return err
	}
	pos := s.size
	if pos == 0 {
		s.rollTS, s.rollTSKnown = largestTimestamp, true
	}
	if n, err := s.log.WriteAt(chunk, pos); err != nil || n != len(chunk) {
		if err == nil {
			err = fmt.Errorf("short write: %d of %d bytes", n, len(chunk))
		}
		return storageErr("write", s.logPath, err)
	}
	s.size += int64(len(chunk))
	if largestTimestamp > s.maxTS.Timestamp {
		s.maxTS = TimestampOffset{Timestamp: largestTimestamp, Offset: offsetOfMaxTimestamp}
	}
	if s.bytesSinceLastIndexEntry > s.cfg.IndexIntervalBytes {
		if err := s.offIdx.append(largestOffset, int32(pos)); err != nil {
			return err
		}
		if err := s.timeIdx.maybeAppend(s.maxTS.Timestamp, s.maxTS.Offset, false); err != nil {
			return err
		}
		s.bytesSinceLastIndexEntry = 0
	}
	s.bytesSinceLastIndexEntry += len(chunk)
	return nil
}

// loadMaxTimestampLocked takes the max timestamp so far from the time
// index's last entry the first time it is needed (indexes loaded).
func (s *Segment) loadMaxTimestampLocked() error {
	if !s.maxTSKnown {
		s.maxTS = s.timeIdx.lastEntry()
		s.maxTSKnown = true
	}
	return nil
}

// MaxTimestamp is the largest timestamp in the segment and the offset the
// time index records for it; (-1, base) when the segment has none.
func (s *Segment) MaxTimestamp() (TimestampOffset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadIndexesLocked(); err != nil {
		return TimestampOffset{}, err
	}
	if err := s.loadMaxTimestampLocked(); err != nil {
		return TimestampOffset{}, err
	}
	return s.maxTS, nil
}

// LargestTimestamp is what time-based retention compares: the max timestamp
// if there is one, else the .log's modification time in milliseconds.
func (s *Segment) LargestTimestamp() (int64, error) {
	ts, err := s.MaxTimestamp()
	if err != nil {
		return 0, err
	}
	if ts.Timestamp >= 0 {
		return ts.Timestamp, nil
	}
	st, err := s.log.Stat()
	if err != nil {
		return 0, storageErr("stat", s.logPath, err)
	}
	return st.ModTime().UnixMilli(), nil
}
