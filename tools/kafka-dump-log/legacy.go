package main

// Legacy message sets (magic 0 and 1), which package record refuses to
// parse. kbroker never writes them, but a log directory upgraded from an old
// Kafka may hold them, and the dump tool is what one uses to look. Layout of
// one message after its offset int64 and size int32 (big-endian):
//
//	crc uint32 (CRC-32 IEEE of magic..end)  magic int8  attributes int8
//	[timestamp int64, magic 1 only]  keyLength int32  key  valueLength int32  value
//
// A compressed message holds a message set (offsets and sizes included) in
// its value; with magic 1 the inner offsets are relative to the wrapper's.

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/kbroker/kbroker/record"
)

const (
	noTimestampType   = "NoTimestampType"
	legacyAttrTSType  = 0x08
	legacyCodecMask   = 0x07
	legacyKeySizeV0   = 6  // crc + magic + attributes
	legacyKeySizeV1   = 14 // ... + timestamp
	legacyTimestampAt = 6
)

// legacyRecord is a LegacyRecord: the bytes from the crc to the end of one
// message, possibly with the wrapper's timestamp imposed on it.
type legacyRecord struct {
	buf           []byte
	wrapperLogApp bool // the wrapper is LogAppendTime: its timestamp wins
	wrapperTS     int64
	hasWrapper    bool
	wrapperType   string
}

func (r legacyRecord) magic() int8     { return int8(r.buf[4]) }
func (r legacyRecord) attributes() int { return int(r.buf[5]) }
func (r legacyRecord) crc() uint32     { return binary.BigEndian.Uint32(r.buf) }

func (r legacyRecord) valid() bool {
	return len(r.buf) >= recordOverheadV0 && r.crc() == crc32.ChecksumIEEE(r.buf[4:])
}

func (r legacyRecord) timestampType() string {
	switch {
	case r.magic() == 0:
		return noTimestampType
	case r.hasWrapper:
		return r.wrapperType
	case r.attributes()&legacyAttrTSType != 0:
		return record.LogAppendTime.String()
	}
	return record.CreateTime.String()
}

func (r legacyRecord) timestamp() (int64, error) {
	if r.magic() == 0 {
		return record.NoTimestamp, nil
	}
	if r.wrapperLogApp {
		return r.wrapperTS, nil
	}
	if len(r.buf) < legacyTimestampAt+8 {
		return 0, jerrNoMsg("java.lang.IndexOutOfBoundsException")
	}
	return int64(binary.BigEndian.Uint64(r.buf[legacyTimestampAt:])), nil
}

func (r legacyRecord) codec() (string, error) { return codecName(r.attributes() & legacyCodecMask) }

// keyValue returns the key and value (nil when null) and their size fields.
func (r legacyRecord) keyValue() (key, value []byte, keySize, valueSize int32, err error) {
	at := legacyKeySizeV0
	if r.magic() != 0 {
		at = legacyKeySizeV1
	}
	oob := jerrNoMsg("java.lang.IndexOutOfBoundsException")
	field := func() ([]byte, int32, error) {
		if at+4 > len(r.buf) {
			return nil, 0, oob
		}
		n := int32(binary.BigEndian.Uint32(r.buf[at:]))
		at += 4
		if n < 0 {
			return nil, n, nil
		}
		if int64(at)+int64(n) > int64(len(r.buf)) {
			return nil, n, oob
		}
		b := r.buf[at : at+int(n)]
		at += int(n)
		return b, n, nil
	}
	if key, keySize, err = field(); err != nil {
		return
	}
	value, valueSize, err = field()
	return
}

// legacyEntry is one message of a legacy set with its (absolute) offset.
type legacyEntry struct {
	offset int64
	rec    legacyRecord
}

// legacyRecords lists the records of a legacy "batch" as Kafka's
// AbstractLegacyRecordBatch.iterator does: the message itself when not
// compressed, else its decompressed inner messages (DeepRecordsIterator).
func legacyRecords(offset int64, wrapper legacyRecord) ([]legacyEntry, error) {
	codecID := wrapper.attributes() & legacyCodecMask
	if codecID == 0 {
		return []legacyEntry{{offset: offset, rec: wrapper}}, nil
	}
	invalid := func(format string, args ...any) error {
		return jerr("org.apache.kafka.common.InvalidRecordException", format, args...)
	}
	wm := wrapper.magic()
	if wm != 0 && wm != 1 {
		return nil, invalid("Invalid wrapper magic found in legacy deep record iterator %d", wm)
	}
	if record.Compression(codecID) == record.CompressionZstd {
		return nil, invalid("Invalid wrapper compressionType found in legacy deep record iterator %d", wm)
	}
	_, value, _, _, err := wrapper.keyValue()
	if err != nil {
		return nil, err
	}
	if value == nil {
		return nil, invalid("Found invalid compressed record set with null value (magic = %d)", wm)
	}
	data, err := record.Decompress(record.Compression(codecID), value)
	if err != nil {
		return nil, jerr("org.apache.kafka.common.KafkaException", "%v", err)
	}
	wrapperTS, err := wrapper.timestamp()
	if err != nil {
		return nil, err
	}
	var inner []legacyEntry
	for len(data) >= logOverhead {
		off := int64(binary.BigEndian.Uint64(data))
		size := int32(binary.BigEndian.Uint32(data[8:]))
		if size < recordOverheadV0 {
			return nil, jerr("org.apache.kafka.common.errors.CorruptRecordException",
				"Record size %d is less than the minimum record overhead (%d)", size, recordOverheadV0)
		}
		if int64(len(data)) < logOverhead+int64(size) {
			break
		}
		r := legacyRecord{buf: data[logOverhead : logOverhead+int(size)]}
		data = data[logOverhead+int(size):]
		if r.magic() == 1 {
			r.hasWrapper = true
			r.wrapperType = wrapper.timestampType()
			r.wrapperLogApp = r.wrapperType == record.LogAppendTime.String()
			r.wrapperTS = wrapperTS
		}
		inner = append(inner, legacyEntry{offset: off, rec: r})
	}
	if len(inner) == 0 {
		return nil, invalid("Found invalid compressed record set with no inner records")
	}
	if wm == 1 && offset != 0 {
		last := inner[len(inner)-1].offset
		if offset < last {
			return nil, invalid("Found invalid wrapper offset in compressed v1 message set, wrapper offset '%d' is less than the last inner message offset '%d' and it is not zero.", offset, last)
		}
		for i := range inner {
			inner[i].offset += offset - last
		}
	}
	for _, e := range inner {
		if e.rec.attributes()&legacyCodecMask != 0 {
			return nil, invalid("Inner messages must not be compressed")
		}
	}
	return inner, nil
}

// codecName is CompressionType.forId(id).name.
func codecName(id int) (string, error) {
	c := record.Compression(id)
	if !c.Known() {
		return "", jerr("java.lang.IllegalArgumentException", "Unknown compression type id: %d", id)
	}
	return c.String(), nil
}
