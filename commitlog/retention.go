package commitlog

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

// DeleteOldSegments applies retention (Kafka's deleteOldSegments): segments
// below the log start offset always; with cleanup.policy delete also
// retention.bytes and retention.ms (measured on a segment's largest record
// timestamp). Segments are taken from the oldest while they qualify, and only
// if wholly below the high watermark. When every segment qualifies, a new
// active segment is rolled first so the log keeps one. Deleted segments are
// renamed .deleted and removed after file.delete.delay.ms. It returns the
// number of segments deleted.
func (l *Log) DeleteOldSegments() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return 0, err
	}
	n, err := l.deleteWhile("log start offset breach", func(_ *segment.Segment, next *segment.Segment) (bool, error) {
		return next != nil && next.BaseOffset() <= l.logStart, nil
	})
	if err != nil || !l.cfg.CleanupDelete {
		return n, l.fail(err)
	}
	if l.cfg.RetentionBytes >= 0 {
		diff := l.sizeLocked() - l.cfg.RetentionBytes
		if diff > 0 {
			m, err := l.deleteWhile("retention size breach", func(s *segment.Segment, _ *segment.Segment) (bool, error) {
				if diff-s.Size() >= 0 {
					diff -= s.Size()
					return true, nil
				}
				return false, nil
			})
			n += m
			if err != nil {
				return n, l.fail(err)
			}
		}
	}
	if l.cfg.RetentionMs >= 0 {
		now := l.now()
		m, err := l.deleteWhile("retention time breach", func(s *segment.Segment, _ *segment.Segment) (bool, error) {
			ts, err := s.LargestTimestamp()
			return err == nil && now-ts > l.cfg.RetentionMs, err
		})
		n += m
		if err != nil {
			return n, l.fail(err)
		}
	}
	return n, nil
}

// deleteWhile deletes segments from the oldest while each is below the high
// watermark, is not the empty active segment, and satisfies pred.
func (l *Log) deleteWhile(reason string, pred func(s, next *segment.Segment) (bool, error)) (int, error) {
	var deletable []*segment.Segment
	for i, s := range l.segments {
		var next *segment.Segment
		upper := l.leo
		if i+1 < len(l.segments) {
			next = l.segments[i+1]
			upper = next.BaseOffset()
		}
		if l.hw < upper || (next == nil && s.Size() == 0) {
			break
		}
		ok, err := pred(s, next)
		if err != nil {
			return 0, err
		}
		if !ok {
			break
		}
		deletable = append(deletable, s)
	}
	if len(deletable) == 0 {
		return 0, nil
	}
	removed := deletable // Kafka drops the snapshots at all their bases, even a recreated one's
	if len(deletable) == len(l.segments) {
		// Always keep a segment: roll a new active one first.
		fresh, err := l.rollLocked(l.leo)
		if err != nil {
			return 0, err
		}
		if last := deletable[len(deletable)-1]; last.BaseOffset() == fresh.BaseOffset() {
			l.log.Warn().Int64("baseOffset", last.BaseOffset()).Str("reason", reason).Msg("empty active segment was deleted and recreated")
			deletable = deletable[:len(deletable)-1]
		}
	}
	for _, s := range deletable {
		l.log.Info().Int64("baseOffset", s.BaseOffset()).Int64("size", s.Size()).Str("reason", reason).Msg("deleting segment")
		if err := l.deleteSegmentLocked(s); err != nil {
			return 0, err
		}
	}
	l.segments = l.segments[len(deletable):]
	if err := l.incrementLogStartLocked(l.segments[0].BaseOffset()); err != nil {
		return 0, err
	}
	for _, s := range removed {
		if err := l.snaps.Remove(s.BaseOffset()); err != nil {
			return 0, err
		}
	}
	return len(deletable), nil
}

// deleteSegmentLocked renames a segment's files to .deleted and schedules
// their removal after file.delete.delay.ms. The caller removes the segment
// from l.segments.
func (l *Log) deleteSegmentLocked(s *segment.Segment) error {
	if err := s.MarkDeleted(); err != nil {
		return err
	}
	l.pending = append(l.pending, pendingDelete{seg: s, due: l.now() + l.cfg.FileDeleteDelayMs})
	return nil
}

// IncrementLogStartOffset moves the log start offset forward (DeleteRecords,
// or a follower following its leader). It must not pass the high watermark.
func (l *Log) IncrementLogStartOffset(offset model.Offset) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return err
	}
	if int64(offset) > l.hw {
		return fmt.Errorf("cannot increment the log start offset of %s to %d since it is larger than the high watermark %d: %w",
			l.tp, offset, l.hw, kerr.OffsetOutOfRange)
	}
	return l.fail(l.incrementLogStartLocked(int64(offset)))
}

func (l *Log) incrementLogStartLocked(offset int64) error {
	if offset <= l.logStart {
		return nil
	}
	l.logStart = offset
	l.hw = max(l.hw, offset)
	l.recoveryPoint = max(l.recoveryPoint, offset)
	l.producers.OnLogStartOffsetIncremented(offset)
	l.producers.OnHighWatermarkUpdated(l.hw)
	return l.epochs.TruncateFromStart(model.Offset(offset))
}

// RemoveDeletedFiles removes the files of deleted segments whose
// file.delete.delay.ms has passed, and returns how many segments remain
// pending.
func (l *Log) RemoveDeletedFiles() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	kept := l.pending[:0]
	var firstErr error
	for _, p := range l.pending {
		if p.due > now {
			kept = append(kept, p)
			continue
		}
		if err := p.seg.DeleteFiles(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	l.pending = kept
	return len(kept), l.fail(firstErr)
}
