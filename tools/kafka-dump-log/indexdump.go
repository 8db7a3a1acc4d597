package main

// Dumping and checking .index and .timeindex files (DumpLogSegments.dumpIndex
// and dumpTimeIndex). The files are read by their byte layout, as Kafka's
// OffsetIndex/TimeIndex read them when opened read-only with no maximum
// size: the entry count is the file length divided by the entry size, so a
// preallocated (untrimmed) index shows its zero entries, where dumping stops.

import (
	"encoding/binary"
	"os"

	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

const (
	offsetEntrySize = 8  // relativeOffset int32, position int32
	timeEntrySize   = 12 // timestamp int64, relativeOffset int32
	warmIndexBytes  = 8192
)

type indexFile struct {
	file      jfile
	data      []byte
	entrySize int
	base      int64
}

func readIndexFile(file jfile, entrySize int, base int64) (*indexFile, error) {
	data, err := os.ReadFile(file.path)
	if err != nil {
		return nil, ioErr(file.path, err)
	}
	return &indexFile{file: file, data: data, entrySize: entrySize, base: base}, nil
}

func (x *indexFile) entries() int { return len(x.data) / x.entrySize }

func (x *indexFile) length() int64 { return int64(len(x.data)) }

// offsetEntry is OffsetIndex.entry(n): absolute offset and position.
func (x *indexFile) offsetEntry(n int) (int64, int32) {
	p := x.data[n*offsetEntrySize:]
	return x.base + int64(int32(binary.BigEndian.Uint32(p))), int32(binary.BigEndian.Uint32(p[4:]))
}

// timeEntry is TimeIndex.entry(n): timestamp and absolute offset.
func (x *indexFile) timeEntry(n int) (int64, int64) {
	p := x.data[n*timeEntrySize:]
	return int64(binary.BigEndian.Uint64(p)), x.base + int64(int32(binary.BigEndian.Uint32(p[8:])))
}

// lookup is OffsetIndex.lookup: the position of the largest entry whose
// offset is <= target, searched exactly as AbstractIndex.indexSlotRangeFor
// searches (warm section first), so that a damaged index leads where
// Kafka's lookup leads; position 0 when no entry qualifies.
func (x *indexFile) lookup(target int64) int32 {
	n := x.entries()
	if n == 0 {
		return 0
	}
	key := func(i int) int64 { off, _ := x.offsetEntry(i); return off }
	search := func(lo, hi int) int {
		for lo < hi {
			mid := int(uint(lo+hi+1) >> 1)
			switch k := key(mid); {
			case k > target:
				hi = mid - 1
			case k < target:
				lo = mid
			default:
				return mid
			}
		}
		return lo
	}
	var slot int
	firstHot := max(0, n-1-warmIndexBytes/offsetEntrySize)
	switch {
	case key(firstHot) < target:
		slot = search(firstHot, n-1)
	case key(0) > target:
		return 0
	default:
		slot = search(0, firstHot)
	}
	_, pos := x.offsetEntry(slot)
	return pos
}

func corruptIndex(format string, args ...any) error {
	return jerr("org.apache.kafka.storage.internals.log.CorruptIndexException", format, args...)
}

// offsetSanityCheck is OffsetIndex.sanityCheck.
func (x *indexFile) offsetSanityCheck() error {
	if n := x.entries(); n != 0 {
		if last, _ := x.offsetEntry(n - 1); last < x.base {
			return corruptIndex("Corrupt index found, index file %s has non-zero size but the last offset is %d which is less than the base offset %d",
				x.file.Abs(), last, x.base)
		}
	}
	if x.length()%offsetEntrySize != 0 {
		return corruptIndex("Index file %s is corrupt, found %d bytes which is neither positive nor a multiple of %d",
			x.file.Abs(), x.length(), offsetEntrySize)
	}
	return nil
}

// timeSanityCheck is TimeIndex.sanityCheck.
func (x *indexFile) timeSanityCheck() error {
	if n := x.entries(); n != 0 {
		lastTS, lastOffset := x.timeEntry(n - 1)
		if firstTS, _ := x.timeEntry(0); lastTS < firstTS {
			return corruptIndex("Corrupt time index found, time index file (%s) has non-zero size but the last timestamp is %d which is less than the first timestamp %d",
				x.file.Abs(), lastTS, firstTS)
		}
		if lastOffset < x.base {
			return corruptIndex("Corrupt time index found, time index file (%s) has non-zero size but the last offset is %d which is less than the first offset %d",
				x.file.Abs(), lastOffset, x.base)
		}
	}
	if x.length()%timeEntrySize != 0 {
		return corruptIndex("Time index file %s is corrupt, found %d bytes which is neither positive nor a multiple of %d",
			x.file.Abs(), x.length(), timeEntrySize)
	}
	return nil
}

// segmentBase reads the base offset from an index file's name the way Kafka
// does (the part before the first dot) and names the segment's .log.
func segmentBase(file jfile) (prefix string, base int64, err error) {
	parts := javaSplit(file.Name(), ".")
	if len(parts) == 0 {
		return "", 0, jerr("java.lang.ArrayIndexOutOfBoundsException", "Index 0 out of bounds for length 0")
	}
	base, err = parseLong(parts[0])
	return parts[0], base, err
}

func (d *dumper) dumpIndex(file jfile) error {
	maxMessageSize, err := d.opts.maxMessageSize()
	if err != nil {
		return err
	}
	prefix, base, err := segmentBase(file)
	if err != nil {
		return err
	}
	fr, err := openFileRecords(file.sibling(prefix + segment.LogSuffix))
	if err != nil {
		return err
	}
	defer fr.close()
	idx, err := readIndexFile(file, offsetEntrySize, base)
	if err != nil {
		return err
	}
	if idx.entries() == 0 {
		d.printf("%s is empty.\n", file)
		return nil
	}
	if d.opts.indexSanityOnly {
		if err := idx.offsetSanityCheck(); err != nil {
			return err
		}
		d.printf("%s passed sanity check.\n", file)
		return nil
	}
	for i := 0; i < idx.entries(); i++ {
		offset, position := idx.offsetEntry(i)
		// A crash may leave a preallocated index full of zero entries.
		if offset == base && i > 0 {
			return nil
		}
		slice, err := fr.slice(int64(position), int64(maxMessageSize))
		if err != nil {
			return err
		}
		b, err := slice.batches().next()
		if err != nil {
			return err
		}
		if b == nil {
			return jerrNoMsg("java.util.NoSuchElementException")
		}
		last, err := b.lastOffset()
		if err != nil {
			return err
		}
		if last != offset {
			d.indexMismatches.add(file.Abs(), offset, last, true)
		}
		if !d.opts.verifyOnly {
			d.printf("offset: %d position: %d\n", offset, position)
		}
	}
	return nil
}

func (d *dumper) dumpTimeIndex(file jfile) error {
	prefix, base, err := segmentBase(file)
	if err != nil {
		return err
	}
	fr, err := openFileRecords(file.sibling(prefix + segment.LogSuffix))
	if err != nil {
		return err
	}
	defer fr.close()
	idx, err := readIndexFile(file.sibling(prefix+segment.IndexSuffix), offsetEntrySize, base)
	if err != nil {
		return err
	}
	tidx, err := readIndexFile(file, timeEntrySize, base)
	if err != nil {
		return err
	}
	if d.opts.indexSanityOnly {
		if err := tidx.timeSanityCheck(); err != nil {
			return err
		}
		d.printf("%s passed sanity check.\n", file)
		return nil
	}
	prevTS := record.NoTimestamp
	abs := file.Abs()
	for i := 0; i < tidx.entries(); i++ {
		ts, offset := tidx.timeEntry(i)
		if offset == base && i > 0 {
			return nil
		}
		partial, err := fr.slice(int64(idx.lookup(offset)), maxInt32)
		if err != nil {
			return err
		}
		// The first batch whose last offset reaches the indexed offset.
		var found *fileBatch
		var foundLast int64
		it := partial.batches()
		for {
			b, err := it.next()
			if err != nil {
				return err
			}
			if b == nil {
				break
			}
			if foundLast, err = b.lastOffset(); err != nil {
				return err
			}
			if foundLast >= offset {
				found = b
				break
			}
		}
		switch {
		case found == nil:
			d.timeShallowAbsent.add(abs, offset, -1, false)
		case foundLast != offset:
			d.timeShallowAbsent.add(abs, offset, foundLast, false)
		default:
			maxTS := record.NoTimestamp
			err := eachRecord(found, func(r *dumpRecord) error {
				maxTS = max(maxTS, r.timestamp)
				return nil
			})
			if err != nil {
				return err
			}
			if maxTS != ts {
				d.timeMismatches.add(abs, ts, maxTS, false)
			}
			if prevTS >= ts {
				d.timeOutOfOrder.add(abs, ts, prevTS, false)
			}
		}
		if !d.opts.verifyOnly {
			d.printf("timestamp: %d offset: %d\n", ts, offset)
		}
		prevTS = ts
	}
	return nil
}
