package record

import (
	"encoding/binary"
	"errors"
)

// BatchSpec describes a batch to build. NewSpec gives the values of a plain,
// non-idempotent batch.
type BatchSpec struct {
	BaseOffset           int64
	PartitionLeaderEpoch int32
	Compression          Compression
	TimestampType        TimestampType
	Transactional        bool
	Control              bool
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	// MaxTimestamp overrides the computed max timestamp when non-nil (used
	// for LogAppendTime batches).
	MaxTimestamp *int64
}

// NewSpec returns a spec with no producer id, epoch or sequence (-1), epoch
// -1, CreateTime and no compression.
func NewSpec() BatchSpec {
	return BatchSpec{PartitionLeaderEpoch: -1, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1}
}

// NewRecord is a record to put in a built batch.
type NewRecord struct {
	Timestamp int64
	Key       []byte // nil for null
	Value     []byte // nil for null
	Headers   []Header
}

// Build encodes records into one v2 batch with offset deltas 0..n-1, base
// timestamp = the first record's, max timestamp = the largest, and a valid CRC.
func Build(spec BatchSpec, recs []NewRecord) (Batch, error) {
	if len(recs) == 0 {
		return nil, errors.New("record: a batch needs at least one record")
	}
	base := recs[0].Timestamp
	maxTS := int64(-1)
	var body []byte
	for i, r := range recs {
		body = appendRecord(body, r, r.Timestamp-base, int32(i))
		maxTS = max(maxTS, r.Timestamp)
	}
	if spec.MaxTimestamp != nil {
		maxTS = *spec.MaxTimestamp
	}
	payload, err := Compress(spec.Compression, body)
	if err != nil {
		return nil, err
	}
	b := make(Batch, HeaderSize, HeaderSize+len(payload))
	be := binary.BigEndian
	be.PutUint64(b[baseOffsetPos:], uint64(spec.BaseOffset))
	be.PutUint32(b[lengthPos:], uint32(HeaderSize-LogOverhead+len(payload)))
	be.PutUint32(b[leaderEpochPos:], uint32(spec.PartitionLeaderEpoch))
	b[magicPos] = CurrentMagic
	be.PutUint16(b[attributesPos:], uint16(MakeAttributes(spec.Compression, spec.TimestampType, spec.Transactional, spec.Control)))
	be.PutUint32(b[lastOffsetDeltaPos:], uint32(len(recs)-1))
	be.PutUint64(b[baseTimestampPos:], uint64(base))
	be.PutUint64(b[maxTimestampPos:], uint64(maxTS))
	be.PutUint64(b[producerIDPos:], uint64(spec.ProducerID))
	be.PutUint16(b[producerEpochPos:], uint16(spec.ProducerEpoch))
	be.PutUint32(b[baseSequencePos:], uint32(spec.BaseSequence))
	be.PutUint32(b[recordCountPos:], uint32(len(recs)))
	b = append(b, payload...)
	b.updateCRC()
	return b, nil
}

// appendRecord encodes one record: length varint, attributes, timestamp
// delta varlong, offset delta varint, key, value, headers.
func appendRecord(dst []byte, r NewRecord, tsDelta int64, offsetDelta int32) []byte {
	var body []byte
	body = append(body, 0)
	body = appendVarint(body, tsDelta)
	body = appendVarint(body, int64(offsetDelta))
	body = appendNullable(body, r.Key)
	body = appendNullable(body, r.Value)
	body = appendVarint(body, int64(len(r.Headers)))
	for _, h := range r.Headers {
		body = appendVarint(body, int64(len(h.Key)))
		body = append(body, h.Key...)
		body = appendNullable(body, h.Value)
	}
	dst = appendVarint(dst, int64(len(body)))
	return append(dst, body...)
}

func appendNullable(dst, v []byte) []byte {
	if v == nil {
		return appendVarint(dst, -1)
	}
	dst = appendVarint(dst, int64(len(v)))
	return append(dst, v...)
}

// Rebuild re-encodes a batch with offset deltas 0..n-1 and the given codec,
// keeping its producer fields, flags, timestamps, keys, values and headers.
// Kafka rebuilds a batch this way when a compressed batch's inner offsets are
// not sequential or the topic's compression.type differs from the batch's.
func Rebuild(b Batch, c Compression) (Batch, error) {
	it, err := b.Records()
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var recs []NewRecord
	base := b.BaseTimestamp()
	for it.Next() {
		r := it.Record()
		nr := NewRecord{
			Timestamp: base + r.TimestampDelta,
			Key:       cloneNullable(r.Key),
			Value:     cloneNullable(r.Value),
		}
		for _, h := range r.Headers {
			nr.Headers = append(nr.Headers, Header{Key: h.Key, Value: cloneNullable(h.Value)})
		}
		recs = append(recs, nr)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	maxTS := b.MaxTimestamp()
	spec := BatchSpec{
		BaseOffset:           b.BaseOffset(),
		PartitionLeaderEpoch: b.PartitionLeaderEpoch(),
		Compression:          c,
		TimestampType:        b.TimestampType(),
		Transactional:        b.IsTransactional(),
		Control:              b.IsControl(),
		ProducerID:           b.ProducerID(),
		ProducerEpoch:        b.ProducerEpoch(),
		BaseSequence:         b.BaseSequence(),
		MaxTimestamp:         &maxTS,
	}
	return Build(spec, recs)
}

func cloneNullable(v []byte) []byte {
	if v == nil {
		return nil
	}
	return append([]byte{}, v...)
}
