package main

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// expectedBatchLines are Kafka 3.9's batch lines for sampleBatches; only
// position, size and crc are filled in from the bytes (crc computed here,
// independently of package record).
func expectedBatchLines(s *testSegment) []string {
	tmpl := []string{
		"baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: %d CreateTime: 1005 size: %d magic: 2 compresscodec: none crc: %d isvalid: true",
		"baseOffset: 2 lastOffset: 4 count: 3 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 1 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: %d CreateTime: 2002 size: %d magic: 2 compresscodec: gzip crc: %d isvalid: true",
		"baseOffset: 5 lastOffset: 6 count: 2 baseSequence: 0 lastSequence: 1 producerId: 7 producerEpoch: 1 partitionLeaderEpoch: 1 isTransactional: true isControl: false deleteHorizonMs: OptionalLong.empty position: %d CreateTime: 3001 size: %d magic: 2 compresscodec: none crc: %d isvalid: true",
		"baseOffset: 7 lastOffset: 7 count: 1 baseSequence: -1 lastSequence: -1 producerId: 7 producerEpoch: 1 partitionLeaderEpoch: 2 isTransactional: true isControl: true deleteHorizonMs: OptionalLong.empty position: %d CreateTime: 3500 size: %d magic: 2 compresscodec: none crc: %d isvalid: true",
		"baseOffset: 8 lastOffset: 9 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 2 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: %d LogAppendTime: 5000 size: %d magic: 2 compresscodec: zstd crc: %d isvalid: true",
		"baseOffset: 10 lastOffset: 11 count: 2 baseSequence: 2147483647 lastSequence: 0 producerId: 9 producerEpoch: 0 partitionLeaderEpoch: 2 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: %d CreateTime: 6001 size: %d magic: 2 compresscodec: snappy crc: %d isvalid: true",
		"baseOffset: 12 lastOffset: 12 count: 1 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 2 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: %d CreateTime: 7000 size: %d magic: 2 compresscodec: lz4 crc: %d isvalid: true",
	}
	out := make([]string, len(s.batches))
	for i, b := range s.batches {
		out[i] = fmt.Sprintf(tmpl[i], s.positions[i], len(b), crc32c(b))
	}
	return out
}

// recordLines are the deep-iteration lines per batch, without the key and
// payload part (added with --print-data-log).
var recordLines = [][]string{
	{"| offset: 0 CreateTime: 1000 keySize: 2 valueSize: 2 sequence: -1 headerKeys: [h1,h2]",
		"| offset: 1 CreateTime: 1005 keySize: -1 valueSize: 2 sequence: -1 headerKeys: []"},
	{"| offset: 2 CreateTime: 2000 keySize: 2 valueSize: -1 sequence: -1 headerKeys: []",
		"| offset: 3 CreateTime: 2001 keySize: 2 valueSize: 2 sequence: -1 headerKeys: []",
		"| offset: 4 CreateTime: 2002 keySize: 2 valueSize: 2 sequence: -1 headerKeys: []"},
	{"| offset: 5 CreateTime: 3000 keySize: 2 valueSize: 3 sequence: 0 headerKeys: []",
		"| offset: 6 CreateTime: 3001 keySize: 2 valueSize: 3 sequence: 1 headerKeys: []"},
	{"| offset: 7 CreateTime: 3500 keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: COMMIT coordinatorEpoch: 3"},
	{"| offset: 8 LogAppendTime: 5000 keySize: 2 valueSize: 3 sequence: -1 headerKeys: []",
		"| offset: 9 LogAppendTime: 5000 keySize: 2 valueSize: 3 sequence: -1 headerKeys: []"},
	{"| offset: 10 CreateTime: 6000 keySize: 3 valueSize: 3 sequence: 2147483647 headerKeys: []",
		"| offset: 11 CreateTime: 6001 keySize: 3 valueSize: 3 sequence: 0 headerKeys: []"},
	{"| offset: 12 CreateTime: 7000 keySize: 3 valueSize: 3 sequence: -1 headerKeys: []"},
}

