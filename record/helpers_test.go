package record_test

// Shared helpers of the record tests. The oracle side builds and decodes
// batches with franz-go's kmsg and the codec libraries directly, never with
// package record, so that a fault in record cannot hide in its own tests.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"math/rand"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy/xerial"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/record"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is the checksum Kafka stores at byte 17: CRC-32C of bytes 21..end.
func crc32c(batch []byte) uint32 { return crc32.Checksum(batch[21:], castagnoli) }

// fixCRC stores a freshly computed CRC-32C in a batch.
func fixCRC(batch []byte) { binary.BigEndian.PutUint32(batch[17:], crc32c(batch)) }

// Byte positions used by tests that patch headers by hand (independent of
// the package's own constants).
const (
	posBaseOffset  = 0
	posLength      = 8
	posLeaderEpoch = 12
	posMagic       = 16
	posCRC         = 17
	posAttributes  = 21
	posLastDelta   = 23
	posBaseTS      = 27
	posMaxTS       = 35
	posProducerID  = 43
	posEpoch       = 51
	posBaseSeq     = 53
	posCount       = 57
	headerLen      = 61
)

func putI16(b []byte, pos int, v int16) { binary.BigEndian.PutUint16(b[pos:], uint16(v)) }
func putI32(b []byte, pos int, v int32) { binary.BigEndian.PutUint32(b[pos:], uint32(v)) }
func putI64(b []byte, pos int, v int64) { binary.BigEndian.PutUint64(b[pos:], uint64(v)) }

// encoding is how an oracle batch's payload is compressed. It differs from
// record.Compression because snappy has two encodings in the wild.
type encoding int

const (
	encNone encoding = iota
	encGzip
	encSnappyRaw
	encSnappyXerial
	encLz4
	encZstd
)

var allEncodings = []encoding{encNone, encGzip, encSnappyRaw, encSnappyXerial, encLz4, encZstd}

func (e encoding) String() string {
	return [...]string{"none", "gzip", "snappy-raw", "snappy-xerial", "lz4", "zstd"}[e]
}

// codecID is the attribute codec id of an encoding.
func (e encoding) codecID() int16 {
	return [...]int16{0, 1, 2, 2, 3, 4}[e]
}

// oracleCompress compresses raw records with the codec libraries, the way
// the clients in the wild do.
func oracleCompress(t testing.TB, e encoding, raw []byte) []byte {
	t.Helper()
	switch e {
	case encNone:
		return raw
	case encGzip:
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	case encSnappyRaw:
		return s2.EncodeSnappy(nil, raw)
	case encSnappyXerial:
		return xerial.Encode(nil, raw)
	case encLz4:
		var buf bytes.Buffer
		zw := lz4.NewWriter(&buf)
		// Defaults are 4 MiB blocks with a content checksum: different from
		// what record.Compress writes, which the reader must accept too.
		if err := zw.Apply(lz4.BlockChecksumOption(true)); err != nil {
			t.Fatal(err)
		}
		if _, err := zw.Write(raw); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	case encZstd:
		zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			t.Fatal(err)
		}
		defer zw.Close()
		return zw.EncodeAll(raw, nil)
	}
	t.Fatalf("unknown encoding %d", e)
	return nil
}

// oracleDecompress inflates a payload of codec id c with the codec libraries.
func oracleDecompress(t testing.TB, c int16, payload []byte) []byte {
	t.Helper()
	var out []byte
	var err error
	switch c {
	case 0:
		return payload
	case 1:
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(payload)); err == nil {
			out, err = io.ReadAll(zr)
		}
	case 2:
		if bytes.HasPrefix(payload, []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}) {
			out, err = xerial.Decode(payload)
		} else {
			out, err = s2.Decode(nil, payload)
		}
	case 3:
		out, err = io.ReadAll(lz4.NewReader(bytes.NewReader(payload)))
	case 4:
		var zr *zstd.Decoder
		if zr, err = zstd.NewReader(nil); err == nil {
			out, err = zr.DecodeAll(payload, nil)
			zr.Close()
		}
	default:
		t.Fatalf("oracle cannot decompress codec %d", c)
	}
	if err != nil {
		t.Fatalf("oracle decompress codec %d: %v", c, err)
	}
	return out
}

