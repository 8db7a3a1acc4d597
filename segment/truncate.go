package segment

import (
	"errors"
	"os"

	"github.com/kbroker/kbroker/record"
)

// TruncateTo removes every batch whose last offset is >= offset: the .log is
// cut at the start of the batch holding offset and index entries for offsets
// >= offset are dropped. The segment becomes the active one (indexes grown
// back to their maximum). It returns the bytes removed.
func (s *Segment) TruncateTo(offset int64, now int64) (int64, error) {
	first, found, err := s.Translate(offset, 0)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadIndexesLocked(); err != nil {
		return 0, err
	}
	if err := s.loadMaxTimestampLocked(); err != nil {
		return 0, err
	}
	s.offIdx.truncateTo(offset)
	s.timeIdx.truncateTo(offset)
	if err := s.txnIdx.truncateTo(offset); err != nil {
		return 0, err
	}
	s.active, s.nextBase = true, -1
	if err := s.offIdx.resize(s.cfg.MaxIndexSize); err != nil {
		return 0, err
	}
	if err := s.timeIdx.resize(s.cfg.MaxIndexSize); err != nil {
		return 0, err
	}
	var removed int64
	if found {
		if err := s.log.Truncate(first.Position); err != nil {
			return 0, storageErr("truncate", s.logPath, err)
		}
		removed = s.size - first.Position
		s.size = first.Position
	}
	if s.size == 0 {
		s.created = now
		s.rollTSKnown = false
	}
	s.bytesSinceLastIndexEntry = 0
	if s.maxTS.Timestamp >= 0 {
		if err := s.reloadMaxTimestampLocked(); err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// reloadMaxTimestampLocked recomputes the max timestamp after a truncation:
// the time index's last entry, raised by the batches after the position its
// offset maps to.
func (s *Segment) reloadMaxTimestampLocked() error {
	s.maxTS = s.timeIdx.lastEntry()
	start, _ := s.offIdx.lookup(s.maxTS.Offset)
	err := s.walk(int64(start.Position), s.size, func(_ int64, h record.Batch) error {
		if h.MaxTimestamp() > s.maxTS.Timestamp {
			s.maxTS = TimestampOffset{Timestamp: h.MaxTimestamp(), Offset: h.LastOffset()}
		}
		return nil
	})
	if err != nil && !isBatchFault(err) {
		return err
	}
	return nil
}

// files lists the segment's file paths with a suffix appended.
func (s *Segment) files(extra string) []string {
	out := make([]string, 0, 4)
	for _, suf := range []string{LogSuffix, IndexSuffix, TimeIndexSuffix, TxnIndexSuffix} {
		out = append(out, segPath(s.dir, s.base, suf)+extra)
	}
	return out
}

// MarkDeleted renames every file of the segment to <name>.deleted. Open
// handles stay valid, so readers holding a range can finish; DeleteFiles
// removes the files once file.delete.delay.ms has passed.
func (s *Segment) MarkDeleted() error {
	for _, p := range s.files("") {
		if err := s.fs.Rename(p, p+DeletedSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return storageErr("rename", p, err)
		}
	}
	s.logPath += DeletedSuffix
	s.deleted = true
	return nil
}

// DeleteFiles closes the segment and removes its files (renamed or not).
func (s *Segment) DeleteFiles() error {
	cerr := s.closeNoTrim()
	extra := ""
	if s.deleted {
		extra = DeletedSuffix
	}
	for _, p := range s.files(extra) {
		if err := s.fs.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return storageErr("remove", p, err)
		}
	}
	return cerr
}

// closeNoTrim closes the files without touching their content.
func (s *Segment) closeNoTrim() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.offIdx != nil {
		errs = append(errs, s.offIdx.close(), s.timeIdx.close())
		s.offIdx, s.timeIdx = nil, nil
	}
	errs = append(errs, s.txnIdx.close(), s.log.Close())
	return errors.Join(errs...)
}