// dataParts are what --print-data-log appends to each record line.
var dataParts = [][]string{
	{" key: k0 payload: v0", " payload: v1"},
	{" key: k2", " key: k3 payload: v3", " key: k4 payload: v4"},
	{" key: t5 payload: tx5", " key: t6 payload: tx6"},
	{""}, // control records never print key or payload
	{" key: a8 payload: la8", " key: a9 payload: la9"},
	{" key: s10 payload: v10", " key: s11 payload: v11"},
	{" key: z12 payload: v12"},
}

func TestDumpLogShallow(t *testing.T) {
	s := newSegment(t, 0, sampleBatches(t)...)
	if len(s.batches[0]) != 90 {
		t.Fatalf("the uncompressed sample batch is %d bytes, want 90 (61 header + 20 + 9)", len(s.batches[0]))
	}
	logPath := s.path(segment.LogSuffix)
	r := runTool(t, "--files", logPath)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	want := append([]string{"Dumping " + logPath, "Log starting offset: 0"}, expectedBatchLines(s)...)
	assertLines(t, "stdout", r.stdout, want)
}

func TestDumpLogDeepIteration(t *testing.T) {
	s := newSegment(t, 0, sampleBatches(t)...)
	logPath := s.path(segment.LogSuffix)
	batchLines := expectedBatchLines(s)
	for _, printData := range []bool{false, true} {
		args := []string{"--deep-iteration", "--files", logPath}
		if printData {
			args = []string{"--files", logPath, "--print-data-log"}
		}
		want := []string{"Dumping " + logPath, "Log starting offset: 0"}
		for i, bl := range batchLines {
			want = append(want, bl)
			for j, rl := range recordLines[i] {
				if printData {
					rl += dataParts[i][j]
				}
				want = append(want, rl)
			}
		}
		r := runTool(t, args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		assertLines(t, fmt.Sprint(args), r.stdout, want)
	}
}

func TestDumpLogSkipRecordMetadata(t *testing.T) {
	s := newSegment(t, 0, sampleBatches(t)[:4]...)
	logPath := s.path(segment.LogSuffix)
	r := runTool(t, "--files", logPath, "--print-data-log", "--skip-record-metadata")
	batchLines := expectedBatchLines(s)
	want := []string{"Dumping " + logPath, "Log starting offset: 0",
		batchLines[0], "| key: k0 payload: v0", " payload: v1",
		batchLines[1], "| key: k2", "| key: k3 payload: v3", "| key: k4 payload: v4",
		batchLines[2], "| key: t5 payload: tx5", "| key: t6 payload: tx6",
		batchLines[3], ""}
	assertLines(t, "stdout", r.stdout, want)
}

func TestDumpLogAbortMarkerAndDecoders(t *testing.T) {
	spec := record.NewSpec()
	spec.BaseOffset = 100
	data := mustBuild(t, spec,
		record.NewRecord{Timestamp: 1, Key: []byte{0, 0, 0, 42}, Value: []byte{0, 0, 0, 0, 0, 0, 1, 0}},
		record.NewRecord{Timestamp: 2, Key: []byte{0xff, 0xff, 0xff, 0xfe}, Value: []byte{0xe2, 0x82, 'A', 0xc3}})
	abort, err := record.BuildEndTxnMarker(3, 0, record.ControlAbort, 17, 9)
	if err != nil {
		t.Fatal(err)
	}
	abort.SetBaseOffset(102)
	s := newSegment(t, 100, data, abort)
	logPath := s.path(segment.LogSuffix)

	r := runTool(t, "--files", logPath, "--key-decoder-class", "kafka.serializer.IntegerDecoder",
		"--value-decoder-class", "org.apache.kafka.tools.api.StringDecoder")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	got := lines(r.stdout)
	if len(got) != 8 {
		t.Fatalf("got %d lines:\n%s", len(got), r.stdout)
	}
	want := map[int]string{
		1: "kafka.serializer.IntegerDecoder is deprecated. Please use org.apache.kafka.tools.api.IntegerDecoder instead",
		2: "Log starting offset: 100",
		4: "| offset: 100 CreateTime: 1 keySize: 4 valueSize: 8 sequence: -1 headerKeys: [] key: 42 payload: \x00\x00\x00\x00\x00\x00\x01\x00",
		// Java's decoder: one U+FFFD for the truncated E2 82, one for the lone C3.
		5: "| offset: 101 CreateTime: 2 keySize: 4 valueSize: 4 sequence: -1 headerKeys: [] key: -2 payload: \uFFFDA\uFFFD",
		7: "| offset: 102 CreateTime: 9 keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: ABORT coordinatorEpoch: 17",
	}
	for i, w := range want {
		if got[i] != w {
			t.Errorf("line %d:\n got: %q\nwant: %q", i, got[i], w)
		}
	}

	r = runTool(t, "--files", logPath, "--value-decoder-class", "com.example.MyDecoder")
	if r.code != 0 || !strings.Contains(r.stderr, "--value-decoder-class com.example.MyDecoder is not supported") {
		t.Errorf("unsupported decoder: exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "key: \uFFFD\uFFFD\uFFFD\uFFFD payload: \uFFFDA\uFFFD\n") {
		t.Errorf("unsupported decoder should fall back to strings:\n%s", r.stdout)
	}
}

func TestDumpLogTrailingGarbage(t *testing.T) {
	batches := sampleBatches(t)[:2]
	s := newSegment(t, 0, batches...)
	logPath := s.path(segment.LogSuffix)
	batchLines := expectedBatchLines(s)
	for _, tc := range []struct {
		name string
		tail []byte
	}{
		{"shorter than a batch prefix", []byte("0123456789")},
		// A torn write: the first 40 bytes of a batch whose size says 78 more.
		{"truncated batch", batches[0][:40]},
	} {
		writeFile(t, logPath, append(append([]byte{}, s.log...), tc.tail...))
		r := runTool(t, "--files", logPath, "--deep-iteration")
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", tc.name, r.code, r.stderr)
		}
		want := []string{"Dumping " + logPath, "Log starting offset: 0",
			batchLines[0], recordLines[0][0], recordLines[0][1],
			batchLines[1], recordLines[1][0], recordLines[1][1], recordLines[1][2],
			fmt.Sprintf("Found %d invalid bytes at the end of 00000000000000000000.log", len(tc.tail))}
		assertLines(t, tc.name, r.stdout, want)
	}

	// --max-bytes cuts the file short: no report of the bytes not read.
	r := runTool(t, "--files", logPath, "--max-bytes", fmt.Sprint(len(batches[0])+10))
	assertLines(t, "max-bytes", r.stdout, []string{"Dumping " + logPath, "Log starting offset: 0", batchLines[0]})
}

func TestDumpLogZeroTailIsCorrupt(t *testing.T) {
	s := newSegment(t, 0, sampleBatches(t)[0])
	logPath := s.path(segment.LogSuffix)
	writeFile(t, logPath, append(append([]byte{}, s.log...), make([]byte, 32)...))
	r := runTool(t, "--files", logPath)
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping " + logPath, "Log starting offset: 0", expectedBatchLines(s)[0]})
	assertLines(t, "stderr", r.stderr, []string{
		`Exception in thread "main" org.apache.kafka.common.errors.CorruptRecordException: Found record size 0 smaller than minimum record overhead (14) in file ` + logPath + "."})
}

func TestDumpLogCorruptCRC(t *testing.T) {
	b := sampleBatches(t)[0]
	stored := binary.BigEndian.Uint32(b[17:])
	// "v0" -> "w0": the CRC no longer matches, the records still parse.
	i := strings.Index(string(b), "v0")
	b[i] = 'w'
	s := newSegment(t, 0, b)
	logPath := s.path(segment.LogSuffix)
	r := runTool(t, "--files", logPath, "--print-data-log")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping " + logPath, "Log starting offset: 0",
		fmt.Sprintf("baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 0 isTransactional: false isControl: false deleteHorizonMs: OptionalLong.empty position: 0 CreateTime: 1005 size: 90 magic: 2 compresscodec: none crc: %d isvalid: false", stored),
		"| offset: 0 CreateTime: 1000 keySize: 2 valueSize: 2 sequence: -1 headerKeys: [h1,h2] key: k0 payload: w0",
		"| offset: 1 CreateTime: 1005 keySize: -1 valueSize: 2 sequence: -1 headerKeys: [] payload: v1"})
}

