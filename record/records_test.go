package record_test

// Record iteration faults, in DefaultRecord/DefaultRecordBatch terms, for
// uncompressed records and for each codec.

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/record"
)

// rawRecord writes a record from already-encoded body bytes, with its length.
func rawRecord(body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return append(binary.AppendVarint(nil, int64(len(b))), b...)
}

func vi(v int64) []byte { return binary.AppendVarint(nil, v) }

func TestRecordFaults(t *testing.T) {
	good := encodeKmsgRecord(kmsg.Record{Key: []byte("k"), Value: []byte("v")})
	attrsTsOff := []byte{0, 0, 0}
	for _, c := range []struct {
		name  string
		raw   []byte
		count int32
		msg   string // for uncompressed batches
	}{
		{"no records at all", nil, 1, "premature EOF"},
		{"one of two records", good, 2, "premature EOF"},
		{"length varint cut", append(append([]byte{}, good...), 0x80), 2, "premature EOF"},
		{"length beyond the payload", append(vi(100), good[1:]...), 1, "Invalid record size"},
		{"negative length", append(vi(-3), good[1:]...), 1, ""},
		{"length varint of 5 continuation bytes", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1, ""},
		{"empty body", rawRecord(), 1, "invalid record structure"},
		{"body without offset delta", rawRecord([]byte{0, 0}), 1, "invalid record structure"},
		{"key overruns", rawRecord(attrsTsOff, vi(10), []byte("abc")), 1, "invalid record structure"},
		{"value overruns", rawRecord(attrsTsOff, vi(-1), vi(5), []byte("ab")), 1, "invalid record structure"},
		{"no header count", rawRecord(attrsTsOff, vi(-1), vi(-1)), 1, "invalid record structure"},
		{"negative header count", rawRecord(attrsTsOff, vi(-1), vi(-1), vi(-1)), 1, "invalid number of record headers -1"},
		{"header count beyond the record", rawRecord(attrsTsOff, vi(-1), vi(-1), vi(3), []byte{0, 0}), 1, "larger than the remaining size"},
		{"negative header key length", rawRecord(attrsTsOff, vi(-1), vi(-1), vi(1), vi(-1), vi(-1)), 1, "negative header key size"},
		{"header key overruns", rawRecord(attrsTsOff, vi(-1), vi(-1), vi(1), vi(9), []byte("ab")), 1, "invalid record structure"},
		{"header value overruns", rawRecord(attrsTsOff, vi(-1), vi(-1), vi(1), vi(1), []byte("h"), vi(9), []byte("ab")), 1, "invalid record structure"},
		{"body longer than its fields", rawRecord(attrsTsOff, vi(-1), vi(-1), vi(0), []byte{7, 7}), 1, "expected to read"},
		{"bytes after the last record", append(append([]byte{}, good...), good...), 1, "records still remaining"},
		{"one byte after the last record", append(append([]byte{}, good...), 0), 1, "records still remaining"},
	} {
		for _, enc := range allEncodings {
			t.Run(c.name+"/"+enc.String(), func(t *testing.T) {
				h := plainHeader(int(c.count), now)
				b := record.Batch(oracleBatchRaw(t, h, enc, c.raw))
				_, err := readRecords(b)
				wantCode(t, err, kerr.InvalidRecord)
				if enc == encNone && c.msg != "" && !strings.Contains(err.Error(), c.msg) {
					t.Errorf("error %q does not mention %q", err, c.msg)
				}
				_, err = b.ValidateAsLeader(rules())
				wantCode(t, err, kerr.InvalidRecord)
			})
		}
	}
}

// TestRecordsRemainingFaultBeforeLastRecord: Kafka's iterators check for
// bytes after the last declared record while reading it, so the fault is
// raised before that record is handed out.
func TestRecordsRemainingFaultBeforeLastRecord(t *testing.T) {
	var raw []byte
	for _, r := range seqRecords(3) {
		raw = append(raw, encodeKmsgRecord(r)...)
	}
	for _, enc := range allEncodings {
		b := record.Batch(oracleBatchRaw(t, plainHeader(2, now), enc, raw))
		got, err := readRecords(b)
		wantCode(t, err, kerr.InvalidRecord)
		if len(got) != 1 {
			t.Errorf("%v: %d records handed out before the fault, want 1", enc, len(got))
		}
	}
}

// TestRecordNullsAndLengths: any negative key, value or header value length
// is a null (DefaultRecord.readFrom tests size >= 0).
func TestRecordNullsAndLengths(t *testing.T) {
	raw := rawRecord([]byte{0}, vi(-7), vi(3), vi(-2), vi(-100), vi(2), vi(1), []byte("a"), vi(-5), vi(0), vi(0))
	for _, enc := range allEncodings {
		b := record.Batch(oracleBatchRaw(t, plainHeader(1, now), enc, raw))
		got, err := readRecords(b)
		if err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		r := got[0]
		if r.TimestampDelta != -7 || r.OffsetDelta != 3 || r.Key != nil || r.Value != nil || len(r.Headers) != 2 {
			t.Fatalf("%v: %+v", enc, r)
		}
		if r.Headers[0].Key != "a" || r.Headers[0].Value != nil || r.Headers[1].Key != "" || r.Headers[1].Value == nil || len(r.Headers[1].Value) != 0 {
			t.Errorf("%v: headers %+v", enc, r.Headers)
		}
		if r.Size != len(raw) {
			t.Errorf("%v: Size %d, want %d", enc, r.Size, len(raw))
		}
	}
}

