package record_test

// CRC coverage (exactly bytes 21..end, as DefaultRecordBatch.computeChecksum)
// and in-place patching.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/record"
)

func crcTestBatch(t *testing.T, c record.Compression) record.Batch {
	t.Helper()
	s := record.NewSpec()
	s.Compression = c
	s.ProducerID, s.ProducerEpoch, s.BaseSequence = 9, 1, 0
	return mustBuild(t, s, []record.NewRecord{
		{Timestamp: 100, Key: []byte("a"), Value: []byte("first"), Headers: []record.Header{{Key: "h", Value: []byte("v")}}},
		{Timestamp: 101, Key: nil, Value: []byte("second")},
	})
}

// TestCRCFlipEveryByte flips every byte (and separately every bit) of a
// valid batch and checks the outcome field by field as Kafka's
// ensureValid/isValid and ByteBufferLogInputStream see it.
func TestCRCFlipEveryByte(t *testing.T) {
	for _, c := range []record.Compression{record.CompressionNone, record.CompressionGzip} {
		orig := crcTestBatch(t, c)
		if !orig.CRCValid() || orig.ComputeCRC() != crc32c(orig) || orig.CRC() != crc32c(orig) {
			t.Fatalf("%v: fresh batch has CRC %#x, computed %#x, oracle %#x", c, orig.CRC(), orig.ComputeCRC(), crc32c(orig))
		}
		for pos := range orig {
			for _, mask := range []byte{0xff, 0x01, 0x02, 0x03, 0x10, 0x80} {
				b := append(record.Batch{}, orig...)
				b[pos] ^= mask
				checkFlipped(t, c, pos, mask, b)
			}
		}
	}
}

func checkFlipped(t *testing.T, c record.Compression, pos int, mask byte, b record.Batch) {
	t.Helper()
	where := func() string { return fmt.Sprintf("%v: byte %d ^ %#02x", c, pos, mask) }
	switch {
	case pos < posMagic:
		// baseOffset, batchLength, partitionLeaderEpoch: outside the CRC.
		if !b.CRCValid() || b.Verify() != nil {
			t.Errorf("%s: CRC no longer valid, but the field is not covered", where())
		}
		if pos >= posLength && pos < posLeaderEpoch {
			checkFlippedLength(t, where(), b)
		}
	case pos == posMagic:
		// The magic byte is outside the CRC too; the readers reject it.
		if !b.CRCValid() {
			t.Errorf("%s: CRC no longer valid, but magic is not covered", where())
		}
		magic := int8(b[posMagic])
		_, err := record.Peek(b, 0)
		switch {
		case magic < 0 || magic > 2:
			wantCode(t, err, kerr.CorruptMessage)
		case magic < 2:
			if err != record.ErrLegacyMagic {
				t.Errorf("%s: magic %d: Peek err %v, want ErrLegacyMagic", where(), magic, err)
			}
		}
	case pos < posAttributes:
		// The stored CRC itself.
		if b.CRCValid() {
			t.Errorf("%s: CRC still valid after changing the stored CRC", where())
		}
		wantCode(t, b.Verify(), kerr.CorruptMessage)
		_, err := b.ValidateAsLeader(record.DefaultLeaderRules(0))
		wantCode(t, err, kerr.CorruptMessage)
	default:
		// Everything from the attributes to the end is covered.
		if b.CRCValid() {
			t.Errorf("%s: CRC still valid after changing a covered byte", where())
		}
		wantCode(t, b.Verify(), kerr.CorruptMessage)
		wantCode(t, b.ValidateAsFollower(), kerr.CorruptMessage)
		_, err := b.ValidateAsLeader(record.DefaultLeaderRules(0))
		wantCode(t, err, kerr.CorruptMessage)
	}
}

// checkFlippedLength: a changed length field changes how the bytes are cut.
func checkFlippedLength(t *testing.T, where string, b record.Batch) {
	t.Helper()
	size := int64(int32(binary.BigEndian.Uint32(b[posLength:])))
	got, rest, err := record.Next(b, 0)
	switch {
	case size < 14:
		wantCode(t, err, kerr.CorruptMessage)
	case size+12 > int64(len(b)):
		if got != nil || err != nil || len(rest) != len(b) {
			t.Errorf("%s: size %d beyond the buffer: Next gave %d bytes, err %v; want an incomplete tail", where, size, len(got), err)
		}
	case size < 49:
		wantCode(t, err, kerr.CorruptMessage)
	default:
		if err != nil || len(got) != int(size)+12 || len(rest) != len(b)-len(got) {
			t.Fatalf("%s: size %d: Next gave %d bytes, rest %d, err %v", where, size, len(got), len(rest), err)
		}
		// The shorter batch loses CRC-covered bytes.
		wantCode(t, got.Verify(), kerr.CorruptMessage)
	}
}

