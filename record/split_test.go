package record_test

// Cutting byte ranges into batches: Peek, Next, Split, following
// ByteBufferLogInputStream.nextBatchSize/nextBatch.

import (
	"bytes"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/record"
)

// rawHeader returns the first n bytes of a batch-like buffer with the given
// size field and magic (the rest zero).
func rawHeader(n int, size int32, magic byte) []byte {
	b := make([]byte, n)
	if n >= 12 {
		putI32(b, posLength, size)
	}
	if n >= 17 {
		b[posMagic] = magic
	}
	return b
}

func TestPeek(t *testing.T) {
	valid := mustBuild(t, record.NewSpec(), simpleRecords(3, 1))
	for _, c := range []struct {
		name    string
		buf     []byte
		maxSize int
		total   int
		code    *kerr.Error // nil: no error
		legacy  bool
	}{
		{"empty", nil, 0, 0, nil, false},
		{"11 bytes", valid[:11], 0, 0, nil, false},
		{"12 bytes, size ok: need more", valid[:12], 0, 0, nil, false},
		{"16 bytes, size ok: need more", valid[:16], 0, 0, nil, false},
		{"17 bytes: total known", valid[:17], 0, len(valid), nil, false},
		{"whole batch", valid, 0, len(valid), nil, false},
		{"whole batch plus more", append(append([]byte{}, valid...), 1, 2, 3), 0, len(valid), nil, false},
		// Size checks happen as soon as 12 bytes are there.
		{"size 13 with 12 bytes", rawHeader(12, 13, 0), 0, 0, kerr.CorruptMessage, false},
		{"size 0", rawHeader(17, 0, 2), 0, 0, kerr.CorruptMessage, false},
		{"size -1", rawHeader(17, -1, 2), 0, 0, kerr.CorruptMessage, false},
		{"size MinInt32", rawHeader(17, math.MinInt32, 2), 0, 0, kerr.CorruptMessage, false},
		{"size above max", rawHeader(12, 1001, 2), 1000, 0, kerr.CorruptMessage, false},
		{"size equal to max", rawHeader(17, 1000, 2), 1000, 1012, nil, false},
		{"size above max, magic unseen", rawHeader(16, 5000, 0), 100, 0, kerr.CorruptMessage, false},
		// Magic outside 0..2.
		{"magic 3", rawHeader(17, 100, 3), 0, 0, kerr.CorruptMessage, false},
		{"magic 127", rawHeader(17, 100, 127), 0, 0, kerr.CorruptMessage, false},
		{"magic -1", rawHeader(17, 100, 0xff), 0, 0, kerr.CorruptMessage, false},
		{"magic -128", rawHeader(17, 100, 0x80), 0, 0, kerr.CorruptMessage, false},
		// Legacy magic.
		{"magic 0", rawHeader(17, 100, 0), 0, 0, nil, true},
		{"magic 1", rawHeader(17, 100, 1), 0, 0, nil, true},
		{"magic 0 size 14", rawHeader(26, 14, 0), 0, 0, nil, true},
		// v2 with a size below the 61-byte header.
		{"v2 size 14", rawHeader(26, 14, 2), 0, 0, kerr.CorruptMessage, false},
		{"v2 size 48", rawHeader(60, 48, 2), 0, 0, kerr.CorruptMessage, false},
		{"v2 size 49", rawHeader(61, 49, 2), 0, 61, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			total, err := record.Peek(c.buf, c.maxSize)
			switch {
			case c.legacy:
				if err != record.ErrLegacyMagic {
					t.Fatalf("err %v, want ErrLegacyMagic", err)
				}
				wantCode(t, err, kerr.InvalidRecord)
			case c.code != nil:
				wantCode(t, err, c.code)
			case err != nil:
				t.Fatalf("unexpected error %v", err)
			}
			if total != c.total {
				t.Errorf("total %d, want %d", total, c.total)
			}
		})
	}
}

func TestNext(t *testing.T) {
	b1 := mustBuild(t, record.NewSpec(), simpleRecords(2, 1))
	s := record.NewSpec()
	s.Compression = record.CompressionZstd
	b2 := mustBuild(t, s, simpleRecords(5, 9))
	buf := append(append(append([]byte{}, b1...), b2...), b1[:30]...)

	got, rest, err := record.Next(buf, 0)
	if err != nil || !bytes.Equal(got, b1) || len(rest) != len(buf)-len(b1) {
		t.Fatalf("first Next: %d bytes, rest %d, err %v", len(got), len(rest), err)
	}
	if cap(got) != len(got) {
		t.Errorf("batch capacity %d exceeds its length %d", cap(got), len(got))
	}
	got, rest, err = record.Next(rest, 0)
	if err != nil || !bytes.Equal(got, b2) || len(rest) != 30 {
		t.Fatalf("second Next: %d bytes, rest %d, err %v", len(got), len(rest), err)
	}
	// An incomplete tail: nil batch, the same bytes back, no error.
	got, rest2, err := record.Next(rest, 0)
	if got != nil || err != nil || len(rest2) != 30 || &rest2[0] != &rest[0] {
		t.Fatalf("tail Next: %v, rest %d, err %v", got, len(rest2), err)
	}
	// Every prefix of a batch is an incomplete tail.
	for n := 0; n < len(b1); n++ {
		got, rest, err := record.Next(b1[:n], 0)
		if got != nil || err != nil || len(rest) != n {
			t.Fatalf("prefix %d: batch %d bytes, rest %d, err %v", n, len(got), len(rest), err)
		}
	}
	// maxSize rejects a larger batch and accepts one that fits exactly.
	_, _, err = record.Next(b1, len(b1)-13)
	wantCode(t, err, kerr.CorruptMessage)
	if got, _, err := record.Next(b1, len(b1)-12); err != nil || len(got) != len(b1) {
		t.Errorf("maxSize = batchLength: %d bytes, err %v", len(got), err)
	}
	// Faults come back with the buffer untouched.
	bad := rawHeader(20, 100, 9)
	got, rest, err = record.Next(bad, 0)
	wantCode(t, err, kerr.CorruptMessage)
	if got != nil || len(rest) != len(bad) {
		t.Errorf("fault: batch %v, rest %d", got, len(rest))
	}
}

