package record_test

// Interoperability with an independent encoder/decoder: batches assembled
// with kmsg and the codec libraries must read back field by field through
// record.Batch, and batches made by record.Build must decode with kmsg to
// the fields they were built from.

import (
	"bytes"
	"fmt"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/record"
)

type oracleScenario struct {
	name string
	hdr  kmsg.RecordBatch
	recs []kmsg.Record
}

func oracleScenarios() []oracleScenario {
	var out []oracleScenario

	// Null vs empty keys and values, headers with null and empty values and
	// an empty key, negative and large timestamp deltas.
	mixed := []kmsg.Record{
		{TimestampDelta64: 0, OffsetDelta: 0, Key: []byte("key-0"), Value: []byte("value-0"),
			Headers: []kmsg.Header{{Key: "h1", Value: []byte("v1")}, {Key: "null", Value: nil}, {Key: "", Value: []byte{}}}},
		{TimestampDelta64: -5, OffsetDelta: 1, Key: nil, Value: []byte("null key")},
		{TimestampDelta64: 7, OffsetDelta: 2, Key: []byte("tombstone"), Value: nil},
		{TimestampDelta64: 1 << 40, OffsetDelta: 3, Key: []byte{}, Value: []byte{}},
		{TimestampDelta64: 8, OffsetDelta: 4, Key: nil, Value: nil, Headers: []kmsg.Header{{Key: "only", Value: []byte{0, 1, 2}}}},
	}
	h := plainHeader(len(mixed), 1_700_000_000_000)
	h.MaxTimestamp = h.FirstTimestamp + 1<<40
	out = append(out, oracleScenario{"mixed", h, mixed})

	// Idempotent and transactional, with a base sequence near MaxInt32.
	h = plainHeader(3, 1000)
	h.ProducerID = 123456789012
	h.ProducerEpoch = 7
	h.FirstSequence = math.MaxInt32 - 1
	h.Attributes = 0x10
	h.PartitionLeaderEpoch = 42
	h.FirstOffset = 987654321
	out = append(out, oracleScenario{"transactional", h, seqRecords(3)})

	// LogAppendTime: the broker's time is in MaxTimestamp.
	h = plainHeader(2, 1000)
	h.Attributes = 0x08
	h.MaxTimestamp = 99999
	out = append(out, oracleScenario{"log-append-time", h, seqRecords(2)})

	// A control batch carrying a COMMIT marker.
	h = plainHeader(1, 5000)
	h.Attributes = 0x30
	h.ProducerID = 77
	h.ProducerEpoch = 3
	key := (&kmsg.ControlRecordKey{Version: 0, Type: 1}).AppendTo(nil)
	val := (&kmsg.EndTxnMarker{Version: 0, CoordinatorEpoch: 12}).AppendTo(nil)
	out = append(out, oracleScenario{"control", h, []kmsg.Record{{Key: key, Value: val}}})

	// Many records.
	h = plainHeader(1500, 1)
	h.MaxTimestamp = 1 + 1499*3
	out = append(out, oracleScenario{"many", h, seqRecords(1500)})

	// Records larger than 64 KiB (several lz4/xerial blocks, several
	// chunks of the streaming reader).
	big := []kmsg.Record{
		{OffsetDelta: 0, Key: []byte("big-1"), Value: pseudoRandom(1, 100<<10)},
		{OffsetDelta: 1, Key: pseudoRandom(2, 70<<10), Value: bytes.Repeat([]byte("abc"), 30<<10),
			Headers: []kmsg.Header{{Key: "big", Value: pseudoRandom(3, 65<<10)}}},
		{OffsetDelta: 2, Value: []byte("small after big")},
	}
	out = append(out, oracleScenario{"large", plainHeader(3, 10), big})

	// Inner offset deltas that are not 0..n-1 (old clients); the reader
	// reports them as they are.
	odd := seqRecords(3)
	odd[1].OffsetDelta = 5
	odd[2].OffsetDelta = 2
	out = append(out, oracleScenario{"odd-offset-deltas", plainHeader(3, 10), odd})
	return out
}

// seqRecords are n records with offset deltas 0..n-1 and timestamp deltas 3i.
func seqRecords(n int) []kmsg.Record {
	recs := make([]kmsg.Record, n)
	for i := range recs {
		recs[i] = kmsg.Record{
			TimestampDelta64: int64(3 * i),
			OffsetDelta:      int32(i),
			Key:              []byte(fmt.Sprintf("key-%d", i)),
			Value:            []byte(fmt.Sprintf("value-%d-%s", i, bytes.Repeat([]byte{'x'}, i%50))),
		}
	}
	return recs
}

