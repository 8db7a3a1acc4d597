package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/record"
)

func main() {
	dir := flag.String("dir", "", "directory on the disk to measure (default: a new temporary directory)")
	totalMiB := flag.Int("total-mib", 1024, "MiB written per measurement")
	rounds := flag.Int("rounds", 3, "measurements of each kind (the median is reported)")
	flag.Parse()
	if *dir == "" {
		d, err := os.MkdirTemp("", "bench-storage")
		check(err)
		defer os.RemoveAll(d)
		*dir = d
	}
	total := int64(*totalMiB) << 20
	fmt.Printf("bench-storage: %d MiB per run, %d rounds, in %s\n", *totalMiB, *rounds, *dir)
	fmt.Printf("%-26s %12s %12s %8s\n", "batch", "raw MB/s", "kbroker MB/s", "ratio")
	for _, c := range []struct{ record, batch int }{{1024, 1 << 20}, {100, 1 << 20}, {1024, 16 << 10}, {100, 16 << 10}} {
		batch := buildBatch(c.record, c.batch)
		var raws, logs []float64
		for r := 0; r < *rounds; r++ {
			// Alternate the order and start each run with no dirty pages, so
			// neither pays for the other's writeback.
			if r%2 == 0 {
				syscall.Sync()
				raws = append(raws, rawWrite(*dir, batch, total))
				syscall.Sync()
				logs = append(logs, logAppend(*dir, batch, total))
			} else {
				syscall.Sync()
				logs = append(logs, logAppend(*dir, batch, total))
				syscall.Sync()
				raws = append(raws, rawWrite(*dir, batch, total))
			}
		}
		raw, kb := median(raws), median(logs)
		fmt.Printf("%-26s %12.0f %12.0f %8.2f\n", fmt.Sprintf("%dB records, %dKiB", c.record, len(batch)>>10), raw, kb, kb/raw)
	}
}

// buildBatch makes the largest uncompressed batch of recordSize-byte values
// that fits in size bytes.
func buildBatch(recordSize, size int) record.Batch {
	for n := size / recordSize; n > 0; n-- {
		recs := make([]record.NewRecord, n)
		for i := range recs {
			v := make([]byte, recordSize)
			for j := range v {
				v[j] = byte(i*7 + j)
			}
			recs[i] = record.NewRecord{Timestamp: time.Now().UnixMilli(), Value: v}
		}
		b, err := record.Build(record.NewSpec(), recs)
		check(err)
		if len(b) <= size {
			return b
		}
	}
	panic("no batch fits")
}

// rawWrite writes the batch repeatedly with plain sequential writes into
// 1 GiB files, like the log's segments, and returns MB/s.
func rawWrite(dir string, batch []byte, total int64) float64 {
	path := filepath.Join(dir, "raw")
	check(os.MkdirAll(path, 0o755))
	defer os.RemoveAll(path)
	start := time.Now()
	// Like the log, which preallocates its index files and creates its
	// first segment at open, the clock starts before the first file exists.
	var f *os.File
	var inFile, written int64
	for written < total {
		if f == nil || inFile+int64(len(batch)) > 1<<30 {
			if f != nil {
				check(f.Close())
			}
			var err error
			f, err = os.Create(filepath.Join(path, fmt.Sprintf("%020d.log", written)))
			check(err)
			inFile = 0
		}
		_, err := f.Write(batch)
		check(err)
		inFile += int64(len(batch))
		written += int64(len(batch))
	}
	elapsed := time.Since(start)
	check(f.Close())
	return float64(written) / 1e6 / elapsed.Seconds()
}

// logAppend appends the batch as a leader would, with Kafka's default topic
// settings (1 GiB segments, 4 KiB index interval), and returns MB/s.
func logAppend(dir string, batch record.Batch, total int64) float64 {
	path := filepath.Join(dir, "bench-0")
	defer os.RemoveAll(path)
	cfg := commitlog.DefaultConfig()
	cfg.MaxMessageBytes = 2 << 20
	l, err := commitlog.Open(path, commitlog.Options{Config: cfg, Logger: zerolog.Nop()})
	check(err)
	start := time.Now()
	var written int64
	for written < total {
		batch.SetBaseOffset(0)
		_, err := l.AppendAsLeader(batch, 0, record.FromClient)
		check(err)
		written += int64(len(batch))
	}
	elapsed := time.Since(start)
	check(l.Close())
	return float64(written) / 1e6 / elapsed.Seconds()
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench-storage:", err)
		os.Exit(1)
	}
}