// TestVerifyShortBatch: ensureValid's first check, a batch shorter than 61 bytes.
func TestVerifyShortBatch(t *testing.T) {
	b := crcTestBatch(t, record.CompressionNone)
	for _, n := range []int{0, 17, 21, 60} {
		wantCode(t, record.Batch(b[:n]).Verify(), kerr.CorruptMessage)
	}
	// A bare 61-byte header with a matching CRC is valid as far as the CRC goes.
	h := append([]byte{}, b[:61]...)
	fixCRC(h)
	if err := record.Batch(h).Verify(); err != nil {
		t.Errorf("61-byte header with a good CRC: %v", err)
	}
}

func TestSetBaseOffsetAndEpochKeepCRC(t *testing.T) {
	for _, c := range allCodecs {
		orig := crcTestBatch(t, c)
		b := append(record.Batch{}, orig...)
		b.SetBaseOffset(0x0102030405060708)
		b.SetPartitionLeaderEpoch(0x0a0b0c0d)
		if b.BaseOffset() != 0x0102030405060708 || b.PartitionLeaderEpoch() != 0x0a0b0c0d {
			t.Errorf("%v: read back %d / %d", c, b.BaseOffset(), b.PartitionLeaderEpoch())
		}
		if !bytes.Equal(b[:8], []byte{1, 2, 3, 4, 5, 6, 7, 8}) || !bytes.Equal(b[12:16], []byte{0x0a, 0x0b, 0x0c, 0x0d}) {
			t.Errorf("%v: wrong bytes % x", c, []byte(b[:16]))
		}
		// Only bytes 0-7 and 12-15 changed; the CRC bytes are the same.
		if !bytes.Equal(b[8:12], orig[8:12]) || !bytes.Equal(b[16:], orig[16:]) {
			t.Errorf("%v: bytes outside the patched fields changed", c)
		}
		if !b.CRCValid() || b.Verify() != nil {
			t.Errorf("%v: CRC invalid after patching uncovered fields", c)
		}
		if b.LastOffset() != 0x0102030405060708+1 {
			t.Errorf("%v: LastOffset %d", c, b.LastOffset())
		}
		// SetLastOffset: Kafka's setLastOffset (baseOffset = last - lastOffsetDelta).
		b.SetLastOffset(1000)
		if b.BaseOffset() != 999 || b.LastOffset() != 1000 || b.NextOffset() != 1001 {
			t.Errorf("%v: SetLastOffset(1000) gave base %d last %d", c, b.BaseOffset(), b.LastOffset())
		}
		if !bytes.Equal(b[16:], orig[16:]) {
			t.Errorf("%v: SetLastOffset touched covered bytes", c)
		}
		b.SetPartitionLeaderEpoch(-1)
		if b.PartitionLeaderEpoch() != -1 || !bytes.Equal(b[12:16], []byte{0xff, 0xff, 0xff, 0xff}) {
			t.Errorf("%v: epoch -1 stored as % x", c, []byte(b[12:16]))
		}
	}
}