func checkHeaderFields(t *testing.T, b record.Batch, h kmsg.RecordBatch, codec int16) {
	t.Helper()
	type field struct {
		name      string
		got, want any
	}
	fields := []field{
		{"BaseOffset", b.BaseOffset(), h.FirstOffset},
		{"BatchLength", b.BatchLength(), int32(len(b) - 12)},
		{"Size", b.Size(), len(b)},
		{"PartitionLeaderEpoch", b.PartitionLeaderEpoch(), h.PartitionLeaderEpoch},
		{"Magic", b.Magic(), int8(2)},
		{"CRC", b.CRC(), crc32c(b)},
		{"Attributes", uint16(b.Attributes()), uint16(h.Attributes&^7 | codec)},
		{"Compression", b.Compression(), record.Compression(codec)},
		{"LastOffsetDelta", b.LastOffsetDelta(), h.LastOffsetDelta},
		{"LastOffset", b.LastOffset(), h.FirstOffset + int64(h.LastOffsetDelta)},
		{"NextOffset", b.NextOffset(), h.FirstOffset + int64(h.LastOffsetDelta) + 1},
		{"BaseTimestamp", b.BaseTimestamp(), h.FirstTimestamp},
		{"MaxTimestamp", b.MaxTimestamp(), h.MaxTimestamp},
		{"ProducerID", b.ProducerID(), h.ProducerID},
		{"HasProducerID", b.HasProducerID(), h.ProducerID >= 0},
		{"ProducerEpoch", b.ProducerEpoch(), h.ProducerEpoch},
		{"BaseSequence", b.BaseSequence(), h.FirstSequence},
		{"NumRecords", b.NumRecords(), h.NumRecords},
		{"TimestampType", b.TimestampType() == record.LogAppendTime, h.Attributes&0x08 != 0},
		{"IsTransactional", b.IsTransactional(), h.Attributes&0x10 != 0},
		{"IsControl", b.IsControl(), h.Attributes&0x20 != 0},
		{"CRCValid", b.CRCValid(), true},
		{"Payload", bytes.Equal(b.Payload(), b[61:]), true},
	}
	for _, f := range fields {
		if f.got != f.want {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
	if err := b.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := b.ValidateAsFollower(); err != nil {
		t.Errorf("ValidateAsFollower: %v", err)
	}
}

// TestReadKmsgBatches: every header field and every record of batches built
// with kmsg and compressed with the codec libraries reads back exactly.
func TestReadKmsgBatches(t *testing.T) {
	for _, sc := range oracleScenarios() {
		for _, enc := range allEncodings {
			t.Run(sc.name+"/"+enc.String(), func(t *testing.T) {
				raw := oracleBatch(t, sc.hdr, enc, sc.recs)
				// Through Split, as a produce payload or a log chunk would arrive.
				batches, tail, err := record.Split(raw)
				if err != nil || tail != 0 || len(batches) != 1 {
					t.Fatalf("Split: %d batches, tail %d, err %v", len(batches), tail, err)
				}
				b := batches[0]
				if !bytes.Equal(b, raw) {
					t.Fatal("Split changed the bytes")
				}
				checkHeaderFields(t, b, sc.hdr, enc.codecID())
				got, err := readRecords(b)
				if err != nil {
					t.Fatalf("iterating records: %v", err)
				}
				compareRecords(t, got, sc.recs)
				// Decompress (tools) inflates to the oracle's raw records.
				var rawRecs []byte
				for _, r := range sc.recs {
					rawRecs = append(rawRecs, encodeKmsgRecord(r)...)
				}
				dec, err := record.Decompress(b.Compression(), b.Payload())
				if err != nil || !bytes.Equal(dec, rawRecs) {
					t.Errorf("Decompress: %d bytes, err %v; want %d bytes", len(dec), err, len(rawRecs))
				}
			})
		}
	}
}

// TestReadKmsgBatchesConcatenated: several oracle batches of different codecs
// back to back split into the same batches.
func TestReadKmsgBatchesConcatenated(t *testing.T) {
	var all []byte
	var parts [][]byte
	for i, enc := range allEncodings {
		h := plainHeader(3, int64(i))
		h.FirstOffset = int64(10 * i)
		p := oracleBatch(t, h, enc, seqRecords(3))
		parts = append(parts, p)
		all = append(all, p...)
	}
	batches, tail, err := record.Split(all)
	if err != nil || tail != 0 || len(batches) != len(parts) {
		t.Fatalf("Split: %d batches, tail %d, err %v", len(batches), tail, err)
	}
	for i := range parts {
		if !bytes.Equal(batches[i], parts[i]) {
			t.Errorf("batch %d differs", i)
		}
		if cap(batches[i]) != len(batches[i]) {
			t.Errorf("batch %d: cap %d > len %d; appending to it would overwrite the next batch", i, cap(batches[i]), len(batches[i]))
		}
		got, err := readRecords(batches[i])
		if err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		compareRecords(t, got, seqRecords(3))
	}
}

type buildScenario struct {
	name string
	spec record.BatchSpec
	recs []record.NewRecord
}

func buildScenarios() []buildScenario {
	var out []buildScenario
	mixed := []record.NewRecord{
		{Timestamp: 1_700_000_000_000, Key: []byte("key-0"), Value: []byte("value-0"),
			Headers: []record.Header{{Key: "h1", Value: []byte("v1")}, {Key: "null", Value: nil}, {Key: "", Value: []byte{}}}},
		{Timestamp: 1_700_000_000_000 - 5, Key: nil, Value: []byte("null key")},
		{Timestamp: 1_700_000_000_000 + 7, Key: []byte("tombstone"), Value: nil},
		{Timestamp: 1_700_000_000_000 + 1<<40, Key: []byte{}, Value: []byte{}},
	}
	out = append(out, buildScenario{"mixed", record.NewSpec(), mixed})

	s := record.NewSpec()
	s.BaseOffset = 1 << 40
	s.PartitionLeaderEpoch = 9
	s.Transactional = true
	s.ProducerID = 5_000_000_000
	s.ProducerEpoch = 32000
	s.BaseSequence = math.MaxInt32
	out = append(out, buildScenario{"transactional", s, simpleRecords(4, 100)})

	s = record.NewSpec()
	s.TimestampType = record.LogAppendTime
	lat := int64(424242)
	s.MaxTimestamp = &lat
	out = append(out, buildScenario{"log-append-time", s, simpleRecords(3, 100)})

	s = record.NewSpec()
	s.Control = true
	s.Transactional = true
	s.ProducerID = 8
	s.ProducerEpoch = 1
	out = append(out, buildScenario{"control", s, []record.NewRecord{{Timestamp: 5, Key: []byte{0, 0, 0, 0}, Value: []byte{0, 0, 0, 0, 0, 4}}}})

	out = append(out, buildScenario{"many", record.NewSpec(), simpleRecords(2000, 1)})

	big := []record.NewRecord{
		{Timestamp: 1, Key: []byte("big"), Value: pseudoRandom(10, 150<<10),
			Headers: []record.Header{{Key: "hdr", Value: pseudoRandom(11, 66<<10)}}},
		{Timestamp: 2, Key: pseudoRandom(12, 65<<10), Value: bytes.Repeat([]byte("z"), 200<<10)},
	}
	out = append(out, buildScenario{"large", record.NewSpec(), big})

	// Timestamps that decrease: max is not the last one.
	dec := []record.NewRecord{{Timestamp: 50, Value: []byte("a")}, {Timestamp: 90, Value: []byte("b")}, {Timestamp: 10, Value: []byte("c")}}
	out = append(out, buildScenario{"decreasing-timestamps", record.NewSpec(), dec})
	return out
}

// TestBuildDecodesWithKmsg: record.Build output decodes with kmsg and the
// codec libraries to the spec and records it was built from.
func TestBuildDecodesWithKmsg(t *testing.T) {
	for _, sc := range buildScenarios() {
		for _, c := range allCodecs {
			t.Run(sc.name+"/"+c.String(), func(t *testing.T) {
				spec := sc.spec
				spec.Compression = c
				b := mustBuild(t, spec, sc.recs)
				kb, krecs := oracleRecords(t, b)

				maxTS := int64(-1)
				for _, r := range sc.recs {
					maxTS = max(maxTS, r.Timestamp)
				}
				if spec.MaxTimestamp != nil {
					maxTS = *spec.MaxTimestamp
				}
				attrs := int16(c)
				if spec.TimestampType == record.LogAppendTime {
					attrs |= 0x08
				}
				if spec.Transactional {
					attrs |= 0x10
				}
				if spec.Control {
					attrs |= 0x20
				}
				n := int32(len(sc.recs))
				checks := []struct {
					name      string
					got, want any
				}{
					{"FirstOffset", kb.FirstOffset, spec.BaseOffset},
					{"PartitionLeaderEpoch", kb.PartitionLeaderEpoch, spec.PartitionLeaderEpoch},
					{"Magic", kb.Magic, int8(2)},
					{"Attributes", kb.Attributes, attrs},
					{"LastOffsetDelta", kb.LastOffsetDelta, n - 1},
					{"FirstTimestamp", kb.FirstTimestamp, sc.recs[0].Timestamp},
					{"MaxTimestamp", kb.MaxTimestamp, maxTS},
					{"ProducerID", kb.ProducerID, spec.ProducerID},
					{"ProducerEpoch", kb.ProducerEpoch, spec.ProducerEpoch},
					{"FirstSequence", kb.FirstSequence, spec.BaseSequence},
					{"NumRecords", kb.NumRecords, n},
					{"CRC", uint32(kb.CRC), b.CRC()},
				}
				for _, ch := range checks {
					if ch.got != ch.want {
						t.Errorf("%s = %v, want %v", ch.name, ch.got, ch.want)
					}
				}
				if len(krecs) != len(sc.recs) {
					t.Fatalf("kmsg decoded %d records, want %d", len(krecs), len(sc.recs))
				}
				for i, r := range sc.recs {
					k := krecs[i]
					if k.Attributes != 0 || k.OffsetDelta != int32(i) || k.TimestampDelta64 != r.Timestamp-sc.recs[0].Timestamp {
						t.Errorf("record %d: attrs %d offDelta %d tsDelta %d", i, k.Attributes, k.OffsetDelta, k.TimestampDelta64)
					}
					if !sameNullable(k.Key, r.Key) || !sameNullable(k.Value, r.Value) {
						t.Errorf("record %d: key %s value %s, want %s %s", i, describeNullable(k.Key),
							describeNullable(k.Value), describeNullable(r.Key), describeNullable(r.Value))
					}
					if len(k.Headers) != len(r.Headers) {
						t.Errorf("record %d: %d headers, want %d", i, len(k.Headers), len(r.Headers))
						continue
					}
					for j, h := range r.Headers {
						if k.Headers[j].Key != h.Key || !sameNullable(k.Headers[j].Value, h.Value) {
							t.Errorf("record %d header %d: %q=%s", i, j, k.Headers[j].Key, describeNullable(k.Headers[j].Value))
						}
					}
				}
				// And the package reads its own output back the same way.
				got, err := readRecords(b)
				if err != nil {
					t.Fatal(err)
				}
				compareRecords(t, got, krecs)
			})
		}
	}
}

// TestBuildCodecFraming: Build writes the snappy framing and lz4 frame
// options Kafka's Java client writes.
func TestBuildCodecFraming(t *testing.T) {
	recs := []record.NewRecord{{Timestamp: 1, Value: pseudoRandom(5, 100<<10)}}
	spec := record.NewSpec()

	spec.Compression = record.CompressionSnappy
	b := mustBuild(t, spec, recs)
	p := b.Payload()
	wantHdr := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}
	if !bytes.HasPrefix(p, wantHdr) {
		t.Errorf("snappy payload starts % x, want the xerial header % x", p[:min(16, len(p))], wantHdr)
	}

	spec.Compression = record.CompressionLz4
	b = mustBuild(t, spec, recs)
	p = b.Payload()
	if !bytes.HasPrefix(p, []byte{0x04, 0x22, 0x4d, 0x18}) {
		t.Fatalf("lz4 payload starts % x, want the frame magic", p[:4])
	}
	flg, bd := p[4], p[5]
	if flg>>6 != 1 || flg&0x20 == 0 {
		t.Errorf("lz4 FLG %#x: want version 01 and independent blocks (Kafka refuses dependent ones)", flg)
	}
	if bd>>4&7 != 4 {
		t.Errorf("lz4 BD %#x: want 64 KiB blocks (id 4) as Kafka writes", bd)
	}

	spec.Compression = record.CompressionGzip
	b = mustBuild(t, spec, recs)
	if p = b.Payload(); p[0] != 0x1f || p[1] != 0x8b {
		t.Errorf("gzip payload starts % x", p[:2])
	}
	spec.Compression = record.CompressionZstd
	b = mustBuild(t, spec, recs)
	if p = b.Payload(); !bytes.HasPrefix(p, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Errorf("zstd payload starts % x", p[:4])
	}
}
