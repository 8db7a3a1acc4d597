package segment

import (
	"encoding/binary"
	"sort"
)

const timeEntrySize = 12

// TimestampOffset is one time-index entry in absolute terms: every record
// with a timestamp greater than Timestamp is at or after Offset.
type TimestampOffset struct {
	Timestamp int64
	Offset    int64
}

// timeIndex is the sparse .timeindex: (timestamp int64, relative offset int32).
type timeIndex struct{ *index }

func openTimeIndex(fs FS, path string, base int64, maxSize int) (*timeIndex, error) {
	ix, err := openIndex(fs, path, base, timeEntrySize, maxSize)
	if err != nil {
		return nil, err
	}
	return &timeIndex{ix}, nil
}

func (t *timeIndex) at(i int) TimestampOffset {
	e := t.entry(i)
	return TimestampOffset{Timestamp: be64(e), Offset: t.base + int64(be32(e[8:]))}
}

// isFull keeps the last slot free for the final entry written when the
// segment becomes inactive (Kafka's TimeIndex.isFull).
func (t *timeIndex) isFull() bool { return t.entries >= t.maxEntries-1 }

// lastEntry is the last entry, or (-1, base) for an empty index.
func (t *timeIndex) lastEntry() TimestampOffset {
	if t.entries == 0 {
		return TimestampOffset{Timestamp: -1, Offset: t.base}
	}
	return t.at(t.entries - 1)
}

// maybeAppend adds (timestamp, offset) if the timestamp is greater than the
// last entry's. skipFull allows the final entry written when the segment
// becomes inactive even if the index is full.
func (t *timeIndex) maybeAppend(timestamp, offset int64, skipFull bool) error {
	last := t.lastEntry()
	if t.entries > 0 && offset < last.Offset {
		return corruptIndex("attempt to append an offset (%d) to slot %d no larger than the last offset appended (%d) to %s",
			offset, t.entries, last.Offset, t.path)
	}
	if t.entries > 0 && timestamp < last.Timestamp {
		return corruptIndex("attempt to append a timestamp (%d) to slot %d no larger than the last timestamp appended (%d) to %s",
			timestamp, t.entries, last.Timestamp, t.path)
	}
	if timestamp <= last.Timestamp {
		return nil
	}
	if !skipFull && t.isFull() {
		return corruptIndex("attempt to append to a full time index (size = %d)", t.entries)
	}
	rel, err := t.relative(offset)
	if err != nil {
		return err
	}
	var e [timeEntrySize]byte
	binary.BigEndian.PutUint64(e[:], uint64(timestamp))
	binary.BigEndian.PutUint32(e[8:], uint32(rel))
	return t.appendEntry(e[:])
}

// lookup returns the entry with the largest timestamp <= target, or
// (-1, base) when there is none.
func (t *timeIndex) lookup(target int64) TimestampOffset {
	i := sort.Search(t.entries, func(i int) bool { return t.at(i).Timestamp > target }) - 1
	if i < 0 {
		return TimestampOffset{Timestamp: -1, Offset: t.base}
	}
	return t.at(i)
}

// truncateTo removes the entries for offsets >= offset.
func (t *timeIndex) truncateTo(offset int64) {
	n := sort.Search(t.entries, func(i int) bool { return t.at(i).Offset >= offset })
	t.truncateToEntries(n)
}

// check verifies whole entries, strictly increasing timestamps >= 0 and
// non-decreasing offsets within [base, limitOffset).
func (t *timeIndex) check(limitOffset int64) error {
	if t.length%timeEntrySize != 0 {
		return corruptIndex("time index file %s is corrupt, found %d bytes which is neither positive nor a multiple of %d", t.path, t.length, timeEntrySize)
	}
	prev := TimestampOffset{Timestamp: -1, Offset: t.base}
	for i := 0; i < t.entries; i++ {
		e := t.at(i)
		if e.Timestamp <= prev.Timestamp || e.Offset < prev.Offset || (limitOffset >= 0 && e.Offset >= limitOffset) {
			return corruptIndex("corrupt time index found, time index file %s entry %d (timestamp %d, offset %d) does not follow (timestamp %d, offset %d)",
				t.path, i, e.Timestamp, e.Offset, prev.Timestamp, prev.Offset)
		}
		prev = e
	}
	return nil
}
