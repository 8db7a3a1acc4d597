package record

import "encoding/binary"

// minSizeField is the smallest batchLength any message format can have
// (LegacyRecord.RECORD_OVERHEAD_V0); Kafka rejects smaller ones before it
// even looks at the magic byte.
const minSizeField = 14

// Peek examines the start of a batch and returns its total size, following
// the checks of Kafka's batch readers: a size field below the legacy minimum
// or above maxSize, or a magic outside 0..2, is CORRUPT_MESSAGE; magic 0/1 is
// ErrLegacyMagic; a v2 batch shorter than its 61-byte header is
// CORRUPT_MESSAGE. With fewer than 17 bytes (through the magic byte) it
// returns 0 and no error: more bytes are needed. maxSize <= 0 means no limit.
func Peek(buf []byte, maxSize int) (total int, err error) {
	if len(buf) < LogOverhead {
		return 0, nil
	}
	size := int32(binary.BigEndian.Uint32(buf[lengthPos:]))
	if size < minSizeField {
		return 0, corrupt("record size %d is less than the minimum record overhead (%d)", size, minSizeField)
	}
	if maxSize > 0 && int64(size) > int64(maxSize) {
		return 0, corrupt("record size %d exceeds the largest allowable message size (%d)", size, maxSize)
	}
	if len(buf) < magicPos+1 {
		return 0, nil
	}
	magic := int8(buf[magicPos])
	if magic < 0 || magic > CurrentMagic {
		return 0, corrupt("invalid magic found in record: %d", magic)
	}
	if magic < CurrentMagic {
		return 0, ErrLegacyMagic
	}
	total = int(size) + LogOverhead
	if total < HeaderSize {
		if len(buf) < total {
			return total, nil // incomplete: the size is judged once the batch is whole
		}
		return 0, corrupt("record batch is corrupt (the size %d is smaller than the minimum allowed overhead %d)",
			total, HeaderSize)
	}
	return total, nil
}

// Next cuts the first batch off buf after the checks of Peek. When buf holds
// less than one whole batch (an incomplete tail), Next returns a nil batch,
// rest == buf and a nil error.
func Next(buf []byte, maxSize int) (b Batch, rest []byte, err error) {
	total, err := Peek(buf, maxSize)
	if err == ErrLegacyMagic && len(buf) < int(binary.BigEndian.Uint32(buf[lengthPos:]))+LogOverhead {
		return nil, buf, nil // an incomplete tail, whatever its magic
	}
	if err != nil {
		return nil, buf, err
	}
	if total == 0 || len(buf) < total {
		return nil, buf, nil
	}
	return Batch(buf[:total:total]), buf[total:], nil
}

// Split cuts buf into whole batches. It stops at the first fault (returned
// with the batches before it) or at an incomplete tail, whose length it
// returns; a complete, well-formed buf has tail == 0.
func Split(buf []byte) (batches []Batch, tail int, err error) {
	for len(buf) > 0 {
		b, rest, err := Next(buf, 0)
		if err != nil {
			return batches, len(buf), err
		}
		if b == nil {
			return batches, len(buf), nil
		}
		batches = append(batches, b)
		buf = rest
	}
	return batches, 0, nil
}

// Verify is Kafka's ensureValid: the header is whole and the CRC matches.
func (b Batch) Verify() error {
	if len(b) < HeaderSize {
		return corrupt("record batch is corrupt (the size %d is smaller than the minimum allowed overhead %d)", len(b), HeaderSize)
	}
	if stored, computed := b.CRC(), b.ComputeCRC(); stored != computed {
		return corrupt("record is corrupt (stored crc = %d, computed crc = %d)", stored, computed)
	}
	return nil
}
