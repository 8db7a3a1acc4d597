package segment

import (
	"errors"
	"fmt"
	"io"

	"github.com/kbroker/kbroker/record"
)

// ErrLegacyFormat reports a .log holding valid magic 0/1 messages. kbroker
// refuses to open such a log rather than truncating it as corrupt: the data
// is real and must be converted by the tool that wrote it.
var ErrLegacyFormat = errors.New("segment holds legacy (magic 0/1) messages, which kbroker does not read")

// RecoverResult is what Recover found.
type RecoverResult struct {
	// TruncatedBytes is how many bytes past the last valid batch were cut off.
	TruncatedBytes int64
	// NextOffset is the offset after the last valid batch (the base offset
	// if none).
	NextOffset int64
	// Reason says why the scan stopped early, if it did.
	Reason string
}

// Recover rebuilds the segment from its .log: every batch is read in full
// and checked (size, magic, CRC, offsets within the segment and increasing),
// the indexes are rebuilt with the sparse rule applied batch by batch, and
// the .log is truncated after the last valid batch. onBatch sees each valid
// batch in order (the leader-epoch cache and producer state are rebuilt from
// it); an error from it aborts the recovery.
func (s *Segment) Recover(onBatch func(b record.Batch) error) (RecoverResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadIndexesForRecoveryLocked(); err != nil {
		return RecoverResult{}, err
	}
	if err := s.offIdx.reset(s.cfg.MaxIndexSize); err != nil {
		return RecoverResult{}, err
	}
	if err := s.timeIdx.reset(s.cfg.MaxIndexSize); err != nil {
		return RecoverResult{}, err
	}
	fileSize := s.size
	if st, err := s.log.Stat(); err == nil {
		fileSize = st.Size()
	}
	res := RecoverResult{NextOffset: s.base}
	ib := newIndexBuilder(s.cfg.IndexIntervalBytes)
	var valid int64
	r := newBatchReader(s.log, 0, fileSize)
	for {
		b, pos, err := r.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, record.ErrLegacyMagic) && s.isLegacyMessageAt(pos, fileSize) {
				return res, fmt.Errorf("%s at position %d: %w", s.logPath, pos, ErrLegacyFormat)
			}
			if !isBatchFault(err) {
				return res, err
			}
			res.Reason = err.Error()
			break
		}
		if err := b.ValidateAsFollower(); err != nil {
			res.Reason = fmt.Sprintf("%v at position %d", err, pos)
			break
		}
		if b.BaseOffset() < res.NextOffset || b.LastOffset() < b.BaseOffset() || !s.canConvertToRelative(b.LastOffset()) {
			res.Reason = fmt.Sprintf("batch at position %d has offsets [%d, %d] after next offset %d", pos, b.BaseOffset(), b.LastOffset(), res.NextOffset)
			break
		}
		if err := ib.add(s.offIdx, s.timeIdx, pos, b); err != nil {
			return res, err
		}
		if onBatch != nil {
			if err := onBatch(b); err != nil {
				return res, err
			}
		}
		valid = pos + int64(len(b))
		res.NextOffset = b.NextOffset()
	}
	if fileSize > valid {
		if err := s.log.Truncate(valid); err != nil {
			return res, storageErr("truncate", s.logPath, err)
		}
		res.TruncatedBytes = fileSize - valid
	}
	s.size = valid
	s.maxTS, s.maxTSKnown = ib.maxTS, true
	if ib.maxTS.Timestamp < 0 {
		s.maxTS = TimestampOffset{Timestamp: -1, Offset: s.base}
	}
	s.rollTSKnown = false
	s.bytesSinceLastIndexEntry = 0
	if err := s.offIdx.trim(); err != nil {
		return res, err
	}
	if err := s.timeIdx.maybeAppend(ib.maxTS.Timestamp, ib.maxTS.Offset, true); err != nil {
		return res, err
	}
	if err := s.timeIdx.trim(); err != nil {
		return res, err
	}
	if err := s.txnIdx.truncateTo(res.NextOffset); err != nil {
		return res, err
	}
	return res, nil
}

// isLegacyMessageAt reports whether a whole magic 0/1 message with a valid
// CRC starts at pos.
func (s *Segment) isLegacyMessageAt(pos, fileSize int64) bool {
	var hdr [record.LogOverhead]byte
	if _, err := s.log.ReadAt(hdr[:], pos); err != nil {
		return false
	}
	total := int64(be32(hdr[8:])) + record.LogOverhead
	if total < record.LogOverhead || pos+total > fileSize || total > 1<<30 {
		return false
	}
	msg := make([]byte, total)
	if _, err := s.log.ReadAt(msg, pos); err != nil {
		return false
	}
	return record.IsValidLegacyMessage(msg)
}

// loadIndexesForRecoveryLocked opens the index files without checking them:
// recovery rebuilds them anyway.
func (s *Segment) loadIndexesForRecoveryLocked() error {
	if s.offIdx != nil {
		return nil
	}
	off, err := openOffsetIndex(s.fs, segPath(s.dir, s.base, IndexSuffix), s.base, s.cfg.MaxIndexSize)
	if err != nil {
		return err
	}
	tix, err := openTimeIndex(s.fs, segPath(s.dir, s.base, TimeIndexSuffix), s.base, s.cfg.MaxIndexSize)
	if err != nil {
		off.close()
		return err
	}
	s.offIdx, s.timeIdx = off, tix
	return nil
}

// batchReader reads whole batches from a file sequentially through a buffer.
type batchReader struct {
	f        File
	pos, end int64 // file position of buf[off], end of the readable range
	buf      []byte
	off, n   int
}

func newBatchReader(f File, from, end int64) *batchReader {
	return &batchReader{f: f, pos: from, end: end, buf: make([]byte, 1<<20)}
}

// next returns the next whole batch and its file position, io.EOF at a
// clean end, or a *record.Error for a malformed or incomplete batch.
func (r *batchReader) next() (record.Batch, int64, error) {
	for {
		pos := r.pos
		avail := r.buf[r.off:r.n]
		if len(avail) == 0 && pos >= r.end {
			return nil, pos, io.EOF
		}
		total, err := record.Peek(avail, 0)
		if err != nil {
			return nil, pos, err
		}
		if total > 0 && pos+int64(total) > r.end {
			return nil, pos, record.Corruptf("incomplete batch at position %d (%d bytes left, batch needs %d)", pos, r.end-pos, total)
		}
		if total > 0 && len(avail) >= total {
			r.off += total
			r.pos += int64(total)
			return record.Batch(avail[:total:total]), pos, nil
		}
		// Need more bytes: move what we have to the front and refill.
		if pos+int64(len(avail)) >= r.end {
			return nil, pos, record.Corruptf("incomplete batch at position %d (%d bytes left, batch needs %d)", pos, len(avail), total)
		}
		if total > len(r.buf) {
			grown := make([]byte, total)
			copy(grown, avail)
			r.buf = grown
		} else {
			copy(r.buf, avail)
		}
		r.n = len(avail)
		r.off = 0
		want := min(int64(len(r.buf)-r.n), r.end-(pos+int64(r.n)))
		got, err := r.f.ReadAt(r.buf[r.n:r.n+int(want)], pos+int64(r.n))
		r.n += got
		if err != nil && err != io.EOF {
			return nil, pos, storageErr("read", r.f.Name(), err)
		}
		if got == 0 {
			return nil, pos, record.Corruptf("incomplete batch at position %d", pos)
		}
	}
}
