package record_test

// Rebuild: what Kafka does to a compressed batch with bad inner offsets or
// a topic compression.type that differs from the batch's codec.

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/record"
)

func TestRebuildFixesOffsetDeltas(t *testing.T) {
	recs := []kmsg.Record{
		{TimestampDelta64: 0, OffsetDelta: 0, Key: []byte("a"), Value: []byte("1"), Headers: []kmsg.Header{{Key: "h", Value: nil}}},
		{TimestampDelta64: 9, OffsetDelta: 2, Key: nil, Value: []byte("2")},
		{TimestampDelta64: -4, OffsetDelta: 5, Key: []byte("c"), Value: nil, Headers: []kmsg.Header{{Key: "x", Value: []byte{}}}},
	}
	h := plainHeader(3, now)
	h.MaxTimestamp = now + 9
	h.ProducerID, h.ProducerEpoch, h.FirstSequence = 4242, 3, 17
	h.Attributes = 0x10 // transactional
	h.PartitionLeaderEpoch = 6
	for _, enc := range allEncodings[1:] {
		orig := record.Batch(oracleBatch(t, h, enc, recs))
		v, err := orig.ValidateAsLeader(rules())
		if err != nil || !v.NeedsRebuild {
			t.Fatalf("%v: validation %+v, %v; want NeedsRebuild", enc, v, err)
		}
		for _, to := range allCodecs {
			rb, err := record.Rebuild(orig, to)
			if err != nil {
				t.Fatalf("%v -> %v: %v", enc, to, err)
			}
			kb, got := oracleRecords(t, rb)
			if kb.Attributes != 0x10|int16(to) || kb.ProducerID != 4242 || kb.ProducerEpoch != 3 || kb.FirstSequence != 17 ||
				kb.PartitionLeaderEpoch != 6 || kb.FirstOffset != 0 || kb.FirstTimestamp != now || kb.MaxTimestamp != now+9 ||
				kb.LastOffsetDelta != 2 || kb.NumRecords != 3 {
				t.Errorf("%v -> %v: header %+v", enc, to, kb)
			}
			want := make([]kmsg.Record, len(recs))
			copy(want, recs)
			for i := range want {
				want[i].OffsetDelta = int32(i)
			}
			if len(got) != len(want) {
				t.Fatalf("%v -> %v: %d records", enc, to, len(got))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.OffsetDelta != w.OffsetDelta || g.TimestampDelta64 != w.TimestampDelta64 || !sameNullable(g.Key, w.Key) ||
					!sameNullable(g.Value, w.Value) || len(g.Headers) != len(w.Headers) {
					t.Errorf("%v -> %v: record %d = %+v, want %+v", enc, to, i, g, w)
					continue
				}
				for j := range w.Headers {
					if g.Headers[j].Key != w.Headers[j].Key || !sameNullable(g.Headers[j].Value, w.Headers[j].Value) {
						t.Errorf("%v -> %v: record %d header %d", enc, to, i, j)
					}
				}
			}
			v, err := rb.ValidateAsLeader(rules())
			if err != nil || v.NeedsRebuild || v.Records != 3 || v.MaxTimestamp != now+9 {
				t.Errorf("%v -> %v: rebuilt batch validates as %+v, %v", enc, to, v, err)
			}
		}
	}
}

func TestRebuildKeepsFlags(t *testing.T) {
	// LogAppendTime and control flags, base offset and epoch survive.
	s := record.NewSpec()
	s.TimestampType = record.LogAppendTime
	lat := int64(77)
	s.MaxTimestamp = &lat
	s.BaseOffset = 500
	s.PartitionLeaderEpoch = 3
	s.Compression = record.CompressionSnappy
	orig := mustBuild(t, s, simpleRecords(4, 10))
	rb, err := record.Rebuild(orig, record.CompressionLz4)
	if err != nil {
		t.Fatal(err)
	}
	if rb.TimestampType() != record.LogAppendTime || rb.MaxTimestamp() != 77 || rb.BaseOffset() != 500 || rb.PartitionLeaderEpoch() != 3 ||
		rb.Compression() != record.CompressionLz4 || rb.BaseTimestamp() != 10 || !rb.CRCValid() {
		t.Errorf("rebuilt header: type %v max %d base %d epoch %d codec %v", rb.TimestampType(), rb.MaxTimestamp(), rb.BaseOffset(), rb.PartitionLeaderEpoch(), rb.Compression())
	}
	a, errA := readRecords(orig)
	b, errB := readRecords(rb)
	if errA != nil || errB != nil || len(a) != len(b) {
		t.Fatalf("records: %v %v", errA, errB)
	}
	for i := range a {
		if !sameNullable(a[i].Key, b[i].Key) || !sameNullable(a[i].Value, b[i].Value) || a[i].TimestampDelta != b[i].TimestampDelta {
			t.Errorf("record %d differs", i)
		}
	}

	marker, err := record.BuildEndTxnMarker(9, 2, record.ControlAbort, 4, 1000)
	if err != nil {
		t.Fatal(err)
	}
	rb, err = record.Rebuild(marker, record.CompressionNone)
	if err != nil {
		t.Fatal(err)
	}
	if string(rb) != string(marker) {
		t.Errorf("rebuilding an uncompressed marker as uncompressed changed its bytes")
	}
}

func TestRebuildFaults(t *testing.T) {
	b := record.Batch(oracleBatchRaw(t, plainHeader(2, now), encGzip, encodeKmsgRecord(seqRecords(1)[0])))
	_, err := record.Rebuild(b, record.CompressionNone)
	if err == nil {
		t.Fatal("rebuilt a batch with a missing record")
	}
	wantCode(t, err, kerr.InvalidRecord)
}