// encodeKmsgRecord encodes one record with kmsg, filling in its Length.
func encodeKmsgRecord(r kmsg.Record) []byte {
	r.Length = 0
	r.TimestampDelta = 0
	body := r.AppendTo(nil)[1:] // a zero length is one varint byte
	r.Length = int32(len(body))
	return r.AppendTo(nil)
}

// oracleBatch assembles a v2 batch with kmsg: hdr supplies every header
// field except Magic, Length, CRC, NumRecords (when zero, len(recs)) and
// Records; the codec bits of hdr.Attributes are replaced by e's id.
func oracleBatch(t testing.TB, hdr kmsg.RecordBatch, e encoding, recs []kmsg.Record) []byte {
	t.Helper()
	var raw []byte
	for _, r := range recs {
		raw = append(raw, encodeKmsgRecord(r)...)
	}
	return oracleBatchRaw(t, hdr, e, raw)
}

// oracleBatchRaw is oracleBatch with the uncompressed records area given
// as bytes.
func oracleBatchRaw(t testing.TB, hdr kmsg.RecordBatch, e encoding, raw []byte) []byte {
	t.Helper()
	hdr.Magic = 2
	hdr.Attributes = hdr.Attributes&^7 | e.codecID()
	hdr.Records = oracleCompress(t, e, raw)
	hdr.Length = int32(49 + len(hdr.Records))
	hdr.CRC = 0
	out := hdr.AppendTo(nil)
	fixCRC(out)
	return out
}

// plainHeader is the header of a non-idempotent producer batch.
func plainHeader(n int, baseTS int64) kmsg.RecordBatch {
	return kmsg.RecordBatch{
		PartitionLeaderEpoch: -1,
		LastOffsetDelta:      int32(n - 1),
		FirstTimestamp:       baseTS,
		MaxTimestamp:         baseTS,
		ProducerID:           -1,
		ProducerEpoch:        -1,
		FirstSequence:        -1,
		NumRecords:           int32(n),
	}
}

// oracleRecords decodes a batch built by anyone with kmsg and the codec
// libraries, checking the length field and CRC on the way.
func oracleRecords(t testing.TB, batch []byte) (kmsg.RecordBatch, []kmsg.Record) {
	t.Helper()
	var kb kmsg.RecordBatch
	if err := kb.ReadFrom(batch); err != nil {
		t.Fatalf("kmsg cannot read the batch: %v", err)
	}
	if int(kb.Length)+12 != len(batch) {
		t.Fatalf("length field %d, batch has %d bytes", kb.Length, len(batch))
	}
	if uint32(kb.CRC) != crc32c(batch) {
		t.Fatalf("stored CRC %#x, CRC-32C of bytes 21.. is %#x", uint32(kb.CRC), crc32c(batch))
	}
	raw := oracleDecompress(t, kb.Attributes&7, kb.Records)
	var recs []kmsg.Record
	for len(raw) > 0 {
		l, n := binary.Varint(raw)
		if n <= 0 || l < 0 || int64(len(raw)-n) < l {
			t.Fatalf("oracle: bad record length varint at record %d", len(recs))
		}
		var r kmsg.Record
		if err := r.ReadFrom(raw[:n+int(l)]); err != nil {
			t.Fatalf("oracle: record %d: %v", len(recs), err)
		}
		recs = append(recs, r)
		raw = raw[n+int(l):]
	}
	return kb, recs
}

// gotRecord is a record copied out of a record.RecordIter.
type gotRecord struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key, Value     []byte
	Headers        []record.Header
	Size           int
}

