package commitlog

import (
	"errors"
	"os"
	"time"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

// Flush fsyncs every segment holding offsets in [recovery point, offset)
// and moves the recovery point to offset. A failed fsync takes the log
// offline.
func (l *Log) Flush(offset model.Offset) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return err
	}
	return l.flushLocked(min(int64(offset), l.leo))
}

// FlushAll fsyncs everything up to the log end offset.
func (l *Log) FlushAll() error { return l.Flush(model.Offset(1 << 62)) }

func (l *Log) flushLocked(offset int64) error {
	if offset <= l.recoveryPoint && offset < l.leo {
		return nil
	}
	segs := l.segmentsBetween(l.recoveryPoint, offset)
	for _, s := range segs {
		if err := s.Flush(); err != nil {
			return l.fail(err)
		}
	}
	for _, path := range l.snaps.takeUnsynced(offset) {
		if err := syncFileIfExists(l.fs, path); err != nil {
			return l.fail(err)
		}
	}
	if err := l.syncDirIfNew(segs); err != nil {
		return l.fail(err)
	}
	if offset > l.recoveryPoint {
		l.recoveryPoint = offset
	}
	l.lastFlush = l.now()
	return nil
}

// segmentsBetween lists the segments holding offsets in [from, to): from the
// one containing from to the last one whose base is below to (at least the
// segment containing from).
func (l *Log) segmentsBetween(from, to int64) []*segment.Segment {
	i := max(l.floorSegment(from), 0)
	var out []*segment.Segment
	for ; i < len(l.segments); i++ {
		if len(out) > 0 && l.segments[i].BaseOffset() >= to {
			break
		}
		out = append(out, l.segments[i])
	}
	return out
}

// syncDirIfNew fsyncs the partition directory when a flushed segment starts
// at or after the recovery point (it may have been created since the last
// flush), so that its directory entry is as durable as its data — Kafka's
// LocalLog.flush does the same.
func (l *Log) syncDirIfNew(flushed []*segment.Segment) error {
	for _, s := range flushed {
		if s.BaseOffset() >= l.recoveryPoint {
			return SyncDir(l.fs, l.dir)
		}
	}
	return nil
}

// FlushIfDue flushes up to the log end offset when flush.ms has passed since
// the last flush (Kafka's log flusher task; flush.ms 0 flushes whenever
// there is unflushed data).
func (l *Log) FlushIfDue() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.checkUsable() != nil || l.cfg.FlushMs < 0 {
		return nil
	}
	if l.now()-l.lastFlush < l.cfg.FlushMs || l.recoveryPoint >= l.leo {
		return nil
	}
	return l.flushLocked(l.leo)
}

// scheduleFlush asks the flusher to fsync everything below offset (called
// after a roll so the old segment reaches the disk off the append path).
func (l *Log) scheduleFlush(offset int64) {
	l.flushTo = max(l.flushTo, offset)
	select {
	case l.flushReq <- struct{}{}:
	default:
	}
}

// flusher runs the fsyncs requested by rolls, and the periodic removal of
// expired producers. It fsyncs outside the lock: the segments below the
// roll point are inactive and no longer written.
func (l *Log) flusher() {
	defer close(l.flushDone)
	var expire <-chan time.Time
	if l.expireEvery > 0 {
		t := time.NewTicker(l.expireEvery)
		defer t.Stop()
		expire = t.C
	}
	for {
		select {
		case _, ok := <-l.flushReq:
			if !ok {
				return
			}
			l.flushRolled()
		case <-expire:
			l.RemoveExpiredProducers()
		}
	}
}

// flushRolled fsyncs the segments below the latest roll point, and the
// snapshots written at rolls, then moves the recovery point.
func (l *Log) flushRolled() {
	l.mu.Lock()
	target := l.flushTo
	truncations := l.truncations
	segs := l.segmentsBetween(l.recoveryPoint, target)
	if len(segs) > 0 && segs[len(segs)-1].BaseOffset() >= target {
		segs = segs[:len(segs)-1]
	}
	usable := l.checkUsable() == nil && target > l.recoveryPoint
	var snaps []string
	if usable {
		snaps = l.snaps.takeUnsynced(target)
	}
	l.mu.Unlock()
	if !usable {
		return
	}
	var ferr error
	for _, path := range snaps {
		if err := syncFileIfExists(l.fs, path); err != nil {
			ferr = err
			break
		}
	}
	for _, s := range segs {
		if ferr != nil {
			break
		}
		if err := s.Flush(); err != nil && !errors.Is(err, os.ErrClosed) {
			ferr = err
		}
	}
	if ferr == nil {
		ferr = SyncDir(l.fs, l.dir)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case ferr != nil:
		l.fail(ferr)
	case l.truncations != truncations:
		// The log was truncated while we fsynced: what we flushed may no
		// longer be what lies below target. A later roll asks again.
	case target > l.recoveryPoint && target <= l.leo:
		l.recoveryPoint = target
		l.lastFlush = l.now()
	}
}
