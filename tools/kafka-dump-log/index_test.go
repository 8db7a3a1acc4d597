package main

import (
	"fmt"
	"testing"

	"github.com/kbroker/kbroker/segment"
)

// indexedSegment is the sample segment at base offset 100 (so that relative
// offsets differ from absolute ones) with a .index holding entries for the
// transactional batch (last offset 106) and the LogAppendTime batch (109),
// followed by preallocated zero entries, and a matching .timeindex.
func indexedSegment(t *testing.T) *testSegment {
	t.Helper()
	batches := sampleBatches(t)
	for _, b := range batches {
		b.SetBaseOffset(b.BaseOffset() + 100)
	}
	s := newSegment(t, 100, batches...)
	idx := offsetIndex([2]int32{6, int32(s.positions[2])}, [2]int32{9, int32(s.positions[4])})
	writeFile(t, s.path(segment.IndexSuffix), append(idx, make([]byte, 64)...))
	tidx := timeIndex(tsEntry{3001, 6}, tsEntry{5000, 9})
	writeFile(t, s.path(segment.TimeIndexSuffix), append(tidx, make([]byte, 36)...))
	return s
}

func TestDumpOffsetIndex(t *testing.T) {
	s := indexedSegment(t)
	p := s.path(segment.IndexSuffix)
	r := runTool(t, "--files", p)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping " + p,
		fmt.Sprintf("offset: 106 position: %d", s.positions[2]),
		fmt.Sprintf("offset: 109 position: %d", s.positions[4])})

	r = runTool(t, "--files", p, "--verify-index-only")
	assertLines(t, "verify-only", r.stdout, []string{"Dumping " + p})
	if r.stderr != "" {
		t.Errorf("verify-only: stderr %q", r.stderr)
	}

	r = runTool(t, "--files", p, "--index-sanity-check")
	assertLines(t, "sanity", r.stdout, []string{"Dumping " + p, p + " passed sanity check."})
}

func TestDumpOffsetIndexMismatches(t *testing.T) {
	s := indexedSegment(t)
	p := s.path(segment.IndexSuffix)
	// 105 is inside the batch 105..106; 108 inside 108..109; 107 is right.
	writeFile(t, p, offsetIndex([2]int32{5, int32(s.positions[2])}, [2]int32{7, int32(s.positions[3])},
		[2]int32{8, int32(s.positions[4])}))
	r := runTool(t, "--files", p)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping " + p,
		fmt.Sprintf("offset: 105 position: %d", s.positions[2]),
		fmt.Sprintf("offset: 107 position: %d", s.positions[3]),
		fmt.Sprintf("offset: 108 position: %d", s.positions[4])})
	assertLines(t, "stderr", r.stderr, []string{"Mismatches in :" + p,
		"  Index offset: 108, log offset: 109",
		"  Index offset: 105, log offset: 106"})
}

func TestDumpOffsetIndexEmptyAndCorrupt(t *testing.T) {
	s := indexedSegment(t)
	p := s.path(segment.IndexSuffix)

	writeFile(t, p, make([]byte, 7))
	r := runTool(t, "--files", p)
	assertLines(t, "empty", r.stdout, []string{"Dumping " + p, p + " is empty."})

	writeFile(t, p, append(offsetIndex([2]int32{6, int32(s.positions[2])}), 1, 2, 3))
	r = runTool(t, "--files", p, "--index-sanity-check")
	if r.code != 1 {
		t.Errorf("exit %d", r.code)
	}
	assertLines(t, "sanity stderr", r.stderr, []string{`Exception in thread "main" org.apache.kafka.storage.internals.log.CorruptIndexException: ` +
		"Index file " + p + " is corrupt, found 11 bytes which is neither positive nor a multiple of 8"})

	writeFile(t, p, offsetIndex([2]int32{6, int32(s.positions[2])}, [2]int32{-3, 0}))
	r = runTool(t, "--files", p, "--index-sanity-check")
	assertLines(t, "sanity stderr", r.stderr, []string{`Exception in thread "main" org.apache.kafka.storage.internals.log.CorruptIndexException: ` +
		"Corrupt index found, index file " + p + " has non-zero size but the last offset is 97 which is less than the base offset 100"})

	// An entry pointing past the end of the .log.
	writeFile(t, p, offsetIndex([2]int32{6, int32(len(s.log) + 1)}))
	r = runTool(t, "--files", p)
	if r.code != 1 {
		t.Errorf("exit %d", r.code)
	}
	assertLines(t, "past end", r.stderr, []string{fmt.Sprintf(`Exception in thread "main" java.lang.IllegalArgumentException: `+
		"Slice from position %d exceeds end position of FileRecords(size=%d, file=%s, start=0, end=2147483647)",
		len(s.log)+1, len(s.log), s.path(segment.LogSuffix))})
}

func TestDumpTimeIndex(t *testing.T) {
	s := indexedSegment(t)
	p := s.path(segment.TimeIndexSuffix)
	r := runTool(t, "--files", p)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping " + p,
		"timestamp: 3001 offset: 106",
		"timestamp: 5000 offset: 109"})

	// Untrimmed, the zero entries at the end fail the check, as in Kafka.
	r = runTool(t, "--files", p, "--index-sanity-check")
	assertLines(t, "untrimmed sanity", r.stderr, []string{`Exception in thread "main" org.apache.kafka.storage.internals.log.CorruptIndexException: ` +
		"Corrupt time index found, time index file (" + p + ") has non-zero size but the last timestamp is 0 which is less than the first timestamp 3001"})

	writeFile(t, p, timeIndex(tsEntry{3001, 6}, tsEntry{5000, 9}))
	r = runTool(t, "--files", p, "--index-sanity-check")
	assertLines(t, "sanity", r.stdout, []string{"Dumping " + p, p + " passed sanity check."})

	writeFile(t, p, timeIndex(tsEntry{3001, 6}, tsEntry{3000, 9}))
	r = runTool(t, "--files", p, "--index-sanity-check")
	assertLines(t, "sanity stderr", r.stderr, []string{`Exception in thread "main" org.apache.kafka.storage.internals.log.CorruptIndexException: ` +
		"Corrupt time index found, time index file (" + p + ") has non-zero size but the last timestamp is 3000 which is less than the first timestamp 3001"})
}

func TestDumpTimeIndexErrors(t *testing.T) {
	s := indexedSegment(t)
	p := s.path(segment.TimeIndexSuffix)
	writeFile(t, p, timeIndex(
		tsEntry{1005, 1},   // right: batch 100..101, max timestamp 1005
		tsEntry{2999, 6},   // batch 105..106 has max timestamp 3001
		tsEntry{5000, 9},   // right
		tsEntry{4000, 7},   // right timestamp for 107? no: 3500; and out of order
		tsEntry{6000, 3},   // 103 is inside the batch 102..104
		tsEntry{9000, 50})) // no batch reaches 150
	r := runTool(t, "--files", p, "--verify-index-only")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping " + p})
	assertLines(t, "stderr", r.stderr, []string{
		"Found timestamp mismatch in :" + p,
		"  Index timestamp: 2999, log timestamp: 3001",
		"  Index timestamp: 4000, log timestamp: 3500",
		"Found out of order timestamp in :" + p,
		"  Index timestamp: 4000, Previously indexed timestamp: 5000",
		"The following indexed offsets are not found in the log.",
		"Indexed offset: 103, found log offset: 104",
		"Indexed offset: 150, found log offset: -1",
	})
}
