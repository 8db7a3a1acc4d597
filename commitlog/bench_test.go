package commitlog_test

import (
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
)

// benchBatch builds an uncompressed client batch of records of recordSize
// value bytes, the largest that fits in batchSize bytes.
func benchBatch(tb testing.TB, recordSize, batchSize int) record.Batch {
	for n := batchSize / recordSize; n > 0; n-- {
		recs := make([]record.NewRecord, n)
		for i := range recs {
			v := make([]byte, recordSize)
			for j := range v {
				v[j] = byte(i + j)
			}
			recs[i] = record.NewRecord{Timestamp: 1_700_000_000_000 + int64(i), Value: v}
		}
		b, err := record.Build(record.NewSpec(), recs)
		if err != nil {
			tb.Fatal(err)
		}
		if len(b) <= batchSize {
			return b
		}
	}
	tb.Fatal("no batch fits")
	return nil
}

func benchOpen(tb testing.TB) *commitlog.Log {
	cfg := commitlog.DefaultConfig()
	cfg.MaxMessageBytes = 2 << 20 // room for 1 MiB batches
	l, err := commitlog.Open(filepath.Join(tb.TempDir(), "bench-0"), commitlog.Options{Config: cfg, Logger: zerolog.Nop()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// BenchmarkAppend measures leader appends (validation, offset assignment,
// write to the page cache, sparse index) of 16 KiB and 1 MiB batches of
// 100-byte and 1 KiB records.
func BenchmarkAppend(b *testing.B) {
	for _, c := range []struct{ record, batch int }{{100, 16 << 10}, {1024, 16 << 10}, {100, 1 << 20}, {1024, 1 << 20}} {
		b.Run(fmt.Sprintf("record=%dB/batch=%dKiB", c.record, c.batch>>10), func(b *testing.B) {
			batch := benchBatch(b, c.record, c.batch)
			l := benchOpen(b)
			b.SetBytes(int64(len(batch)))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				batch.SetBaseOffset(0) // the previous append patched it
				if _, err := l.AppendAsLeader(batch, 1, record.FromClient); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead measures consumer-style reads: locate the batch holding an
// offset through the sparse index, gather whole batches up to 1 MiB, and
// copy the file range out (what sendfile would transmit).
func BenchmarkRead(b *testing.B) {
	for _, c := range []struct{ record, batch int }{{100, 16 << 10}, {1024, 1 << 20}} {
		b.Run(fmt.Sprintf("record=%dB/batch=%dKiB", c.record, c.batch>>10), func(b *testing.B) {
			batch := benchBatch(b, c.record, c.batch)
			l := benchOpen(b)
			for l.Size() < 256<<20 {
				batch.SetBaseOffset(0)
				if _, err := l.AppendAsLeader(batch, 1, record.FromClient); err != nil {
					b.Fatal(err)
				}
			}
			end := l.LogEndOffset()
			l.SetHighWatermark(end)
			buf := make([]byte, 2<<20)
			b.ResetTimer()
			var bytes int64
			off := model.Offset(0)
			for i := 0; i < b.N; i++ {
				if off >= end {
					off = 0
				}
				r, err := l.Read(off, 1<<20, end, true)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(io.NewSectionReader(r.Range.File, r.Range.Position, r.Range.Size), buf[:r.Range.Size]); err != nil {
					b.Fatal(err)
				}
				bytes += r.Range.Size
				off = r.NextOffset
			}
			b.SetBytes(bytes / int64(b.N))
		})
	}
}