func TestNextLegacy(t *testing.T) {
	for _, magic := range []byte{0, 1} {
		msg := legacyMessage(t, magic, []byte("key"), []byte("value"))
		_, _, err := record.Next(msg, 0)
		if err != record.ErrLegacyMagic {
			t.Errorf("magic %d complete: err %v, want ErrLegacyMagic", magic, err)
		}
		wantCode(t, err, kerr.InvalidRecord)
		// Incomplete: an ordinary tail, whatever the magic.
		for n := 0; n < len(msg); n++ {
			got, rest, err := record.Next(msg[:n], 0)
			if got != nil || err != nil || len(rest) != n {
				t.Errorf("magic %d prefix %d: %v %d %v", magic, n, got, len(rest), err)
			}
		}
	}
}

// TestNextIncompleteShortV2Tail: ByteBufferLogInputStream.nextBatch returns
// null for any incomplete batch once its size and magic checks pass; the
// 61-byte minimum is only enforced later (isValid/ensureValid) on a whole
// batch. So a truncated v2 tail whose size field is 14..48 ends the
// iteration silently in Kafka.
func TestNextIncompleteShortV2Tail(t *testing.T) {
	tail := rawHeader(20, 30, 2) // claims 42 bytes, holds 20
	got, rest, err := record.Next(tail, 0)
	if got != nil || err != nil || len(rest) != len(tail) {
		t.Errorf("Next: batch %v, rest %d, err %v; want an incomplete tail", got, len(rest), err)
	}
	batches, n, err := record.Split(tail)
	if len(batches) != 0 || n != len(tail) || err != nil {
		t.Errorf("Split: %d batches, tail %d, err %v", len(batches), n, err)
	}
}

func TestSplit(t *testing.T) {
	var all []byte
	var want []record.Batch
	for i, c := range allCodecs {
		s := record.NewSpec()
		s.Compression = c
		s.BaseOffset = int64(i * 100)
		b := mustBuild(t, s, simpleRecords(i+1, int64(i)))
		want = append(want, b)
		all = append(all, b...)
	}
	batches, tail, err := record.Split(all)
	if err != nil || tail != 0 || len(batches) != len(want) {
		t.Fatalf("Split: %d batches, tail %d, err %v", len(batches), tail, err)
	}
	for i := range want {
		if !bytes.Equal(batches[i], want[i]) {
			t.Errorf("batch %d differs", i)
		}
	}

	// Empty input.
	if batches, tail, err := record.Split(nil); len(batches) != 0 || tail != 0 || err != nil {
		t.Errorf("Split(nil) = %d, %d, %v", len(batches), tail, err)
	}

	// A torn tail after two batches.
	torn := append(append([]byte{}, all[:len(want[0])+len(want[1])]...), want[2][:40]...)
	batches, tail, err = record.Split(torn)
	if err != nil || tail != 40 || len(batches) != 2 {
		t.Errorf("torn: %d batches, tail %d, err %v", len(batches), tail, err)
	}

	// A fault after one batch: the batch before it, the rest as the tail, the error.
	bad := append(append([]byte{}, want[0]...), rawHeader(30, 5, 2)...)
	batches, tail, err = record.Split(bad)
	wantCode(t, err, kerr.CorruptMessage)
	if len(batches) != 1 || tail != 30 {
		t.Errorf("fault: %d batches, tail %d", len(batches), tail)
	}
	bad = append(append([]byte{}, want[0]...), rawHeader(70, 58, 5)...)
	_, _, err = record.Split(bad)
	wantCode(t, err, kerr.CorruptMessage)

	// A complete legacy message after a batch.
	leg := append(append([]byte{}, want[0]...), legacyMessage(t, 1, nil, []byte("v"))...)
	batches, _, err = record.Split(leg)
	if err != record.ErrLegacyMagic || len(batches) != 1 {
		t.Errorf("legacy: %d batches, err %v", len(batches), err)
	}
	// Fewer than 12 bytes left: a tail.
	batches, tail, err = record.Split(append(append([]byte{}, want[0]...), 1, 2, 3))
	if err != nil || tail != 3 || len(batches) != 1 {
		t.Errorf("3-byte tail: %d batches, tail %d, err %v", len(batches), tail, err)
	}
}
