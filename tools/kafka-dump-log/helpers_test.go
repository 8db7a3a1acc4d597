package main

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// result is what one run of the tool produced.
type result struct {
	stdout, stderr string
	code           int
}

func runTool(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// lines splits output into lines, dropping the final newline.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

func assertLines(t *testing.T, what, got string, want []string) {
	t.Helper()
	g := lines(got)
	if len(g) != len(want) {
		t.Errorf("%s: got %d lines, want %d\ngot:\n%s\nwant:\n%s", what, len(g), len(want), got, strings.Join(want, "\n"))
		return
	}
	for i := range want {
		if g[i] != want[i] {
			t.Errorf("%s line %d:\n got: %q\nwant: %q", what, i, g[i], want[i])
		}
	}
}

// crc32c computes a batch's CRC independently of package record.
func crc32c(batch []byte) uint32 {
	return crc32.Checksum(batch[21:], crc32.MakeTable(crc32.Castagnoli))
}

func mustBuild(t testing.TB, spec record.BatchSpec, recs ...record.NewRecord) record.Batch {
	t.Helper()
	b, err := record.Build(spec, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// offsetIndex encodes .index entries: (relative offset, position) pairs.
func offsetIndex(entries ...[2]int32) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.BigEndian.AppendUint32(b, uint32(e[0]))
		b = binary.BigEndian.AppendUint32(b, uint32(e[1]))
	}
	return b
}

type tsEntry struct {
	ts  int64
	rel int32
}

// timeIndex encodes .timeindex entries.
func timeIndex(entries ...tsEntry) []byte {
	var b []byte
	for _, e := range entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
		b = binary.BigEndian.AppendUint32(b, uint32(e.rel))
	}
	return b
}

// testSegment is a segment written to a temporary directory, with the byte
// position of each of its batches.
type testSegment struct {
	dir       string
	base      int64
	batches   []record.Batch
	positions []int
	log       []byte
}

func (s *testSegment) path(suffix string) string {
	return filepath.Join(s.dir, segment.FileName(s.base, suffix))
}

func newSegment(t *testing.T, base int64, batches ...record.Batch) *testSegment {
	t.Helper()
	s := &testSegment{dir: t.TempDir(), base: base, batches: batches}
	for _, b := range batches {
		s.positions = append(s.positions, len(s.log))
		s.log = append(s.log, b...)
	}
	writeFile(t, s.path(segment.LogSuffix), s.log)
	return s
}

// sampleBatches are the batches of the main test segment (offsets 0..11):
// uncompressed with headers and a null key; gzip with a tombstone; a
// transactional batch and its COMMIT marker; LogAppendTime with zstd; an
// idempotent snappy batch whose sequence wraps past MaxInt32; lz4.
func sampleBatches(t testing.TB) []record.Batch {
	t.Helper()
	var out []record.Batch

	spec := record.NewSpec()
	spec.PartitionLeaderEpoch = 0
	out = append(out, mustBuild(t, spec,
		record.NewRecord{Timestamp: 1000, Key: []byte("k0"), Value: []byte("v0"),
			Headers: []record.Header{{Key: "h1", Value: []byte("x")}, {Key: "h2"}}},
		record.NewRecord{Timestamp: 1005, Value: []byte("v1")}))

	spec = record.NewSpec()
	spec.BaseOffset, spec.PartitionLeaderEpoch, spec.Compression = 2, 1, record.CompressionGzip
	out = append(out, mustBuild(t, spec,
		record.NewRecord{Timestamp: 2000, Key: []byte("k2")},
		record.NewRecord{Timestamp: 2001, Key: []byte("k3"), Value: []byte("v3")},
		record.NewRecord{Timestamp: 2002, Key: []byte("k4"), Value: []byte("v4")}))

	spec = record.NewSpec()
	spec.BaseOffset, spec.PartitionLeaderEpoch = 5, 1
	spec.Transactional, spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence = true, 7, 1, 0
	out = append(out, mustBuild(t, spec,
		record.NewRecord{Timestamp: 3000, Key: []byte("t5"), Value: []byte("tx5")},
		record.NewRecord{Timestamp: 3001, Key: []byte("t6"), Value: []byte("tx6")}))

	marker, err := record.BuildEndTxnMarker(7, 1, record.ControlCommit, 3, 3500)
	if err != nil {
		t.Fatal(err)
	}
	marker.SetBaseOffset(7)
	marker.SetPartitionLeaderEpoch(2)
	out = append(out, marker)

	spec = record.NewSpec()
	spec.BaseOffset, spec.PartitionLeaderEpoch = 8, 2
	spec.Compression, spec.TimestampType = record.CompressionZstd, record.LogAppendTime
	appendTime := int64(5000)
	spec.MaxTimestamp = &appendTime
	out = append(out, mustBuild(t, spec,
		record.NewRecord{Timestamp: 4000, Key: []byte("a8"), Value: []byte("la8")},
		record.NewRecord{Timestamp: 4001, Key: []byte("a9"), Value: []byte("la9")}))

	spec = record.NewSpec()
	spec.BaseOffset, spec.PartitionLeaderEpoch, spec.Compression = 10, 2, record.CompressionSnappy
	spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence = 9, 0, 1<<31-1
	out = append(out, mustBuild(t, spec,
		record.NewRecord{Timestamp: 6000, Key: []byte("s10"), Value: []byte("v10")},
		record.NewRecord{Timestamp: 6001, Key: []byte("s11"), Value: []byte("v11")}))

	spec = record.NewSpec()
	spec.BaseOffset, spec.PartitionLeaderEpoch, spec.Compression = 12, 2, record.CompressionLz4
	out = append(out, mustBuild(t, spec,
		record.NewRecord{Timestamp: 7000, Key: []byte("z12"), Value: []byte("v12")}))
	return out
}