func cloneNullable(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// readRecords iterates a batch with package record and copies every record.
func readRecords(b record.Batch) ([]gotRecord, error) {
	it, err := b.Records()
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []gotRecord
	for it.Next() {
		r := it.Record()
		g := gotRecord{
			Attributes:     r.Attributes,
			TimestampDelta: r.TimestampDelta,
			OffsetDelta:    r.OffsetDelta,
			Key:            cloneNullable(r.Key),
			Value:          cloneNullable(r.Value),
			Size:           r.Size,
		}
		for _, h := range r.Headers {
			g.Headers = append(g.Headers, record.Header{Key: h.Key, Value: cloneNullable(h.Value)})
		}
		out = append(out, g)
	}
	return out, it.Err()
}

// sameNullable compares byte slices telling null (nil) from empty.
func sameNullable(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

func describeNullable(b []byte) string {
	if b == nil {
		return "null"
	}
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return "\"" + string(b) + "\""
}

// compareRecords checks records read by package record against kmsg's.
func compareRecords(t testing.TB, got []gotRecord, want []kmsg.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Attributes != w.Attributes || g.TimestampDelta != w.TimestampDelta64 || g.OffsetDelta != w.OffsetDelta {
			t.Errorf("record %d: attrs %d tsDelta %d offDelta %d, want %d %d %d", i,
				g.Attributes, g.TimestampDelta, g.OffsetDelta, w.Attributes, w.TimestampDelta64, w.OffsetDelta)
		}
		if !sameNullable(g.Key, w.Key) {
			t.Errorf("record %d: key %s, want %s", i, describeNullable(g.Key), describeNullable(w.Key))
		}
		if !sameNullable(g.Value, w.Value) {
			t.Errorf("record %d: value %s, want %s", i, describeNullable(g.Value), describeNullable(w.Value))
		}
		if len(g.Headers) != len(w.Headers) {
			t.Errorf("record %d: %d headers, want %d", i, len(g.Headers), len(w.Headers))
			continue
		}
		for j := range w.Headers {
			if g.Headers[j].Key != w.Headers[j].Key || !sameNullable(g.Headers[j].Value, w.Headers[j].Value) {
				t.Errorf("record %d header %d: %q=%s, want %q=%s", i, j, g.Headers[j].Key,
					describeNullable(g.Headers[j].Value), w.Headers[j].Key, describeNullable(w.Headers[j].Value))
			}
		}
		if want := len(encodeKmsgRecord(w)); g.Size != want {
			t.Errorf("record %d: Size %d, want %d", i, g.Size, want)
		}
	}
}

// wantCode asserts that err carries the Kafka error code want, both through
// errors.Is and record.CodeOf, and that it is a *record.Error.
func wantCode(t testing.TB, err error, want *kerr.Error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", want.Message)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %q does not match %s", err, want.Message)
	}
	if got := record.CodeOf(err); got != want {
		t.Fatalf("CodeOf(%q) = %v, want %s", err, got, want.Message)
	}
	var re *record.Error
	if !errors.As(err, &re) {
		t.Fatalf("error %q (%T) is not a *record.Error", err, err)
	}
}

func mustBuild(t testing.TB, spec record.BatchSpec, recs []record.NewRecord) record.Batch {
	t.Helper()
	b, err := record.Build(spec, recs)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return b
}

// pseudoRandom returns n bytes of deterministic, poorly compressible data.
func pseudoRandom(seed int64, n int) []byte {
	out := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(out)
	return out
}

// simpleRecords returns n records with keys, values and increasing timestamps.
func simpleRecords(n int, ts int64) []record.NewRecord {
	recs := make([]record.NewRecord, n)
	for i := range recs {
		recs[i] = record.NewRecord{
			Timestamp: ts + int64(i),
			Key:       []byte{'k', byte('0' + i%10)},
			Value:     bytes.Repeat([]byte{byte('a' + i%26)}, 10+i%7),
		}
	}
	return recs
}

var allCodecs = []record.Compression{
	record.CompressionNone, record.CompressionGzip, record.CompressionSnappy,
	record.CompressionLz4, record.CompressionZstd,
}