// TestRecordAttributesAndExtremeDeltas: the record attributes byte is kept
// as it is, and varlong timestamp deltas use all 64 bits.
func TestRecordAttributesAndExtremeDeltas(t *testing.T) {
	recs := []kmsg.Record{
		{Attributes: 0x7f, TimestampDelta64: -1 << 63, OffsetDelta: -1 << 31},
		{Attributes: -1, TimestampDelta64: 1<<63 - 1, OffsetDelta: 1<<31 - 1},
	}
	for _, enc := range allEncodings {
		b := record.Batch(oracleBatch(t, plainHeader(2, 0), enc, recs))
		got, err := readRecords(b)
		if err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		compareRecords(t, got, recs)
	}
}

// TestRecordsCountZeroOrNegative: a count of 0 gives no records and no
// check of the payload (DefaultRecordBatch returns an empty iterator); a
// negative count fails when the iterator is made.
func TestRecordsCountZeroOrNegative(t *testing.T) {
	for _, enc := range allEncodings {
		b := record.Batch(oracleBatchRaw(t, plainHeader(0, now), enc, []byte("junk that is not records")))
		got, err := readRecords(b)
		if err != nil || len(got) != 0 {
			t.Errorf("%v count 0: %d records, %v", enc, len(got), err)
		}
		putI32(b, posCount, -1)
		_, err = b.Records()
		wantCode(t, err, kerr.InvalidRecord)
	}
	// Even a payload that cannot be decompressed (gzip and lz4 readers
	// would fail on their headers).
	b := record.Batch(oracleBatchRaw(t, plainHeader(0, now), encNone, []byte("not compressed at all")))
	for _, c := range []int16{1, 2, 3, 4} {
		putI16(b, posAttributes, c)
		fixCRC(b)
		if got, err := readRecords(b); err != nil || len(got) != 0 {
			t.Errorf("codec %d garbage, count 0: %d records, %v", c, len(got), err)
		}
		r := rules()
		r.Origin = record.FromCoordinator
		if v, err := b.ValidateAsLeader(r); err != nil || v.Records != 0 {
			t.Errorf("codec %d garbage, count 0, from a coordinator: %+v, %v", c, v, err)
		}
	}
	// An unknown codec fails whatever the count.
	putI16(b, posAttributes, 5)
	_, err := b.Records()
	wantCode(t, err, kerr.UnknownServerError)
}

// TestRecordIterAPI: Next stops at the declared count, Record is stable
// until Next, Close is idempotent.
func TestRecordIterAPI(t *testing.T) {
	for _, c := range allCodecs {
		s := record.NewSpec()
		s.Compression = c
		b := mustBuild(t, s, simpleRecords(3, 10))
		it, err := b.Records()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for it.Next() {
			r := it.Record()
			if want := simpleRecords(3, 10)[n]; !bytes.Equal(r.Key, want.Key) || !bytes.Equal(r.Value, want.Value) || r.OffsetDelta != int32(n) || r.TimestampDelta != int64(n) {
				t.Errorf("%v record %d: %+v", c, n, r)
			}
			n++
		}
		if n != 3 || it.Err() != nil {
			t.Errorf("%v: %d records, err %v", c, n, it.Err())
		}
		if it.Next() {
			t.Errorf("%v: Next after the end returned true", c)
		}
		it.Close()
		it.Close()
	}
}

// TestRecordsStreamLargeRecord: a record of several MiB inside a compressed
// batch reads back (the streaming reader grows its buffer in steps).
func TestRecordsStreamLargeRecord(t *testing.T) {
	val := pseudoRandom(40, 3<<20+17)
	for _, enc := range allEncodings {
		recs := []kmsg.Record{{Key: []byte("big"), Value: val}, {OffsetDelta: 1, Value: []byte("after")}}
		b := record.Batch(oracleBatch(t, plainHeader(2, now), enc, recs))
		got, err := readRecords(b)
		if err != nil {
			t.Fatalf("%v: %v", enc, err)
		}
		compareRecords(t, got, recs)
	}
}

// TestRecordsLyingLength: a compressed record claiming 1 GiB with a few
// bytes behind it fails as a short record without allocating the claim.
func TestRecordsLyingLength(t *testing.T) {
	raw := append(vi(1<<30), make([]byte, 100)...)
	for _, enc := range allEncodings[1:] {
		b := record.Batch(oracleBatchRaw(t, plainHeader(1, now), enc, raw))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := readRecords(b)
		runtime.ReadMemStats(&after)
		wantCode(t, err, kerr.InvalidRecord)
		if !strings.Contains(err.Error(), "reached EOF") {
			t.Errorf("%v: %v", enc, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 32<<20 {
			t.Errorf("%v: reading allocated %d bytes for a 1 GiB claim", enc, n)
		}
	}
}
