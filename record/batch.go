package record

import "encoding/binary"

// Byte positions of the fields of a v2 batch header.
const (
	baseOffsetPos      = 0
	lengthPos          = 8
	leaderEpochPos     = 12
	magicPos           = 16
	crcPos             = 17
	attributesPos      = 21
	lastOffsetDeltaPos = 23
	baseTimestampPos   = 27
	maxTimestampPos    = 35
	producerIDPos      = 43
	producerEpochPos   = 51
	baseSequencePos    = 53
	recordCountPos     = 57

	// HeaderSize is the fixed size of a v2 batch header (RECORD_BATCH_OVERHEAD).
	HeaderSize = 61
	// LogOverhead is the size of the baseOffset and batchLength fields that
	// precede every batch or legacy message (LOG_OVERHEAD).
	LogOverhead = 12
	// CurrentMagic is the only batch format kbroker reads and writes.
	CurrentMagic = 2
)

// Batch is a view over the bytes of exactly one record batch. Its methods read
// the header in place; nothing is copied. A Batch obtained from Split always
// has at least HeaderSize bytes and len == LogOverhead + BatchLength().
type Batch []byte

// BaseOffset is the offset of the first record.
func (b Batch) BaseOffset() int64 { return int64(binary.BigEndian.Uint64(b[baseOffsetPos:])) }

// BatchLength is the number of bytes after the length field.
func (b Batch) BatchLength() int32 { return int32(binary.BigEndian.Uint32(b[lengthPos:])) }

// Size is the total size of the batch in bytes.
func (b Batch) Size() int { return len(b) }

// PartitionLeaderEpoch is the leader epoch stamped by the leader that appended the batch.
func (b Batch) PartitionLeaderEpoch() int32 {
	return int32(binary.BigEndian.Uint32(b[leaderEpochPos:]))
}

// Magic is the format version byte; 2 for every batch this package accepts.
func (b Batch) Magic() int8 { return int8(b[magicPos]) }

// CRC is the stored checksum.
func (b Batch) CRC() uint32 { return binary.BigEndian.Uint32(b[crcPos:]) }

// Attributes is the raw attributes field.
func (b Batch) Attributes() Attributes {
	return Attributes(binary.BigEndian.Uint16(b[attributesPos:]))
}

// LastOffsetDelta is lastOffset - baseOffset.
func (b Batch) LastOffsetDelta() int32 {
	return int32(binary.BigEndian.Uint32(b[lastOffsetDeltaPos:]))
}

// LastOffset is the offset of the last record (BaseOffset + LastOffsetDelta).
func (b Batch) LastOffset() int64 { return b.BaseOffset() + int64(b.LastOffsetDelta()) }

// NextOffset is the offset after the batch.
func (b Batch) NextOffset() int64 { return b.LastOffset() + 1 }

// BaseTimestamp is the first record's timestamp, or the delete horizon when
// Attributes().HasDeleteHorizon().
func (b Batch) BaseTimestamp() int64 { return int64(binary.BigEndian.Uint64(b[baseTimestampPos:])) }

// MaxTimestamp is the largest record timestamp, or the broker's append time
// for LogAppendTime batches.
func (b Batch) MaxTimestamp() int64 { return int64(binary.BigEndian.Uint64(b[maxTimestampPos:])) }

// ProducerID is the idempotent producer id, -1 when none.
func (b Batch) ProducerID() int64 { return int64(binary.BigEndian.Uint64(b[producerIDPos:])) }

// ProducerEpoch is the producer epoch, -1 when none.
func (b Batch) ProducerEpoch() int16 { return int16(binary.BigEndian.Uint16(b[producerEpochPos:])) }

// BaseSequence is the sequence number of the first record, -1 when none.
func (b Batch) BaseSequence() int32 { return int32(binary.BigEndian.Uint32(b[baseSequencePos:])) }

// LastSequence is the sequence of the last record, wrapping past MaxInt32 to
// 0 as Kafka does; -1 when the batch has no sequence (base sequence -1).
func (b Batch) LastSequence() int32 {
	base := b.BaseSequence()
	if base == -1 {
		return -1
	}
	return IncrementSequence(base, b.LastOffsetDelta())
}

// NumRecords is the declared record count.
func (b Batch) NumRecords() int32 { return int32(binary.BigEndian.Uint32(b[recordCountPos:])) }

// Payload is the records area: varint records, or one compressed stream.
func (b Batch) Payload() []byte { return b[HeaderSize:] }

// Compression is the codec of the payload.
func (b Batch) Compression() Compression { return b.Attributes().Compression() }

// TimestampType is CreateTime or LogAppendTime.
func (b Batch) TimestampType() TimestampType { return b.Attributes().TimestampType() }

// IsTransactional reports the transactional attribute.
func (b Batch) IsTransactional() bool { return b.Attributes().IsTransactional() }

// IsControl reports the control attribute (transaction markers).
func (b Batch) IsControl() bool { return b.Attributes().IsControl() }

// HasProducerID reports whether the batch carries an idempotent producer id.
func (b Batch) HasProducerID() bool { return b.ProducerID() >= 0 }

// IncrementSequence adds delta to a sequence number, wrapping from MaxInt32
// to 0 (DefaultRecordBatch.incrementSequence).
func IncrementSequence(seq, delta int32) int32 {
	if seq > (1<<31-1)-delta {
		return delta - ((1<<31 - 1) - seq) - 1
	}
	return seq + delta
}
