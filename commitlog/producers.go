package commitlog

import (
	"errors"
	"io"
	"slices"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// The producer state of the partition (package producer) lives in the Log,
// guarded by Log.mu like everything else. It follows Kafka's UnifiedLog:
//   - leader appends check batches with a producer id against it before
//     writing, and a retry of one of a producer's last five batches is
//     answered with the original offsets instead of being written;
//   - follower appends, recovery and replay update it without checks;
//   - a roll writes <new base>.snapshot (fsynced by the flusher), Close
//     writes one at the log end offset, a truncation one at the target;
//   - at open, the newest snapshot at or below the log end offset is loaded
//     and the log after it replayed (after an unclean shutdown each
//     recovered segment is fed to it and ends with a snapshot);
//   - batches without a producer id (-1) never touch it.

// newProducerState returns an empty state over the log's snapshot files.
func (l *Log) newProducerState() *producer.State {
	return producer.NewState(l.tp.String(), l.producerExpirationMs, l.snaps)
}

// rebuildProducerState brings ps to lastOffset (Kafka's
// UnifiedLog.rebuildProducerState): after a clean shutdown with no snapshot
// at all (a log written before producer state existed), empty snapshots are
// written at the bases of the last two segments and at lastOffset instead of
// reading the log; otherwise the newest snapshot at or below lastOffset is
// loaded and the batches between it and lastOffset are replayed, with
// snapshots taken at the bases of the last two segments on the way and at
// lastOffset.
func (l *Log) rebuildProducerState(ps *producer.State, lastOffset, logStart int64, reloadFromCleanShutdown bool) error {
	var toSnapshot []int64
	if n := len(l.segments); n > 0 {
		if n > 1 {
			toSnapshot = append(toSnapshot, l.segments[n-2].BaseOffset())
		}
		toSnapshot = append(toSnapshot, l.segments[n-1].BaseOffset())
	}
	toSnapshot = append(toSnapshot, lastOffset)

	if _, ok := ps.LatestSnapshotOffset(); !ok && reloadFromCleanShutdown {
		for _, off := range toSnapshot {
			ps.SetMapEndOffset(off)
			if _, err := ps.TakeSnapshot(true); err != nil {
				return err
			}
		}
		return nil
	}
	emptyBefore := ps.IsEmpty() && ps.MapEndOffset() >= lastOffset
	if err := ps.TruncateAndReload(logStart, lastOffset, l.now()); err != nil {
		return err
	}
	if lastOffset > ps.MapEndOffset() && !emptyBefore {
		from := ps.MapEndOffset()
		for i := max(l.floorSegment(from), 0); i < len(l.segments) && l.segments[i].BaseOffset() < lastOffset; i++ {
			s := l.segments[i]
			start := max(s.BaseOffset(), ps.MapEndOffset(), logStart)
			ps.SetMapEndOffset(start)
			if slices.Contains(toSnapshot, s.BaseOffset()) {
				if _, err := ps.TakeSnapshot(true); err != nil {
					return err
				}
			}
			u := ps.NewUpdates(producer.FromReplication)
			if err := forEachProducerBatch(s, start, lastOffset, u.Add); err != nil {
				return err
			}
			u.Apply()
			// The segment's .txnindex already holds the aborted ones.
			if err := u.CompleteTxns(nil); err != nil {
				return err
			}
		}
	}
	ps.SetMapEndOffset(lastOffset)
	_, err := ps.TakeSnapshot(true)
	return err
}

// forEachProducerBatch calls fn with every batch of s that carries a
// producer id, from the one holding from, up to the first whose last offset
// reaches to. Data batches are given as their header only (all the state
// needs); control batches whole. It stops quietly at a malformed batch:
// recovery has dealt with the segments it reads.
func forEachProducerBatch(s *segment.Segment, from, to int64, fn func(b record.Batch) error) error {
	first, found, err := s.Translate(from, 0)
	if err != nil || !found {
		return err
	}
	f, end := s.LogFile(), s.Size()
	buf := make([]byte, 64<<10)
	var bufPos int64 // file position of buf[0]
	n := 0           // valid bytes in buf
	for pos := first.Position; pos < end; {
		if pos < bufPos || pos+record.HeaderSize > bufPos+int64(n) {
			got, err := f.ReadAt(buf[:min(int64(len(buf)), end-pos)], pos)
			if err != nil && !errors.Is(err, io.EOF) {
				return &segment.StorageError{Op: "read", Path: s.Path(), Err: err}
			}
			bufPos, n = pos, got
			if n < record.HeaderSize {
				return nil
			}
		}
		at := int(pos - bufPos)
		total, err := record.Peek(buf[at:n], 0)
		if err != nil || total < record.HeaderSize || pos+int64(total) > end {
			return nil
		}
		h := record.Batch(buf[at : at+record.HeaderSize])
		if h.LastOffset() >= to {
			return nil
		}
		if h.HasProducerID() {
			b := h
			if h.IsControl() {
				if at+total <= n {
					b = record.Batch(buf[at : at+total])
				} else {
					b = make(record.Batch, total)
					if _, err := f.ReadAt(b, pos); err != nil && !errors.Is(err, io.EOF) {
						return &segment.StorageError{Op: "read", Path: s.Path(), Err: err}
					}
				}
			}
			if err := fn(b); err != nil {
				return err
			}
		}
		pos += int64(total)
	}
	return nil
}

// recoveredBatch feeds one batch of a segment under recovery to ps (Kafka's
// LogSegment.updateProducerState); the transactions its marker aborts are
// added to *aborted, for the segment's rebuilt .txnindex.
func recoveredBatch(ps *producer.State, b record.Batch, aborted *[]segment.AbortedTxn) error {
	if b.HasProducerID() {
		u := ps.NewUpdates(producer.FromReplication)
		if err := u.Add(b); err != nil {
			return err
		}
		u.Apply()
		if err := u.CompleteTxns(func(c producer.CompletedTxn, lso int64) error {
			if c.IsAborted {
				*aborted = append(*aborted, abortedTxn(c, lso))
			}
			return nil
		}); err != nil {
			return err
		}
	}
	ps.SetMapEndOffset(b.NextOffset())
	return nil
}

// takeRollSnapshotLocked records the state at a new segment's base: the
// snapshot is written without fsync; the flusher fsyncs it with the old
// segment.
func (l *Log) takeRollSnapshotLocked(base int64) error {
	l.producers.SetMapEndOffset(base)
	_, err := l.producers.TakeSnapshot(false)
	return err
}

// RemoveExpiredProducers forgets the producers without an open
// transaction that have written nothing for producer.id.expiration.ms
// (Kafka's periodic producer-expiration check) and returns how many.
func (l *Log) RemoveExpiredProducers() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.checkUsable() != nil {
		return 0
	}
	n := l.producers.RemoveExpired(l.now())
	if n > 0 {
		l.log.Debug().Int("producers", n).Msg("removed expired producer ids")
	}
	return n
}

// ProducerState is one producer's state on this partition (a copy).
func (l *Log) ProducerState(pid int64) (producer.Entry, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	e, ok := l.producers.Entry(pid)
	if !ok {
		return producer.Entry{}, false
	}
	return e.Clone(), true
}

// ActiveProducers lists the producers of this partition (copies), in the
// order a snapshot lists them.
func (l *Log) ActiveProducers() []producer.Entry {
	l.mu.RLock()
	defer l.mu.RUnlock()
	es := l.producers.Entries()
	out := make([]producer.Entry, len(es))
	for i, e := range es {
		out[i] = e.Clone()
	}
	return out
}

// SnapshotOffsets lists the offsets of the producer snapshots in the
// partition directory, ascending.
func (l *Log) SnapshotOffsets() []model.Offset {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]model.Offset, len(l.snaps.offsets))
	for i, o := range l.snaps.offsets {
		out[i] = model.Offset(o)
	}
	return out
}
