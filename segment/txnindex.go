package segment

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"sort"
)

const txnEntrySize = 34

// AbortedTxn is one .txnindex entry: a transaction that was aborted, with the
// offsets of its first record and of its ABORT marker, and the last stable
// offset at the time the marker was written.
type AbortedTxn struct {
	ProducerID       int64
	FirstOffset      int64
	LastOffset       int64
	LastStableOffset int64
}

// txnIndex is the .txnindex of a segment. The file exists only once an entry
// was appended; entries are kept in memory once loaded (they are few).
type txnIndex struct {
	fs      FS
	path    string
	base    int64
	f       File // nil until the first append or load of an existing file
	entries []AbortedTxn
	loaded  bool
}

func newTxnIndex(fs FS, path string, base int64) *txnIndex {
	return &txnIndex{fs: fs, path: path, base: base}
}

func (t *txnIndex) load() error {
	if t.loaded {
		return nil
	}
	f, err := t.fs.OpenFile(t.path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		t.loaded = true
		return nil
	}
	if err != nil {
		return storageErr("open", t.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return storageErr("stat", t.path, err)
	}
	buf := make([]byte, st.Size())
	if _, err := f.ReadAt(buf, 0); err != nil && err != io.EOF {
		f.Close()
		return storageErr("read", t.path, err)
	}
	var entries []AbortedTxn
	for len(buf) >= txnEntrySize {
		// Kafka reads the version from the field's first byte only.
		if v := int8(buf[0]); v > 0 {
			f.Close()
			return corruptIndex("unexpected aborted transaction version %d in transaction index %s, current version is 0", v, t.path)
		}
		entries = append(entries, AbortedTxn{
			ProducerID:       be64(buf[2:]),
			FirstOffset:      be64(buf[10:]),
			LastOffset:       be64(buf[18:]),
			LastStableOffset: be64(buf[26:]),
		})
		buf = buf[txnEntrySize:]
	}
	// A torn last entry (a crash mid-write) is ignored, as Kafka's reader
	// ignores it; the next append overwrites it.
	t.f, t.entries, t.loaded = f, entries, true
	return nil
}

// append adds an aborted transaction; last offsets must strictly increase.
func (t *txnIndex) append(a AbortedTxn) error {
	if err := t.load(); err != nil {
		return err
	}
	if n := len(t.entries); n > 0 && t.entries[n-1].LastOffset >= a.LastOffset {
		return fmt.Errorf("the last offset of appended transactions must increase sequentially, but %d is not greater than current last offset %d of index %s",
			a.LastOffset, t.entries[n-1].LastOffset, t.path)
	}
	if t.f == nil {
		f, err := t.fs.OpenFile(t.path, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return storageErr("create", t.path, err)
		}
		t.f = f
	}
	var e [txnEntrySize]byte
	binary.BigEndian.PutUint64(e[2:], uint64(a.ProducerID))
	binary.BigEndian.PutUint64(e[10:], uint64(a.FirstOffset))
	binary.BigEndian.PutUint64(e[18:], uint64(a.LastOffset))
	binary.BigEndian.PutUint64(e[26:], uint64(a.LastStableOffset))
	if _, err := t.f.WriteAt(e[:], int64(len(t.entries)*txnEntrySize)); err != nil {
		return storageErr("write", t.path, err)
	}
	t.entries = append(t.entries, a)
	return nil
}

// collect returns the aborted transactions that overlap [fetchOffset,
// upperBound) and whether the search is complete (some entry's last stable
// offset already reaches upperBound, so later segments cannot add more).
func (t *txnIndex) collect(fetchOffset, upperBound int64) ([]AbortedTxn, bool, error) {
	if err := t.load(); err != nil {
		return nil, false, err
	}
	var out []AbortedTxn
	for _, a := range t.entries {
		if a.LastOffset >= fetchOffset && a.FirstOffset < upperBound {
			out = append(out, a)
		}
		if a.LastStableOffset >= upperBound {
			return out, true, nil
		}
	}
	return out, false, nil
}

// truncateTo drops entries whose marker is at or after offset.
func (t *txnIndex) truncateTo(offset int64) error {
	if err := t.load(); err != nil {
		return err
	}
	n := len(t.entries)
	for n > 0 && t.entries[n-1].LastOffset >= offset {
		n--
	}
	if n == len(t.entries) {
		return nil
	}
	t.entries = t.entries[:n]
	return storageErr("truncate", t.path, t.f.Truncate(int64(n*txnEntrySize)))
}

// check verifies that no entry ends before the segment's base offset.
func (t *txnIndex) check() error {
	if err := t.load(); err != nil {
		return err
	}
	for _, a := range t.entries {
		if a.LastOffset < t.base {
			return corruptIndex("last offset of aborted transaction %+v in index %s is less than start offset %d", a, t.path, t.base)
		}
	}
	return nil
}

func (t *txnIndex) flush() error {
	if t.f == nil {
		return nil
	}
	return storageErr("fsync", t.path, t.f.Sync())
}

func (t *txnIndex) close() error {
	if t.f == nil {
		return nil
	}
	err := t.f.Close()
	t.f = nil
	t.loaded = false
	t.entries = nil
	return err
}

// AppendAbortedTxn records an aborted transaction whose ABORT marker is in
// this segment. The .txnindex file is created on the first call.
func (s *Segment) AppendAbortedTxn(a AbortedTxn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txnIdx.append(a)
}

// CollectAbortedTxns returns the aborted transactions of this segment that
// overlap [fetchOffset, upperBound), and whether later segments can be
// skipped (see txnIndex.collect).
func (s *Segment) CollectAbortedTxns(fetchOffset, upperBound int64) ([]AbortedTxn, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txnIdx.collect(fetchOffset, upperBound)
}

// reset empties the index (its file, if any, is kept with no entries), as
// Kafka's TransactionIndex.reset before a segment is recovered.
func (t *txnIndex) reset() error {
	if err := t.load(); err != nil {
		return err
	}
	t.entries = nil
	if t.f == nil {
		return nil
	}
	return storageErr("truncate", t.path, t.f.Truncate(0))
}

// ResetTxnIndex empties the segment's .txnindex before recovery re-adds
// the aborted transactions of its markers.
func (s *Segment) ResetTxnIndex() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.txnIdx.reset()
}

// AbortedTxns lists the segment's .txnindex entries.
func (s *Segment) AbortedTxns() ([]AbortedTxn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.txnIdx.load(); err != nil {
		return nil, err
	}
	return append([]AbortedTxn(nil), s.txnIdx.entries...), nil
}

// FetchUpperBoundOffset is the offset of the first offset-index entry whose
// position is at or past startPos+size (Kafka's
// OffsetIndex.fetchUpperBoundOffset): the bound of a fetch that read size
// bytes from the batch at startPos, used to collect aborted transactions.
// ok is false when no entry lies that far.
func (s *Segment) FetchUpperBoundOffset(startPos, size int64) (int64, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.loadIndexesLocked(); err != nil {
		return 0, false, err
	}
	target := startPos + size
	o := s.offIdx
	i := sort.Search(o.entries, func(i int) bool { return int64(o.at(i).Position) >= target })
	if i == o.entries {
		return 0, false, nil
	}
	return o.at(i).Offset, true, nil
}
