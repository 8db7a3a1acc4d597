package record_test

import (
	"fmt"
	"testing"

	"github.com/kbroker/kbroker/record"
)

// benchBatch builds a batch of recSize-byte values that, uncompressed,
// fills about total bytes (at most total, so a 1 MiB batch fits the default
// max.message.bytes).
func benchBatch(b *testing.B, c record.Compression, total, recSize int) record.Batch {
	b.Helper()
	pool := pseudoRandom(99, total+recSize)
	var recs []record.NewRecord
	for size := 61; size+recSize+24 <= total; size += recSize + 24 {
		i := len(recs)
		recs = append(recs, record.NewRecord{Timestamp: now + int64(i), Key: []byte(fmt.Sprintf("k%06d", i)), Value: pool[i*7%total:][:recSize]})
	}
	s := record.NewSpec()
	s.Compression = c
	batch := mustBuild(b, s, recs)
	if c == record.CompressionNone && (len(batch) > total || len(batch) < total*9/10) {
		b.Fatalf("batch has %d bytes, want about %d", len(batch), total)
	}
	return batch
}

func BenchmarkValidateAsLeader(b *testing.B) {
	for _, c := range []struct {
		name           string
		codec          record.Compression
		total, recSize int
	}{
		{"none/16KiB/100B", record.CompressionNone, 16 << 10, 100},
		{"none/1MiB/1KiB", record.CompressionNone, 1 << 20, 1 << 10},
		{"lz4/1MiB/1KiB", record.CompressionLz4, 1 << 20, 1 << 10},
		{"zstd/1MiB/1KiB", record.CompressionZstd, 1 << 20, 1 << 10},
	} {
		b.Run(c.name, func(b *testing.B) {
			batch := benchBatch(b, c.codec, c.total, c.recSize)
			r := record.DefaultLeaderRules(now)
			v, err := batch.ValidateAsLeader(r)
			if err != nil || v.Records != batch.NumRecords() {
				b.Fatalf("%+v, %v", v, err)
			}
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := batch.ValidateAsLeader(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSplit(b *testing.B) {
	one := benchBatch(b, record.CompressionNone, 16<<10, 100)
	var buf []byte
	for len(buf) < 1<<20 {
		buf = append(buf, one...)
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if _, tail, err := record.Split(buf); err != nil || tail != 0 {
			b.Fatal(tail, err)
		}
	}
}
