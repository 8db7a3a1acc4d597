package record_test

// Control batches: transaction markers (MemoryRecords.writeEndTransactionalMarker).

import (
	"bytes"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/record"
)

func TestBuildEndTxnMarker(t *testing.T) {
	for _, c := range []struct {
		typ       record.ControlType
		coordEp   int32
		wantKey   []byte
		wantValue []byte
	}{
		{record.ControlCommit, 7, []byte{0, 0, 0, 1}, []byte{0, 0, 0, 0, 0, 7}},
		{record.ControlAbort, 0x01020304, []byte{0, 0, 0, 0}, []byte{0, 0, 1, 2, 3, 4}},
		{record.ControlCommit, -1, []byte{0, 0, 0, 1}, []byte{0, 0, 0xff, 0xff, 0xff, 0xff}},
	} {
		b, err := record.BuildEndTxnMarker(123456789, 42, c.typ, c.coordEp, 1_650_000_000_000)
		if err != nil {
			t.Fatal(err)
		}
		// Header bytes, by position.
		if !bytes.Equal(b[posAttributes:posAttributes+2], []byte{0x00, 0x30}) {
			t.Errorf("%v: attributes % x, want 00 30", c.typ, []byte(b[posAttributes:posAttributes+2]))
		}
		if !bytes.Equal(b[posLastDelta:posLastDelta+4], []byte{0, 0, 0, 0}) || !bytes.Equal(b[posCount:posCount+4], []byte{0, 0, 0, 1}) {
			t.Errorf("%v: lastOffsetDelta/count wrong", c.typ)
		}
		if !bytes.Equal(b[posBaseSeq:posBaseSeq+4], []byte{0xff, 0xff, 0xff, 0xff}) {
			t.Errorf("%v: base sequence % x, want -1", c.typ, []byte(b[posBaseSeq:posBaseSeq+4]))
		}
		if !bytes.Equal(b[posProducerID:posProducerID+10], []byte{0, 0, 0, 0, 0x07, 0x5b, 0xcd, 0x15, 0, 42}) {
			t.Errorf("%v: producer id/epoch % x", c.typ, []byte(b[posProducerID:posProducerID+10]))
		}
		if b.BaseTimestamp() != 1_650_000_000_000 || b.MaxTimestamp() != 1_650_000_000_000 || b.TimestampType() != record.CreateTime {
			t.Errorf("%v: timestamps %d %d %v", c.typ, b.BaseTimestamp(), b.MaxTimestamp(), b.TimestampType())
		}
		if !b.IsControl() || !b.IsTransactional() || b.Compression() != record.CompressionNone || !b.CRCValid() || b.CRC() != crc32c(b) {
			t.Errorf("%v: flags/codec/CRC wrong", c.typ)
		}
		// The record, decoded by kmsg.
		_, recs := oracleRecords(t, b)
		if len(recs) != 1 {
			t.Fatalf("%d records", len(recs))
		}
		r := recs[0]
		if !bytes.Equal(r.Key, c.wantKey) || !bytes.Equal(r.Value, c.wantValue) || len(r.Headers) != 0 || r.OffsetDelta != 0 || r.TimestampDelta64 != 0 {
			t.Errorf("%v: record key % x value % x, want % x / % x", c.typ, r.Key, r.Value, c.wantKey, c.wantValue)
		}
		var kk kmsg.ControlRecordKey
		var kv kmsg.EndTxnMarker
		if kk.ReadFrom(r.Key) != nil || kv.ReadFrom(r.Value) != nil || int16(kk.Type) != int16(c.typ) || kk.Version != 0 || kv.CoordinatorEpoch != c.coordEp {
			t.Errorf("%v: kmsg reads key %+v value %+v", c.typ, kk, kv)
		}
		// And parsed back with the package.
		ver, typ, err := record.ParseControlKey(r.Key)
		if err != nil || ver != 0 || typ != c.typ {
			t.Errorf("ParseControlKey = %d %v %v", ver, typ, err)
		}
		m, err := record.ParseEndTxnMarker(r.Value)
		if err != nil || m.Version != 0 || m.CoordinatorEpoch != c.coordEp {
			t.Errorf("ParseEndTxnMarker = %+v %v", m, err)
		}
		// A coordinator may write it; a client may not.
		r0 := rules()
		r0.Origin = record.FromCoordinator
		if _, err := b.ValidateAsLeader(r0); err != nil {
			t.Errorf("coordinator marker rejected: %v", err)
		}
		_, err = b.ValidateAsLeader(rules())
		wantCode(t, err, kerr.InvalidRecord)
	}
}

func TestParseControlFaults(t *testing.T) {
	for _, k := range [][]byte{nil, {}, {0, 0, 0}} {
		_, _, err := record.ParseControlKey(k)
		wantCode(t, err, kerr.InvalidRecord)
	}
	for _, v := range [][]byte{nil, {0, 0, 0, 0, 0}} {
		_, err := record.ParseEndTxnMarker(v)
		wantCode(t, err, kerr.InvalidRecord)
	}
	// Longer keys and values (newer versions) read their known prefix.
	ver, typ, err := record.ParseControlKey([]byte{0, 1, 0, 5, 9, 9})
	if err != nil || ver != 1 || typ != 5 {
		t.Errorf("ParseControlKey(long) = %d %v %v", ver, typ, err)
	}
	m, err := record.ParseEndTxnMarker([]byte{0, 1, 0, 0, 1, 0, 0xaa})
	if err != nil || m.Version != 1 || m.CoordinatorEpoch != 256 {
		t.Errorf("ParseEndTxnMarker(long) = %+v %v", m, err)
	}
	if record.ControlAbort.String() != "ABORT" || record.ControlCommit.String() != "COMMIT" || record.ControlType(3).String() != "UNKNOWN(3)" {
		t.Error("ControlType names")
	}
}

// TestParseControlNegativeVersion: ControlRecordType.parseTypeId and
// EndTransactionMarker.deserialize refuse a negative version as corruption.
func TestParseControlNegativeVersion(t *testing.T) {
	_, _, err := record.ParseControlKey([]byte{0xff, 0xff, 0, 1})
	wantCode(t, err, kerr.InvalidRecord)
	_, err = record.ParseEndTxnMarker([]byte{0x80, 0, 0, 0, 0, 1})
	wantCode(t, err, kerr.InvalidRecord)
}
