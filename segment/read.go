package segment

import (
	"github.com/kbroker/kbroker/record"
)

// BatchPosition locates a batch in the .log.
type BatchPosition struct {
	Position     int64
	Size         int64
	BaseOffset   int64
	LastOffset   int64
	MaxTimestamp int64
}

// Translate finds the first batch at or after startPos whose last offset is
// >= offset: the batch holding offset, or the first one after it. found is
// false when no batch in the segment reaches offset.
//
// The offset index gives the starting position; the batch header found there
// must agree with the entry (a batch starts there and its base offset is at
// most the entry's offset), or the index is rebuilt from the .log and the
// search repeated.
func (s *Segment) Translate(offset int64, startPos int64) (BatchPosition, bool, error) {
	pos, err := s.indexedPosition(offset)
	if err != nil {
		return BatchPosition{}, false, err
	}
	return s.scanFor(max(pos, startPos), func(h record.Batch) bool { return h.LastOffset() >= offset })
}

// indexedPosition looks offset up in the offset index and checks the entry
// against the batch header it points to.
func (s *Segment) indexedPosition(offset int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadIndexesLocked(); err != nil {
		return 0, err
	}
	for attempt := 0; ; attempt++ {
		e, slot := s.offIdx.lookup(offset)
		if slot < 0 {
			return 0, nil
		}
		var hdr [record.HeaderSize]byte
		h, _, err := s.readHeader(hdr[:], int64(e.Position), s.size)
		if err == nil && h.BaseOffset() <= e.Offset {
			return int64(e.Position), nil
		}
		if err != nil && !isBatchFault(err) {
			return 0, err
		}
		if attempt > 0 {
			return 0, nil // rebuilt and still odd: scan from the start
		}
		if err := s.rebuildIndexesLocked("offset index entry does not match the batch it points to"); err != nil {
			return 0, err
		}
	}
}

// scanFor walks batch headers from pos and returns the first batch matching.
func (s *Segment) scanFor(pos int64, match func(h record.Batch) bool) (BatchPosition, bool, error) {
	var found BatchPosition
	ok := false
	err := s.walk(pos, s.size, func(p int64, h record.Batch) error {
		if match(h) {
			found = BatchPosition{Position: p, Size: int64(h.BatchLength()) + record.LogOverhead,
				BaseOffset: h.BaseOffset(), LastOffset: h.LastOffset(), MaxTimestamp: h.MaxTimestamp()}
			ok = true
			return errFound
		}
		return nil
	})
	if err == errFound {
		err = nil
	}
	return found, ok, err
}

type sentinel string

func (e sentinel) Error() string { return string(e) }

const errFound = sentinel("found")

// Range is a byte range of a .log file, sent to a consumer with sendfile.
type Range struct {
	File     File
	Position int64
	Size     int64
}

// ReadResult is what a read of a segment returns: whole batches starting
// with the one that holds the requested offset.
type ReadResult struct {
	Range Range
	// FirstOffset is the base offset of the first batch returned.
	FirstOffset int64
	// NextOffset is the offset after the last batch returned.
	NextOffset int64
	// FirstBatchTooLarge is set when the first batch alone exceeds maxBytes
	// (it is returned anyway if minOneBatch).
	FirstBatchTooLarge bool
}

// Read returns whole batches from the one holding startOffset, up to
// maxBytes, never past maxPosition (a batch boundary such as the high
// watermark's position; -1 for the end of the segment). With minOneBatch the
// first batch is returned even when larger than maxBytes (KIP-74). found is
// false when the segment holds nothing at or after startOffset; an empty
// result (Range.Size == 0) means the data is beyond maxPosition.
func (s *Segment) Read(startOffset int64, maxBytes int, maxPosition int64, minOneBatch bool) (ReadResult, bool, error) {
	if maxPosition < 0 || maxPosition > s.size {
		maxPosition = s.size
	}
	first, ok, err := s.Translate(startOffset, 0)
	if err != nil || !ok {
		return ReadResult{}, ok, err
	}
	res := ReadResult{Range: Range{File: s.log, Position: first.Position}, FirstOffset: first.BaseOffset, NextOffset: first.BaseOffset}
	if first.Position+first.Size > maxPosition {
		return res, true, nil
	}
	if first.Size > int64(maxBytes) {
		res.FirstBatchTooLarge = true
		if !minOneBatch {
			return res, true, nil
		}
	}
	err = s.walk(first.Position, maxPosition, func(p int64, h record.Batch) error {
		size := int64(h.BatchLength()) + record.LogOverhead
		if p+size > maxPosition || (res.Range.Size > 0 && res.Range.Size+size > int64(maxBytes)) {
			return errFound
		}
		res.Range.Size += size
		res.NextOffset = h.NextOffset()
		return nil
	})
	if err != nil && err != errFound && !isBatchFault(err) {
		return ReadResult{}, false, err
	}
	return res, true, nil
}

