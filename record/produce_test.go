package record_test

// ValidateProduceRecords: ProduceRequest.validateRecords for Produce v3+.

import (
	"bytes"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/record"
)

func TestValidateProduceRecords(t *testing.T) {
	one := mustBuild(t, record.NewSpec(), simpleRecords(2, 1))
	zstd := mustBuild(t, withCodec(record.CompressionZstd), simpleRecords(2, 1))
	legacy0 := legacyMessage(t, 0, nil, []byte("v"))
	legacy1 := legacyMessage(t, 1, []byte("k"), []byte("v"))
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	for _, c := range []struct {
		name    string
		version int16
		records []byte
		code    *kerr.Error // nil: accepted, returning the first batch
		msg     string
	}{
		{"one batch v3", 3, one, nil, ""},
		{"one batch v11", 11, one, nil, ""},
		{"no records", 9, nil, kerr.InvalidRecord, "at least one record batch"},
		{"only a partial batch", 9, one[:40], kerr.InvalidRecord, "at least one record batch"},
		{"only 5 bytes", 9, []byte{1, 2, 3, 4, 5}, kerr.InvalidRecord, "at least one record batch"},
		{"two batches", 9, cat(one, one), kerr.InvalidRecord, "exactly one record batch"},
		{"one batch and a partial one", 9, cat(one, one[:30]), nil, ""},
		{"one batch and 3 stray bytes", 9, cat(one, []byte{0, 0, 0}), nil, ""},
		{"zstd v3", 3, zstd, kerr.UnsupportedCompressionType, "ZStandard"},
		{"zstd v6", 6, zstd, kerr.UnsupportedCompressionType, "ZStandard"},
		{"zstd v7", 7, zstd, nil, ""},
		{"zstd v6 twice", 6, cat(zstd, zstd), kerr.UnsupportedCompressionType, ""},
		{"magic 0", 3, legacy0, kerr.InvalidRecord, "magic version 2"},
		{"magic 1", 8, legacy1, kerr.InvalidRecord, "magic version 2"},
		{"magic 1 then v2", 8, cat(legacy1, one), kerr.InvalidRecord, "magic version 2"},
		{"v2 then magic 1", 8, cat(one, legacy1), kerr.InvalidRecord, "exactly one record batch"},
		{"v2 then a partial magic 1", 8, cat(one, legacy1[:20]), nil, ""},
		{"bad magic", 9, rawHeader(80, 68, 7), kerr.CorruptMessage, "magic"},
		{"size below 14", 9, rawHeader(20, 3, 2), kerr.CorruptMessage, ""},
		{"v2 then a bad size", 9, cat(one, rawHeader(12, 2, 0)), kerr.CorruptMessage, ""},
		{"v2 then a bad magic", 9, cat(one, rawHeader(17, 100, 0x90)), kerr.CorruptMessage, ""},
		// Whole but shorter than the v2 header: passes here, fails the CRC check later.
		{"v2 size 30, whole", 9, rawHeader(42, 30, 2), kerr.CorruptMessage, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := record.ValidateProduceRecords(c.version, c.records)
			if c.code == nil {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if want, _, _ := record.Next(c.records, 0); !bytes.Equal(b, want) || len(b) == 0 {
					t.Errorf("returned %d bytes, want the first batch (%d)", len(b), len(want))
				}
				return
			}
			wantCode(t, err, c.code)
			if b != nil {
				t.Errorf("returned a batch with the error")
			}
			if c.msg != "" && !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
		})
	}
}

// TestValidateProduceRecordsShortV2Tail: a partition whose records are only
// the first 20 bytes of a batch with a size field of 30: Kafka's
// ByteBufferLogInputStream finds no batch (remaining < size), so
// validateRecords answers INVALID_RECORD "must have at least one record
// batch".
func TestValidateProduceRecordsShortV2Tail(t *testing.T) {
	_, err := record.ValidateProduceRecords(9, rawHeader(20, 30, 2))
	wantCode(t, err, kerr.InvalidRecord)
	// After a valid batch the same tail is trimmed like any other.
	one := mustBuild(t, record.NewSpec(), simpleRecords(1, 1))
	if _, err := record.ValidateProduceRecords(9, append(append([]byte{}, one...), rawHeader(20, 30, 2)...)); err != nil {
		t.Errorf("valid batch + short tail: %v", err)
	}
}