func TestSetMaxTimestamp(t *testing.T) {
	orig := crcTestBatch(t, record.CompressionLz4)
	if orig.MaxTimestamp() != 101 || orig.TimestampType() != record.CreateTime {
		t.Fatalf("built batch max %d type %v", orig.MaxTimestamp(), orig.TimestampType())
	}

	// Unchanged values: no change, not even a CRC recomputation.
	b := append(record.Batch{}, orig...)
	binary.BigEndian.PutUint32(b[posCRC:], 0xdeadbeef) // a wrong CRC must survive
	if b.SetMaxTimestamp(record.CreateTime, 101) {
		t.Error("SetMaxTimestamp with the current values reported a change")
	}
	if !bytes.Equal(b[:posCRC], orig[:posCRC]) || binary.BigEndian.Uint32(b[posCRC:]) != 0xdeadbeef || !bytes.Equal(b[21:], orig[21:]) {
		t.Error("SetMaxTimestamp with the current values changed bytes")
	}

	// A new max timestamp: field written, CRC recomputed.
	b = append(record.Batch{}, orig...)
	if !b.SetMaxTimestamp(record.CreateTime, 5000) {
		t.Error("SetMaxTimestamp(CreateTime, 5000) reported no change")
	}
	if b.MaxTimestamp() != 5000 || int64(binary.BigEndian.Uint64(b[posMaxTS:])) != 5000 || b.TimestampType() != record.CreateTime {
		t.Errorf("max %d type %v", b.MaxTimestamp(), b.TimestampType())
	}
	if b.CRC() != crc32c(b) || b.Verify() != nil {
		t.Errorf("CRC %#x, want %#x", b.CRC(), crc32c(b))
	}
	diffOutside(t, orig, b, posCRC, posCRC+4, posMaxTS, posMaxTS+8)

	// LogAppendTime: the attribute bit and the field, keeping the other bits.
	b = append(record.Batch{}, orig...)
	if !b.SetMaxTimestamp(record.LogAppendTime, 101) {
		t.Error("switching to LogAppendTime with the same timestamp reported no change")
	}
	if b.TimestampType() != record.LogAppendTime || b.Compression() != record.CompressionLz4 || b.MaxTimestamp() != 101 {
		t.Errorf("after LogAppendTime: type %v codec %v max %d", b.TimestampType(), b.Compression(), b.MaxTimestamp())
	}
	if got := binary.BigEndian.Uint16(b[posAttributes:]); got != 0x0b {
		t.Errorf("attributes %#04x, want 0x000b (lz4 | LogAppendTime)", got)
	}
	if b.CRC() != crc32c(b) {
		t.Error("CRC not recomputed")
	}
	diffOutside(t, orig, b, posCRC, posCRC+4, posAttributes, posAttributes+2)
	if got, err := readRecords(b); err != nil || len(got) != 2 {
		t.Errorf("records after patching: %d, %v", len(got), err)
	}
	// Applying the same values again is a no-op.
	again := append(record.Batch{}, b...)
	if again.SetMaxTimestamp(record.LogAppendTime, 101) || !bytes.Equal(again, b) {
		t.Error("second identical SetMaxTimestamp changed the batch")
	}
	// And back to CreateTime clears the bit.
	if !b.SetMaxTimestamp(record.CreateTime, 101) || !bytes.Equal(b, orig) {
		t.Error("back to CreateTime did not restore the original bytes")
	}

	// Transactional and control bits survive.
	s := record.NewSpec()
	s.Transactional, s.Control, s.ProducerID, s.ProducerEpoch = true, true, 1, 1
	ctl := mustBuild(t, s, simpleRecords(1, 7))
	ctl.SetMaxTimestamp(record.LogAppendTime, 8)
	if got := binary.BigEndian.Uint16(ctl[posAttributes:]); got != 0x38 || !ctl.CRCValid() {
		t.Errorf("control batch attributes %#04x after LogAppendTime, want 0x0038", got)
	}
}

// TestSetMaxTimestampClearsUnknownAttributeBits: Kafka's setMaxTimestamp
// rewrites the attributes from computeAttributes(codec, type, transactional,
// control, deleteHorizon), which drops any other bit a producer set.
func TestSetMaxTimestampClearsUnknownAttributeBits(t *testing.T) {
	b := crcTestBatch(t, record.CompressionNone)
	putI16(b, posAttributes, 0x0180)
	fixCRC(b)
	b.SetMaxTimestamp(record.LogAppendTime, 1)
	if got := binary.BigEndian.Uint16(b[posAttributes:]); got != 0x0008 {
		t.Errorf("attributes %#04x, want 0x0008", got)
	}
}

// diffOutside fails if a and b differ outside the given [from, to) ranges.
func diffOutside(t *testing.T, a, b []byte, ranges ...int) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("length changed from %d to %d", len(a), len(b))
	}
next:
	for i := range a {
		for r := 0; r < len(ranges); r += 2 {
			if i >= ranges[r] && i < ranges[r+1] {
				continue next
			}
		}
		if a[i] != b[i] {
			t.Errorf("byte %d changed from %#02x to %#02x", i, a[i], b[i])
		}
	}
}