// ReadNextOffset is the offset after the last batch of the segment, found
// by scanning from the last offset-index entry; the base offset if empty.
func (s *Segment) ReadNextOffset() (int64, error) {
	s.mu.Lock()
	err := s.loadIndexesLocked()
	var start int64
	if err == nil && s.offIdx.entries > 0 {
		start = int64(s.offIdx.at(s.offIdx.entries - 1).Position)
	}
	s.mu.Unlock()
	if err != nil {
		return 0, err
	}
	next := s.base
	err = s.walk(start, s.size, func(_ int64, h record.Batch) error {
		next = h.NextOffset()
		return nil
	})
	if err != nil && start > 0 && isBatchFault(err) {
		// The index entry was wrong: fall back to a full walk.
		next = s.base
		err = s.walk(0, s.size, func(_ int64, h record.Batch) error {
			next = h.NextOffset()
			return nil
		})
	}
	return next, err
}

// FindOffsetByTimestamp returns the offset and timestamp of the first record
// at or after startingOffset whose timestamp is >= ts. The time index gives a
// starting offset, the offset index a position; batches are then scanned and
// the first batch whose max timestamp reaches ts is searched record by record.
func (s *Segment) FindOffsetByTimestamp(ts, startingOffset int64) (offset, timestamp int64, found bool, err error) {
	from, err := s.timeIndexedOffset(ts)
	if err != nil {
		return 0, 0, false, err
	}
	pos, err := s.indexedPosition(max(from, startingOffset))
	if err != nil {
		return 0, 0, false, err
	}
	buf := make([]byte, 0, 64<<10)
	err = s.walk(pos, s.size, func(p int64, h record.Batch) error {
		if h.MaxTimestamp() < ts || h.LastOffset() < startingOffset {
			return nil
		}
		size := int(h.BatchLength()) + record.LogOverhead
		if cap(buf) < size {
			buf = make([]byte, size)
		}
		b := record.Batch(buf[:size])
		if _, err := s.log.ReadAt(b, p); err != nil {
			return storageErr("read", s.logPath, err)
		}
		it, err := b.Records()
		if err != nil {
			return err
		}
		defer it.Close()
		for it.Next() {
			r := it.Record()
			rts := b.BaseTimestamp() + r.TimestampDelta
			if b.TimestampType() == record.LogAppendTime {
				rts = b.MaxTimestamp()
			}
			off := b.BaseOffset() + int64(r.OffsetDelta)
			if rts >= ts && off >= startingOffset {
				offset, timestamp, found = off, rts, true
				return errFound
			}
		}
		return it.Err()
	})
	if err == errFound {
		err = nil
	}
	return offset, timestamp, found, err
}

// timeIndexedOffset looks ts up in the time index and checks the entry: the
// batch holding the entry's offset must have the entry's timestamp as its max
// timestamp (true of every entry the append and rebuild rules write). A
// mismatch rebuilds the indexes from the .log.
func (s *Segment) timeIndexedOffset(ts int64) (int64, error) {
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		err := s.loadIndexesLocked()
		var e TimestampOffset
		if err == nil {
			e = s.timeIdx.lookup(ts)
		}
		s.mu.Unlock()
		if err != nil || e.Timestamp < 0 {
			return e.Offset, err
		}
		b, ok, err := s.Translate(e.Offset, 0)
		if err != nil {
			return 0, err
		}
		if ok && b.BaseOffset <= e.Offset && b.MaxTimestamp == e.Timestamp {
			return e.Offset, nil
		}
		if attempt > 0 {
			return s.base, nil
		}
		s.mu.Lock()
		err = s.rebuildIndexesLocked("time index entry does not match the batch it points to")
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}
	}
}

// ForEachBatchHeader calls fn with the header (HeaderSize bytes) of every
// batch in the segment, in order, stopping quietly at the first malformed
// one (recovery deals with those). Used to rebuild the leader-epoch cache.
func (s *Segment) ForEachBatchHeader(fn func(h record.Batch) error) error {
	err := s.walk(0, s.size, func(_ int64, h record.Batch) error { return fn(h) })
	if err != nil && isBatchFault(err) {
		return nil
	}
	return err
}
