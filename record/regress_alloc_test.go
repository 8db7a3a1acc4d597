package record_test

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/kbroker/kbroker/record"
)

func reviewVarint(b []byte, v int64) []byte {
	return binary.AppendVarint(b, v) // zig-zag, as Kafka's varints
}

// A produce batch is bounded by max.message.bytes in its compressed form
// only. Leader validation (ValidateAsLeader -> RecordIter.nextStreamed)
// reads every record whole into memory, so a ~10 KB zstd batch holding one
// 256 MiB record makes the broker allocate hundreds of MiB per request.
// Kafka validates in-place batches with skipKeyValueIterator, which skips
// key and value bytes without buffering them (LogValidator
// validateMessagesAndAssignOffsetsCompressed), so its memory does not grow
// with the decompressed record size.
func TestRegressionLeaderValidationMemoryBoundedByBatchSize(t *testing.T) {
	const valueLen = 256 << 20
	var raw bytes.Buffer
	var body []byte
	body = append(body, 0)        // attributes
	body = reviewVarint(body, 0)  // timestamp delta
	body = reviewVarint(body, 0)  // offset delta
	body = reviewVarint(body, -1) // null key
	body = reviewVarint(body, valueLen)
	rec := reviewVarint(nil, int64(len(body)+valueLen+1))
	raw.Write(rec)
	raw.Write(body)

	var comp bytes.Buffer
	zw, err := zstd.NewWriter(&comp, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(raw.Bytes())
	zeros := make([]byte, 1<<20)
	for i := 0; i < valueLen>>20; i++ {
		zw.Write(zeros)
	}
	zw.Write([]byte{0}) // header count
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	b := make([]byte, 61, 61+comp.Len())
	be := binary.BigEndian
	be.PutUint32(b[8:], uint32(49+comp.Len()))
	be.PutUint32(b[12:], 0xffffffff)
	b[16] = 2
	be.PutUint16(b[21:], uint16(record.CompressionZstd))
	be.PutUint64(b[27:], 1000)
	be.PutUint64(b[35:], 1000)
	be.PutUint64(b[43:], 0xffffffffffffffff)
	be.PutUint16(b[51:], 0xffff)
	be.PutUint32(b[53:], 0xffffffff)
	be.PutUint32(b[57:], 1)
	b = append(b, comp.Bytes()...)
	be.PutUint32(b[17:], crc32c(b))
	if len(b) > 1048588 {
		t.Fatalf("batch is %d bytes, over max.message.bytes", len(b))
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, err := record.Batch(b).ValidateAsLeader(record.DefaultLeaderRules(2000)); err != nil {
		t.Fatalf("validation: %v", err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 32<<20 {
		t.Fatalf("validating a %d-byte batch allocated %d MiB", len(b), grew>>20)
	}
}
