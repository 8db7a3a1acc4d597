package commitlog

import (
	"fmt"

	"github.com/kbroker/kbroker/segment"
)

// maybeRoll rolls before appending a chunk when the active segment says so
// (segment.ShouldRoll: size, time, full index, offset overflow). The new
// segment starts at the chunk's first offset (never below the log end).
func (l *Log) maybeRoll(size int, maxTimestamp, first, last int64) error {
	roll, err := l.active().ShouldRoll(segment.RollParams{
		MaxSegmentBytes: l.cfg.SegmentBytes,
		MaxSegmentMs:    l.cfg.maxSegmentMs(),
		MessagesSize:    size,
		MaxTimestamp:    maxTimestamp,
		MaxOffset:       last,
		Now:             l.now(),
	})
	if err != nil || !roll {
		return err
	}
	_, err = l.rollLocked(first)
	return err
}

// Roll starts a new active segment at the log end offset (used by tests and
// tools; appends roll by themselves).
func (l *Log) Roll() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return err
	}
	_, err := l.rollLocked(l.leo)
	return l.fail(err)
}

// rollLocked makes a new active segment at max(expected, LEO): the old one
// gets its final time-index entry and trimmed indexes, the producer state is
// snapshotted at the new base (Kafka does so to recover a segment from the
// snapshot at its base), and the flusher fsyncs both, then moves the
// recovery point to the new base.
func (l *Log) rollLocked(expected int64) (*segment.Segment, error) {
	s, err := l.rollSegmentLocked(expected)
	if err != nil {
		return nil, err
	}
	if err := l.takeRollSnapshotLocked(s.BaseOffset()); err != nil {
		return nil, err
	}
	l.scheduleFlush(s.BaseOffset())
	return s, nil
}

func (l *Log) rollSegmentLocked(expected int64) (*segment.Segment, error) {
	base := max(expected, l.leo)
	old := l.active()
	switch {
	case old.BaseOffset() == base && old.Size() == 0:
		l.log.Warn().Int64("baseOffset", base).Msg("trying to roll a new log segment while an empty active segment with that base offset exists; replacing it")
		if err := old.DeleteFiles(); err != nil {
			return nil, err
		}
		s, err := l.newSegment(base)
		if err != nil {
			return nil, err // the closed old segment stays listed; the log goes offline
		}
		l.segments[len(l.segments)-1] = s
		return s, nil
	case old.BaseOffset() >= base:
		return nil, fmt.Errorf("trying to roll a new log segment for %s with start offset %d while the active segment starts at %d", l.tp, base, old.BaseOffset())
	default:
		if err := old.OnBecomeInactive(base); err != nil {
			return nil, err
		}
	}
	s, err := l.newSegment(base)
	if err != nil {
		return nil, err
	}
	l.segments = append(l.segments, s)
	l.log.Info().Int64("baseOffset", base).Msg("rolled new log segment")
	return s, nil
}
