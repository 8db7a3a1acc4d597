package record_test

// The batch byte layout, written out by hand, and the header accessors.

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/record"
)

// handBuiltBatch is a two-record batch written field by field from the
// layout in DefaultRecordBatch.java / DefaultRecord.java, with its CRC
// computed here. It is what Build must produce for the same input.
func handBuiltBatch() []byte {
	b := []byte{
		// --- batch header ---
		0, 0, 0, 0, 0, 0, 0, 0, // 0  baseOffset int64 = 0
		0, 0, 0, 70, // 8  batchLength int32 = 49 header bytes after this field + 21 record bytes
		0xff, 0xff, 0xff, 0xff, // 12 partitionLeaderEpoch int32 = -1
		2,          // 16 magic int8 = 2
		0, 0, 0, 0, // 17 crc uint32, filled in below
		0, 0, // 21 attributes int16 = none, CreateTime, not transactional, not control
		0, 0, 0, 1, // 23 lastOffsetDelta int32 = 1
		0, 0, 0, 0, 0, 0, 0x03, 0xe8, // 27 baseTimestamp int64 = 1000
		0, 0, 0, 0, 0, 0, 0x03, 0xed, // 35 maxTimestamp int64 = 1005
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // 43 producerId int64 = -1
		0xff, 0xff, // 51 producerEpoch int16 = -1
		0xff, 0xff, 0xff, 0xff, // 53 baseSequence int32 = -1
		0, 0, 0, 2, // 57 records count int32 = 2

		// --- record 0 (14 bytes) ---
		0x1a,      // length varint = 13 (zig-zag 26)
		0,         // attributes int8
		0,         // timestampDelta varlong = 0
		0,         // offsetDelta varint = 0
		0x02, 'k', // key: length 1 (zig-zag 2), "k"
		0x04, 'v', '1', // value: length 2, "v1"
		0x02,      // header count = 1
		0x02, 'h', // header key: length 1, "h"
		0x02, 'x', // header value: length 1, "x"

		// --- record 1 (7 bytes) ---
		0x0c, // length varint = 6
		0,    // attributes
		0x0a, // timestampDelta = 5 (zig-zag 10)
		0x02, // offsetDelta = 1
		0x01, // key length -1 (zig-zag 1): null key
		0x00, // value length 0: empty value (not null)
		0x00, // header count = 0
	}
	binary.BigEndian.PutUint32(b[17:], crc32c(b))
	return b
}

func TestHandBuiltBatchMatchesBuild(t *testing.T) {
	want := handBuiltBatch()
	if len(want) != 82 {
		t.Fatalf("hand-built batch has %d bytes, the layout says 12+70 = 82", len(want))
	}
	got := mustBuild(t, record.NewSpec(), []record.NewRecord{
		{Timestamp: 1000, Key: []byte("k"), Value: []byte("v1"), Headers: []record.Header{{Key: "h", Value: []byte("x")}}},
		{Timestamp: 1005, Key: nil, Value: []byte{}},
	})
	if !bytes.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("first difference at byte %d: got %#02x, want %#02x", i, got[i], want[i])
				break
			}
		}
		t.Fatalf("Build:\n% x\nwant:\n% x", []byte(got), want)
	}
	// And reading the hand-made bytes gives the fields back.
	b := record.Batch(want)
	if b.CRC() != crc32c(want) || !b.CRCValid() || b.NumRecords() != 2 || b.MaxTimestamp() != 1005 || b.BaseTimestamp() != 1000 {
		t.Errorf("header read back wrong: crc %#x count %d max %d base %d", b.CRC(), b.NumRecords(), b.MaxTimestamp(), b.BaseTimestamp())
	}
	recs, err := readRecords(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	r0, r1 := recs[0], recs[1]
	if string(r0.Key) != "k" || string(r0.Value) != "v1" || len(r0.Headers) != 1 || r0.Headers[0].Key != "h" ||
		string(r0.Headers[0].Value) != "x" || r0.Size != 14 || r0.OffsetDelta != 0 || r0.TimestampDelta != 0 {
		t.Errorf("record 0 = %+v", r0)
	}
	if r1.Key != nil || r1.Value == nil || len(r1.Value) != 0 || len(r1.Headers) != 0 || r1.Size != 7 ||
		r1.OffsetDelta != 1 || r1.TimestampDelta != 5 {
		t.Errorf("record 1 = %+v (key must be null, value empty)", r1)
	}
}

