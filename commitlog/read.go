package commitlog

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

// ReadResult is what Read returns: a byte range of one segment's .log
// holding whole batches, to be sent with sendfile after the call returns.
type ReadResult struct {
	// Range is the data; Range.Size == 0 when there is nothing to return.
	Range segment.Range
	// FirstOffset is the base offset of the first batch returned.
	FirstOffset model.Offset
	// NextOffset is the offset after the last batch returned.
	NextOffset model.Offset
	// FirstBatchTooLarge: the first batch alone was larger than maxBytes.
	FirstBatchTooLarge bool
	HighWatermark      model.Offset
	LogStartOffset     model.Offset
	LogEndOffset       model.Offset
	// LastStableOffset is the log's last stable offset at the read.
	LastStableOffset model.Offset
	// AbortedTxns are the aborted transactions overlapping the range read,
	// for ReadCommitted only (nil otherwise).
	AbortedTxns []segment.AbortedTxn
}

// Read returns whole batches starting with the one that holds offset, up to
// maxBytes, and none at or after upperBound (the high watermark for
// consumers, the log end offset for followers). With minOneBatch the first
// batch is returned even when larger than maxBytes. An offset below the log
// start offset or above the log end offset is OFFSET_OUT_OF_RANGE.
func (l *Log) Read(offset model.Offset, maxBytes int, upperBound model.Offset, minOneBatch bool) (ReadResult, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.checkUsable(); err != nil {
		return ReadResult{}, err
	}
	return l.readLocked(offset, maxBytes, upperBound, minOneBatch, false)
}

// ReadCommitted is a read_committed consumer's read: up to the last stable
// offset, with the aborted transactions that overlap the range read
// (ReadResult.AbortedTxns, never nil).
func (l *Log) ReadCommitted(offset model.Offset, maxBytes int, minOneBatch bool) (ReadResult, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.checkUsable(); err != nil {
		return ReadResult{}, err
	}
	return l.readLocked(offset, maxBytes, model.Offset(l.lastStableLocked()), minOneBatch, true)
}

func (l *Log) readLocked(offset model.Offset, maxBytes int, upperBound model.Offset, minOneBatch, aborted bool) (ReadResult, error) {
	res := ReadResult{
		HighWatermark: model.Offset(l.hw), LogStartOffset: model.Offset(l.logStart), LogEndOffset: model.Offset(l.leo),
		LastStableOffset: model.Offset(l.lastStableLocked()),
		FirstOffset:      offset, NextOffset: offset,
	}
	if aborted {
		res.AbortedTxns = []segment.AbortedTxn{}
	}
	off := int64(offset)
	if off < l.logStart || off > l.leo {
		return res, fmt.Errorf("received request for offset %d for partition %s, but we only have log segments in the range %d to %d: %w",
			off, l.tp, l.logStart, l.leo, kerr.OffsetOutOfRange)
	}
	bound := min(int64(upperBound), l.leo)
	if off >= bound {
		return res, nil
	}
	// The bound becomes a position: the start of the batch holding it.
	boundSeg := l.floorSegment(bound)
	boundPos := int64(-1)
	if bound < l.leo {
		p, found, err := l.segments[boundSeg].Translate(bound, 0)
		if err != nil {
			return res, l.failRead(err)
		}
		if found {
			boundPos = p.Position
		}
	}
	for i := max(l.floorSegment(off), 0); i < len(l.segments) && i <= boundSeg; i++ {
		maxPos := int64(-1)
		if i == boundSeg {
			maxPos = boundPos
		}
		r, found, err := l.segments[i].Read(off, maxBytes, maxPos, minOneBatch)
		if err != nil {
			return res, l.failRead(err)
		}
		if found {
			res.Range = r.Range
			res.FirstOffset, res.NextOffset = model.Offset(r.FirstOffset), model.Offset(r.NextOffset)
			res.FirstBatchTooLarge = r.FirstBatchTooLarge
			if aborted {
				if res.AbortedTxns, err = l.collectAbortedLocked(off, i, r.Range); err != nil {
					return res, l.failRead(err)
				}
			}
			return res, nil
		}
	}
	return res, nil
}

// failRead reports an error found while reading. Storage errors are logged
// (the read lock is held, so the log is marked offline by the next writer
// that meets the fault).
func (l *Log) failRead(err error) error {
	l.log.Error().Err(err).Msg("read failed")
	return err
}

// FindOffsetByTimestamp returns the first offset at or after the log start
// whose record timestamp is >= ts (ListOffsets by time), and that record's
// timestamp; found is false when no record is that recent.
func (l *Log) FindOffsetByTimestamp(ts int64) (offset model.Offset, timestamp int64, found bool, err error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.checkUsable(); err != nil {
		return 0, 0, false, err
	}
	for _, s := range l.segments {
		maxTS, err := s.MaxTimestamp()
		if err != nil {
			return 0, 0, false, err
		}
		if maxTS.Timestamp < ts {
			continue
		}
		o, t, ok, err := s.FindOffsetByTimestamp(ts, l.logStart)
		if err != nil || ok {
			return model.Offset(o), t, ok, err
		}
	}
	return 0, 0, false, nil
}

// MaxTimestampOffset returns the offset and timestamp of the first record
// holding the log's largest timestamp (ListOffsets MAX_TIMESTAMP); found is
// false for a log without timestamps.
func (l *Log) MaxTimestampOffset() (offset model.Offset, timestamp int64, found bool, err error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if err := l.checkUsable(); err != nil {
		return 0, 0, false, err
	}
	best := -1
	var bestTS int64 = -1
	for i, s := range l.segments {
		ts, err := s.MaxTimestamp()
		if err != nil {
			return 0, 0, false, err
		}
		if ts.Timestamp > bestTS {
			best, bestTS = i, ts.Timestamp
		}
	}
	if best < 0 {
		return 0, 0, false, nil
	}
	o, t, ok, err := l.segments[best].FindOffsetByTimestamp(bestTS, l.logStart)
	return model.Offset(o), t, ok, err
}
