package record

import "encoding/binary"

// SetBaseOffset overwrites the base offset. The field is outside the CRC.
func (b Batch) SetBaseOffset(offset int64) {
	binary.BigEndian.PutUint64(b[baseOffsetPos:], uint64(offset))
}

// SetLastOffset sets the base offset so that the last record gets offset
// last (the way Kafka assigns offsets to a validated batch).
func (b Batch) SetLastOffset(last int64) { b.SetBaseOffset(last - int64(b.LastOffsetDelta())) }

// SetPartitionLeaderEpoch overwrites the partition leader epoch. The field is
// outside the CRC.
func (b Batch) SetPartitionLeaderEpoch(epoch int32) {
	binary.BigEndian.PutUint32(b[leaderEpochPos:], uint32(epoch))
}

// SetMaxTimestamp sets the timestamp type bit and the max timestamp. Both are
// covered by the CRC, which is recomputed only when one of them changes; a
// batch whose fields already hold these values keeps the producer's bytes.
// It reports whether the batch changed.
func (b Batch) SetMaxTimestamp(t TimestampType, maxTimestamp int64) bool {
	if b.TimestampType() == t && b.MaxTimestamp() == maxTimestamp {
		return false
	}
	// Like Kafka, the attributes are recomposed from the known fields, which
	// clears any unknown bit.
	old := b.Attributes()
	attrs := MakeAttributes(old.Compression(), t, old.IsTransactional(), old.IsControl())
	if old.HasDeleteHorizon() {
		attrs |= deleteHorizonBit
	}
	binary.BigEndian.PutUint16(b[attributesPos:], uint16(attrs))
	binary.BigEndian.PutUint64(b[maxTimestampPos:], uint64(maxTimestamp))
	b.updateCRC()
	return true
}
