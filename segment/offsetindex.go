package segment

import (
	"encoding/binary"
	"sort"
)

const offsetEntrySize = 8

// offsetIndex is the sparse .index: (relative offset int32, position int32).
type offsetIndex struct{ *index }

// OffsetPosition is one offset-index entry in absolute terms.
type OffsetPosition struct {
	Offset   int64
	Position int32
}

func openOffsetIndex(fs FS, path string, base int64, maxSize int) (*offsetIndex, error) {
	ix, err := openIndex(fs, path, base, offsetEntrySize, maxSize)
	if err != nil {
		return nil, err
	}
	return &offsetIndex{ix}, nil
}

func (o *offsetIndex) at(i int) OffsetPosition {
	e := o.entry(i)
	return OffsetPosition{Offset: o.base + int64(be32(e)), Position: be32(e[4:])}
}

func (o *offsetIndex) lastOffset() int64 {
	if o.entries == 0 {
		return o.base
	}
	return o.at(o.entries - 1).Offset
}

// append adds (offset, position); offsets must strictly increase.
func (o *offsetIndex) append(offset int64, position int32) error {
	if o.entries > 0 && offset <= o.lastOffset() {
		return corruptIndex("attempt to append an offset (%d) to position %d no larger than the last offset appended (%d) to %s",
			offset, o.entries, o.lastOffset(), o.path)
	}
	rel, err := o.relative(offset)
	if err != nil {
		return err
	}
	var e [offsetEntrySize]byte
	binary.BigEndian.PutUint32(e[:], uint32(rel))
	binary.BigEndian.PutUint32(e[4:], uint32(position))
	return o.appendEntry(e[:])
}

// lookup returns the entry with the largest offset <= target, or (base, 0)
// when there is none.
func (o *offsetIndex) lookup(target int64) (OffsetPosition, int) {
	i := sort.Search(o.entries, func(i int) bool { return o.at(i).Offset > target }) - 1
	if i < 0 {
		return OffsetPosition{Offset: o.base}, -1
	}
	return o.at(i), i
}

// truncateTo removes the entries for offsets >= offset.
func (o *offsetIndex) truncateTo(offset int64) {
	n := sort.Search(o.entries, func(i int) bool { return o.at(i).Offset >= offset })
	o.truncateToEntries(n)
}

// check verifies the entries: whole entries only, offsets strictly
// increasing from the base and below limitOffset (the next segment's base, or
// -1 if unknown), positions strictly increasing, above 0 and below logSize.
func (o *offsetIndex) check(logSize int64, limitOffset int64) error {
	if o.length%offsetEntrySize != 0 {
		return corruptIndex("index file %s is corrupt, found %d bytes which is neither positive nor a multiple of %d", o.path, o.length, offsetEntrySize)
	}
	prev := OffsetPosition{Offset: o.base - 1, Position: 0}
	for i := 0; i < o.entries; i++ {
		e := o.at(i)
		if e.Offset <= prev.Offset || e.Position <= prev.Position || int64(e.Position) >= logSize ||
			(limitOffset >= 0 && e.Offset >= limitOffset) {
			return corruptIndex("corrupt index found, index file %s entry %d (offset %d, position %d) does not follow (offset %d, position %d) within a log of %d bytes",
				o.path, i, e.Offset, e.Position, prev.Offset, prev.Position, logSize)
		}
		prev = e
	}
	return nil
}
