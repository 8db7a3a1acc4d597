package record

import "fmt"

// Attributes is the int16 attributes field of a v2 batch.
type Attributes uint16

const (
	compressionMask    Attributes = 0x07
	timestampTypeBit   Attributes = 0x08
	transactionalBit   Attributes = 0x10
	controlBit         Attributes = 0x20
	deleteHorizonBit   Attributes = 0x40
	knownAttributeBits Attributes = 0x7f
)

// Compression is a batch codec id (attribute bits 0-2).
type Compression int8

// The codecs Kafka defines. Ids 5-7 are unassigned.
const (
	CompressionNone   Compression = 0
	CompressionGzip   Compression = 1
	CompressionSnappy Compression = 2
	CompressionLz4    Compression = 3
	CompressionZstd   Compression = 4
)

// String is the codec's name as Kafka prints it (kafka-dump-log's "compresscodec").
func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	case CompressionSnappy:
		return "snappy"
	case CompressionLz4:
		return "lz4"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("unknown(%d)", int8(c))
}

// Known reports whether the id names a codec.
func (c Compression) Known() bool { return c >= CompressionNone && c <= CompressionZstd }

// TimestampType says what a batch's timestamps mean.
type TimestampType int8

const (
	// CreateTime: timestamps were set by the producer.
	CreateTime TimestampType = 0
	// LogAppendTime: the broker's append time, carried in MaxTimestamp.
	LogAppendTime TimestampType = 1
)

// String is Kafka's name for the timestamp type.
func (t TimestampType) String() string {
	if t == LogAppendTime {
		return "LogAppendTime"
	}
	return "CreateTime"
}

// Compression is the codec id.
func (a Attributes) Compression() Compression { return Compression(a & compressionMask) }

// TimestampType is bit 3.
func (a Attributes) TimestampType() TimestampType {
	if a&timestampTypeBit != 0 {
		return LogAppendTime
	}
	return CreateTime
}

// IsTransactional is bit 4.
func (a Attributes) IsTransactional() bool { return a&transactionalBit != 0 }

// IsControl is bit 5.
func (a Attributes) IsControl() bool { return a&controlBit != 0 }

// HasDeleteHorizon is bit 6 (set only by the log cleaner, KIP-534).
func (a Attributes) HasDeleteHorizon() bool { return a&deleteHorizonBit != 0 }

// MakeAttributes composes an attributes field.
func MakeAttributes(c Compression, t TimestampType, transactional, control bool) Attributes {
	a := Attributes(c) & compressionMask
	if t == LogAppendTime {
		a |= timestampTypeBit
	}
	if transactional {
		a |= transactionalBit
	}
	if control {
		a |= controlBit
	}
	return a
}