func TestDumpLogUnknownCodecAndBadRecords(t *testing.T) {
	b := sampleBatches(t)[0]
	s := newSegment(t, 0, b)
	logPath := s.path(segment.LogSuffix)

	// Codec id 5: Kafka prints the first half of the batch line, then dies.
	bad := append(record.Batch{}, b...)
	binary.BigEndian.PutUint16(bad[21:], 5)
	writeFile(t, logPath, bad)
	r := runTool(t, "--files", logPath)
	if r.code != 1 || !strings.HasSuffix(r.stdout, "deleteHorizonMs: OptionalLong.empty") {
		t.Errorf("exit %d, stdout %q", r.code, r.stdout)
	}
	assertLines(t, "stderr", r.stderr, []string{`Exception in thread "main" java.lang.IllegalArgumentException: Unknown compression type id: 5`})

	// A declared record count one too high: the records parse, then the
	// payload runs out; Kafka has printed the records before the fault.
	bad = append(record.Batch{}, b...)
	binary.BigEndian.PutUint32(bad[57:], 3)
	writeFile(t, logPath, bad)
	r = runTool(t, "--files", logPath, "--deep-iteration")
	if r.code != 1 || len(lines(r.stdout)) != 5 {
		t.Errorf("exit %d, stdout:\n%s", r.code, r.stdout)
	}
	if !strings.HasPrefix(r.stderr, `Exception in thread "main" org.apache.kafka.common.InvalidRecordException: `) {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestDumpLogNonConsecutiveOffsets(t *testing.T) {
	spec := record.NewSpec()
	a := mustBuild(t, spec, record.NewRecord{Timestamp: 1, Value: []byte("a")})
	spec.BaseOffset = 5 // offsets 1..4 were compacted away
	b := mustBuild(t, spec, record.NewRecord{Timestamp: 2, Value: []byte("b")})
	spec.BaseOffset = 9
	c := mustBuild(t, spec, record.NewRecord{Timestamp: 3, Value: []byte("c")})
	s := newSegment(t, 0, a, b, c)
	logPath := s.path(segment.LogSuffix)
	r := runTool(t, "--deep-iteration", "--files", logPath)
	if r.code != 0 {
		t.Fatalf("exit %d", r.code)
	}
	// Kafka prepends each pair to a list: the last one found comes first.
	assertLines(t, "stderr", r.stderr, []string{"Non-consecutive offsets in " + logPath,
		"  5 is followed by 9", "  0 is followed by 5"})
	// Shallow iteration looks at no record.
	if r := runTool(t, "--files", logPath); r.stderr != "" {
		t.Errorf("shallow: stderr %q", r.stderr)
	}
}

func TestDumpLogRelativePathAndDeleteHorizon(t *testing.T) {
	spec := record.NewSpec()
	spec.BaseOffset = 42
	b := mustBuild(t, spec, record.NewRecord{Timestamp: 1700, Key: []byte("k")})
	// The cleaner sets bit 6 and keeps the delete horizon in baseTimestamp.
	binary.BigEndian.PutUint16(b[21:], binary.BigEndian.Uint16(b[21:])|0x40)
	binary.BigEndian.PutUint32(b[17:], crc32c(b))
	s := newSegment(t, 42, b)
	t.Chdir(s.dir)
	r := runTool(t, "--files", ".//"+segment.FileName(42, ".log")+",nothing-here.swap", "--deep-iteration")
	if r.code != 0 {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{
		"Dumping ./00000000000000000042.log",
		"Log starting offset: 42",
		fmt.Sprintf("baseOffset: 42 lastOffset: 42 count: 1 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: -1 isTransactional: false isControl: false deleteHorizonMs: OptionalLong[1700] position: 0 CreateTime: 1700 size: %d magic: 2 compresscodec: none crc: %d isvalid: true", len(b), crc32c(b)),
		"| offset: 42 CreateTime: 1700 keySize: 1 valueSize: -1 sequence: -1 headerKeys: []",
		"Dumping nothing-here.swap",
	})
	assertLines(t, "stderr", r.stderr, []string{"Ignoring unknown file nothing-here.swap"})
}

func TestDumpLogMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "00000000000000000000.log")
	r := runTool(t, "--files", missing)
	if r.code != 1 {
		t.Errorf("exit %d", r.code)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping " + missing, "Log starting offset: 0"})
	assertLines(t, "stderr", r.stderr, []string{`Exception in thread "main" java.nio.file.NoSuchFileException: ` + missing})
}