// TestHandBuiltHeaderFields reads every header field of a batch whose header
// bytes are all distinct, so a field read at the wrong position shows.
func TestHandBuiltHeaderFields(t *testing.T) {
	b := make([]byte, headerLen)
	putI64(b, posBaseOffset, 0x0102030405060708)
	putI32(b, posLength, headerLen-12)
	putI32(b, posLeaderEpoch, 0x11121314)
	b[posMagic] = 2
	putI16(b, posAttributes, 0x003c) // control | transactional | LogAppendTime | codec 4 (zstd)
	putI32(b, posLastDelta, 0x21222324)
	putI64(b, posBaseTS, 0x3132333435363738)
	putI64(b, posMaxTS, 0x4142434445464748)
	putI64(b, posProducerID, 0x5152535455565758)
	putI16(b, posEpoch, 0x6162)
	putI32(b, posBaseSeq, 0x71727374)
	putI32(b, posCount, 0x01020304)
	fixCRC(b)
	batch := record.Batch(b)
	checks := []struct {
		name      string
		got, want any
	}{
		{"BaseOffset", batch.BaseOffset(), int64(0x0102030405060708)},
		{"BatchLength", batch.BatchLength(), int32(49)},
		{"PartitionLeaderEpoch", batch.PartitionLeaderEpoch(), int32(0x11121314)},
		{"Magic", batch.Magic(), int8(2)},
		{"CRC", batch.CRC(), crc32c(b)},
		{"Attributes", batch.Attributes(), record.Attributes(0x3c)},
		{"Compression", batch.Compression(), record.CompressionZstd},
		{"TimestampType", batch.TimestampType(), record.LogAppendTime},
		{"IsTransactional", batch.IsTransactional(), true},
		{"IsControl", batch.IsControl(), true},
		{"HasDeleteHorizon", batch.Attributes().HasDeleteHorizon(), false},
		{"LastOffsetDelta", batch.LastOffsetDelta(), int32(0x21222324)},
		{"LastOffset", batch.LastOffset(), int64(0x0102030405060708 + 0x21222324)},
		{"NextOffset", batch.NextOffset(), int64(0x0102030405060708 + 0x21222324 + 1)},
		{"BaseTimestamp", batch.BaseTimestamp(), int64(0x3132333435363738)},
		{"MaxTimestamp", batch.MaxTimestamp(), int64(0x4142434445464748)},
		{"ProducerID", batch.ProducerID(), int64(0x5152535455565758)},
		{"ProducerEpoch", batch.ProducerEpoch(), int16(0x6162)},
		{"BaseSequence", batch.BaseSequence(), int32(0x71727374)},
		{"NumRecords", batch.NumRecords(), int32(0x01020304)},
		{"Payload", len(batch.Payload()), 0},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestAttributes(t *testing.T) {
	for _, c := range []struct {
		attrs         record.Attributes
		codec         record.Compression
		ts            record.TimestampType
		txn, ctl, hor bool
		makeable      bool // MakeAttributes(codec, ts, txn, ctl) gives attrs
	}{
		{0x00, record.CompressionNone, record.CreateTime, false, false, false, true},
		{0x01, record.CompressionGzip, record.CreateTime, false, false, false, true},
		{0x0a, record.CompressionSnappy, record.LogAppendTime, false, false, false, true},
		{0x13, record.CompressionLz4, record.CreateTime, true, false, false, true},
		{0x34, record.CompressionZstd, record.CreateTime, true, true, false, true},
		{0x47, record.Compression(7), record.CreateTime, false, false, true, false},
		// Bits above 6 are ignored by every accessor.
		{0xff80, record.CompressionNone, record.CreateTime, false, false, false, false},
	} {
		if c.attrs.Compression() != c.codec || c.attrs.TimestampType() != c.ts || c.attrs.IsTransactional() != c.txn ||
			c.attrs.IsControl() != c.ctl || c.attrs.HasDeleteHorizon() != c.hor {
			t.Errorf("attributes %#x decoded wrong", uint16(c.attrs))
		}
		if c.makeable {
			if got := record.MakeAttributes(c.codec, c.ts, c.txn, c.ctl); got != c.attrs {
				t.Errorf("MakeAttributes(%v,%v,%v,%v) = %#x, want %#x", c.codec, c.ts, c.txn, c.ctl, uint16(got), uint16(c.attrs))
			}
		}
	}
	if got := record.MakeAttributes(record.CompressionZstd, record.LogAppendTime, true, true); got != 0x3c {
		t.Errorf("MakeAttributes(all) = %#x, want 0x3c", uint16(got))
	}
	names := map[record.Compression]string{0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd", 5: "unknown(5)", 7: "unknown(7)", -1: "unknown(-1)"}
	for c, want := range names {
		if c.String() != want {
			t.Errorf("Compression(%d).String() = %q, want %q", int8(c), c.String(), want)
		}
		if known := c >= 0 && c <= 4; c.Known() != known {
			t.Errorf("Compression(%d).Known() = %v", int8(c), c.Known())
		}
	}
	if record.CreateTime.String() != "CreateTime" || record.LogAppendTime.String() != "LogAppendTime" {
		t.Error("TimestampType names")
	}
}

// TestIncrementSequence follows DefaultRecordBatch.incrementSequence: the
// sequence wraps from MaxInt32 to 0.
func TestIncrementSequence(t *testing.T) {
	for _, c := range []struct{ seq, delta, want int32 }{
		{0, 0, 0},
		{0, 5, 5},
		{100, 1, 101},
		{math.MaxInt32, 0, math.MaxInt32},
		{math.MaxInt32, 1, 0},
		{math.MaxInt32 - 1, 3, 1},
		{math.MaxInt32 - 4, 4, math.MaxInt32},
		{math.MaxInt32 - 4, 5, 0},
		{5, math.MaxInt32, 4},
	} {
		if got := record.IncrementSequence(c.seq, c.delta); got != c.want {
			t.Errorf("IncrementSequence(%d, %d) = %d, want %d", c.seq, c.delta, got, c.want)
		}
	}
}

func TestLastSequence(t *testing.T) {
	s := record.NewSpec()
	s.ProducerID, s.ProducerEpoch = 1, 0
	for _, c := range []struct {
		base int32
		n    int
		want int32
	}{
		{-1, 3, -1},
		// Only -1 (NO_SEQUENCE) means "none" to DefaultRecordBatch.lastSequence.
		{-5, 3, -3},
		{0, 1, 0},
		{10, 5, 14},
		{math.MaxInt32 - 1, 4, 1},
		{math.MaxInt32, 1, math.MaxInt32},
		{math.MaxInt32, 2, 0},
	} {
		s.BaseSequence = c.base
		b := mustBuild(t, s, simpleRecords(c.n, 1))
		if got := b.LastSequence(); got != c.want {
			t.Errorf("base %d, %d records: LastSequence %d, want %d", c.base, c.n, got, c.want)
		}
	}
}

func TestBuildRejects(t *testing.T) {
	if _, err := record.Build(record.NewSpec(), nil); err == nil {
		t.Error("Build with no records succeeded")
	}
	s := record.NewSpec()
	s.Compression = 6
	_, err := record.Build(s, simpleRecords(1, 1))
	wantCode(t, err, kerr.UnknownServerError)
}

func TestNewSpec(t *testing.T) {
	s := record.NewSpec()
	if s.BaseOffset != 0 || s.PartitionLeaderEpoch != -1 || s.ProducerID != -1 || s.ProducerEpoch != -1 ||
		s.BaseSequence != -1 || s.Compression != record.CompressionNone || s.TimestampType != record.CreateTime ||
		s.Transactional || s.Control || s.MaxTimestamp != nil {
		t.Errorf("NewSpec() = %+v", s)
	}
}

// TestBuildMaxTimestampWithoutTimestamps: MemoryRecordsBuilder starts the max
// timestamp at NO_TIMESTAMP (-1), so records without timestamps give -1.
func TestBuildMaxTimestampWithoutTimestamps(t *testing.T) {
	b := mustBuild(t, record.NewSpec(), []record.NewRecord{{Timestamp: -1}, {Timestamp: -1}})
	if b.MaxTimestamp() != -1 || b.BaseTimestamp() != -1 {
		t.Errorf("max %d base %d, want -1 -1", b.MaxTimestamp(), b.BaseTimestamp())
	}
}
