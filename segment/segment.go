package segment

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/kbroker/kbroker/record"
)

// Config holds the per-topic settings a segment needs.
type Config struct {
	// IndexIntervalBytes is index.interval.bytes (default 4096).
	IndexIntervalBytes int
	// MaxIndexSize is segment.index.bytes (default 10 MiB).
	MaxIndexSize int
}

// DefaultConfig has Kafka's defaults.
func DefaultConfig() Config { return Config{IndexIntervalBytes: 4096, MaxIndexSize: 10 << 20} }

// Segment is one log segment: its .log and its indexes.
type Segment struct {
	fs   FS
	dir  string
	base int64
	cfg  Config

	log     File
	logPath string
	size    int64 // bytes of valid batches in the .log

	// nextBase is the next segment's base offset once this one is inactive
	// (an upper bound for index checks), -1 while active or unknown.
	nextBase int64
	active   bool
	deleted  bool // files renamed to .deleted: indexes must not be (re)created

	// mu guards the index fields: reads load and check indexes lazily and may
	// rebuild them, and must never see a mapping that another goroutine is
	// replacing.
	mu      sync.Mutex
	offIdx  *offsetIndex
	timeIdx *timeIndex
	txnIdx  *txnIndex

	// bytesSinceLastIndexEntry counts bytes appended by this process since
	// the last offset-index entry; like Kafka's, it starts at 0 when a
	// segment is opened or recovered, whatever the file holds.
	bytesSinceLastIndexEntry int
	maxTS                    TimestampOffset // max timestamp so far and its offset
	maxTSKnown               bool
	rollTS                   int64 // max timestamp of the first batch, -1 if none
	rollTSKnown              bool
	created                  int64 // ms; time of creation, load or truncation to empty

	// RollJitterMs is the jitter subtracted from segment.ms for this segment.
	RollJitterMs int64
	// OnIndexRebuild, when set, is told each time an index is rebuilt from
	// the .log because it was missing or failed its checks.
	OnIndexRebuild func(logPath, reason string)
}

// Create makes a new, empty, active segment with preallocated indexes.
// Existing files with the same base offset are replaced.
func Create(fs FS, dir string, base int64, cfg Config, now int64) (*Segment, error) {
	for _, suf := range []string{LogSuffix, IndexSuffix, TimeIndexSuffix, TxnIndexSuffix} {
		if err := fs.Remove(segPath(dir, base, suf)); err != nil && !os.IsNotExist(err) {
			return nil, storageErr("remove", segPath(dir, base, suf), err)
		}
	}
	s, err := open(fs, dir, base, cfg, now, os.O_RDWR|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return nil, err
	}
	if err := s.Activate(); err != nil {
		s.Close()
		return nil, err
	}
	s.rollTSKnown = true
	s.rollTS = -1
	return s, nil
}

// Open opens an existing segment's .log. Its indexes are loaded and checked
// on first use. The segment is inactive until Activate.
func Open(fs FS, dir string, base int64, cfg Config, now int64) (*Segment, error) {
	return open(fs, dir, base, cfg, now, os.O_RDWR)
}

func open(fs FS, dir string, base int64, cfg Config, now int64, flag int) (*Segment, error) {
	path := segPath(dir, base, LogSuffix)
	f, err := fs.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, storageErr("open", path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, storageErr("stat", path, err)
	}
	return &Segment{
		fs: fs, dir: dir, base: base, cfg: cfg,
		log: f, logPath: path, size: st.Size(),
		nextBase: -1, created: now,
		txnIdx: newTxnIndex(fs, segPath(dir, base, TxnIndexSuffix), base),
	}, nil
}

// BaseOffset is the first offset the segment may hold.
func (s *Segment) BaseOffset() int64 { return s.base }

// Size is the number of bytes of batches in the .log.
func (s *Segment) Size() int64 { return s.size }

// LogFile is the open .log file, for sending ranges of it.
func (s *Segment) LogFile() File { return s.log }

// Path is the .log file's path.
func (s *Segment) Path() string { return s.logPath }

// Dir is the partition directory holding the segment.
func (s *Segment) Dir() string { return s.dir }

// Activate makes the segment the one appended to: its indexes are loaded
// (checked, rebuilt if needed) and grown back to segment.index.bytes.
func (s *Segment) Activate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = true
	s.nextBase = -1
	if err := s.loadIndexesLocked(); err != nil {
		return err
	}
	if err := s.offIdx.resize(s.cfg.MaxIndexSize); err != nil {
		return err
	}
	if err := s.timeIdx.resize(s.cfg.MaxIndexSize); err != nil {
		return err
	}
	return nil
}

// SetNextBase records the next segment's base offset for an inactive
// segment; index checks use it as an upper bound.
func (s *Segment) SetNextBase(next int64) { s.nextBase = next }

// loadIndexesLocked opens and checks the indexes if they are not loaded yet,
// rebuilding them from the .log when a check fails or a file is missing.
func (s *Segment) loadIndexesLocked() error {
	if s.offIdx != nil {
		return nil
	}
	if s.deleted {
		return fmt.Errorf("segment %s was deleted", s.logPath)
	}
	_, offErr := os.Stat(segPath(s.dir, s.base, IndexSuffix))
	_, timeErr := os.Stat(segPath(s.dir, s.base, TimeIndexSuffix))
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
	reason := ""
	switch {
	case offErr != nil && s.size > 0:
		reason = "offset index file is missing"
	case timeErr != nil && s.size > 0:
		reason = "time index file is missing"
	default:
		if err := off.check(s.size, s.nextBase); err != nil {
			reason = err.Error()
		} else if err := tix.check(s.nextBase); err != nil {
			reason = err.Error()
		} else if err := s.txnIdx.check(); err != nil {
			return err
		}
	}
	if reason != "" {
		return s.rebuildIndexesLocked(reason)
	}
	return nil
}

