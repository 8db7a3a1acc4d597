package commitlog

import (
	"fmt"

	"github.com/kbroker/kbroker/model"
)

// TruncateTo removes every offset >= target (a follower truncating to the
// leader's log). Segments entirely past target are deleted; the one holding
// target is cut at the start of the batch holding target and becomes the
// active segment. It reports whether anything changed.
func (l *Log) TruncateTo(target model.Offset) (bool, error) {
	if target < 0 {
		return false, fmt.Errorf("cannot truncate partition %s to a negative offset (%d)", l.tp, target)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return false, err
	}
	t := int64(target)
	if t >= l.leo {
		l.log.Info().Int64("target", t).Int64("logEndOffset", l.leo).Msg("truncation has no effect: the target is at or past the log end")
		return false, l.fail(l.epochs.TruncateFromEnd(model.Offset(l.leo)))
	}
	l.log.Info().Int64("target", t).Int64("logEndOffset", l.leo).Msg("truncating log")
	l.truncations++
	if l.segments[0].BaseOffset() > t {
		return true, l.fail(l.truncateFullyLocked(t))
	}
	i := l.floorSegment(t)
	for _, s := range l.segments[i+1:] {
		if err := l.deleteSegmentLocked(s); err != nil {
			return true, l.fail(err)
		}
		if err := l.snaps.Remove(s.BaseOffset()); err != nil {
			return true, l.fail(err)
		}
	}
	l.segments = l.segments[:i+1]
	s := l.active()
	if _, err := s.TruncateTo(t, l.now()); err != nil {
		return true, l.fail(err)
	}
	next, err := s.ReadNextOffset()
	if err != nil {
		return true, l.fail(err)
	}
	l.leo = max(next, s.BaseOffset())
	if err := l.epochs.TruncateFromEnd(model.Offset(l.leo)); err != nil {
		return true, l.fail(err)
	}
	l.logStart = min(l.logStart, l.leo)
	l.recoveryPoint = min(l.recoveryPoint, l.leo)
	l.hw = min(l.hw, l.leo)
	l.flushTo = min(l.flushTo, l.leo) // a roll point that no longer exists
	// The producer state goes back to the newest snapshot at or below the
	// new end (later ones are deleted) and replays the log from there.
	if err := l.rebuildProducerState(l.producers, l.leo, l.logStart, false); err != nil {
		return true, l.fail(err)
	}
	if l.hw >= l.leo {
		l.producers.OnHighWatermarkUpdated(l.hw)
	}
	return true, nil
}

// TruncateFullyAndStartAt deletes every segment and restarts the log empty at
// offset (a follower whose leader's log starts past this one's end).
func (l *Log) TruncateFullyAndStartAt(offset model.Offset) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return err
	}
	return l.fail(l.truncateFullyLocked(int64(offset)))
}

func (l *Log) truncateFullyLocked(offset int64) error {
	l.truncations++
	l.log.Info().Int64("offset", offset).Msg("truncating the whole log and restarting at an offset")
	for _, s := range l.segments {
		if err := l.deleteSegmentLocked(s); err != nil {
			return err
		}
	}
	if err := l.producers.TruncateFullyAndStartAt(offset); err != nil {
		return err
	}
	if err := l.restartAtLocked(offset); err != nil {
		return err
	}
	return l.rebuildProducerState(l.producers, offset, offset, false)
}

// restartAtLocked finishes a full truncation: the fresh segment at offset
// becomes the only one, every offset points at it, the epoch cache is empty.
// If the segment cannot be created the old (renamed) ones stay listed, so
// the log, now offline, never has no segment.
func (l *Log) restartAtLocked(offset int64) error {
	s, err := l.newSegment(offset)
	if err != nil {
		return err
	}
	l.segments = append(l.segments[:0], s)
	l.leo, l.logStart, l.recoveryPoint, l.hw, l.flushTo = offset, offset, offset, offset, offset
	return l.epochs.Clear()
}