// rebuildIndexesLocked recreates both indexes from the batches of the .log.
// It stops at the first invalid batch header without touching the .log
// (truncating the .log is recovery's job).
func (s *Segment) rebuildIndexesLocked(reason string) error {
	if s.OnIndexRebuild != nil {
		s.OnIndexRebuild(s.logPath, reason)
	}
	if err := s.offIdx.reset(s.cfg.MaxIndexSize); err != nil {
		return err
	}
	if err := s.timeIdx.reset(s.cfg.MaxIndexSize); err != nil {
		return err
	}
	b := newIndexBuilder(s.cfg.IndexIntervalBytes)
	err := s.walk(0, s.size, func(pos int64, h record.Batch) error {
		return b.add(s.offIdx, s.timeIdx, pos, h)
	})
	if err != nil && !isBatchFault(err) {
		return err
	}
	if err := s.timeIdx.maybeAppend(b.maxTS.Timestamp, b.maxTS.Offset, true); err != nil {
		return err
	}
	s.maxTSKnown = false // reload it from the rebuilt time index
	if !s.active {
		if err := s.offIdx.trim(); err != nil {
			return err
		}
		if err := s.timeIdx.trim(); err != nil {
			return err
		}
	}
	return nil
}

// indexBuilder applies the sparse-index rule to batches read back from a
// .log, one batch at a time (as Kafka's recovery does).
type indexBuilder struct {
	interval  int64
	lastEntry int64 // position of the last index entry
	maxTS     TimestampOffset
}

func newIndexBuilder(interval int) *indexBuilder {
	return &indexBuilder{interval: int64(interval), maxTS: TimestampOffset{Timestamp: -1}}
}

func (ib *indexBuilder) add(off *offsetIndex, tix *timeIndex, pos int64, h record.Batch) error {
	if h.MaxTimestamp() > ib.maxTS.Timestamp {
		ib.maxTS = TimestampOffset{Timestamp: h.MaxTimestamp(), Offset: h.LastOffset()}
	}
	if pos-ib.lastEntry > ib.interval {
		if err := off.append(h.LastOffset(), int32(pos)); err != nil {
			return err
		}
		if err := tix.maybeAppend(ib.maxTS.Timestamp, ib.maxTS.Offset, false); err != nil {
			return err
		}
		ib.lastEntry = pos
	}
	return nil
}

// isBatchFault reports a fault in the .log's bytes (as opposed to an I/O error).
func isBatchFault(err error) bool {
	var re *record.Error
	var se *StorageError
	return errors.As(err, &re) && !errors.As(err, &se)
}

// walk calls fn with the position and header (HeaderSize bytes) of every
// batch in [from, to). It stops with a *record.Error at the first malformed
// or incomplete header, or with fn's error.
func (s *Segment) walk(from, to int64, fn func(pos int64, h record.Batch) error) error {
	var hdr [record.HeaderSize]byte
	for pos := from; pos < to; {
		h, total, err := s.readHeader(hdr[:], pos, to)
		if err != nil {
			return err
		}
		if err := fn(pos, h); err != nil {
			return err
		}
		pos += total
	}
	return nil
}

// readHeader reads and checks the header of the batch at pos, which must end
// by limit.
func (s *Segment) readHeader(buf []byte, pos, limit int64) (record.Batch, int64, error) {
	n := min(int64(len(buf)), limit-pos)
	if n < record.HeaderSize {
		return nil, 0, record.Corruptf("incomplete batch header at position %d of %s", pos, s.logPath)
	}
	if _, err := s.log.ReadAt(buf[:n], pos); err != nil && err != io.EOF {
		return nil, 0, storageErr("read", s.logPath, err)
	}
	total, err := record.Peek(buf[:n], 0)
	if err != nil {
		return nil, 0, err
	}
	if pos+int64(total) > limit {
		return nil, 0, record.Corruptf("incomplete batch of %d bytes at position %d of %s", total, pos, s.logPath)
	}
	h := record.Batch(buf[:record.HeaderSize])
	if h.BaseOffset() < s.base || h.LastOffset() < h.BaseOffset() {
		return nil, 0, record.Corruptf("batch at position %d of %s has offsets [%d, %d] outside segment base %d", pos, s.logPath, h.BaseOffset(), h.LastOffset(), s.base)
	}
	return h, int64(total), nil
}

// canConvertToRelative reports whether offset fits the indexes' int32
// relative offsets.
func (s *Segment) canConvertToRelative(offset int64) bool {
	d := offset - s.base
	return d >= 0 && d <= 1<<31-1
}

// Flush fsyncs the .log and the loaded indexes.
func (s *Segment) Flush() error {
	if err := s.log.Sync(); err != nil {
		return storageErr("fsync", s.logPath, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.offIdx != nil {
		if err := s.offIdx.flush(); err != nil {
			return err
		}
		if err := s.timeIdx.flush(); err != nil {
			return err
		}
	}
	return s.txnIdx.flush()
}

// Close writes the final time-index entry, trims the indexes and closes
// every file. The segment must not be used afterwards.
func (s *Segment) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	if s.offIdx != nil {
		if s.maxTSKnown {
			errs = append(errs, s.timeIdx.maybeAppend(s.maxTS.Timestamp, s.maxTS.Offset, true))
		}
		errs = append(errs, s.offIdx.trim(), s.timeIdx.trim(), s.offIdx.close(), s.timeIdx.close())
		s.offIdx, s.timeIdx = nil, nil
	}
	errs = append(errs, s.txnIdx.close(), s.log.Close())
	return errors.Join(errs...)
}
