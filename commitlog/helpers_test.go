package commitlog_test

// Shared helpers of the commitlog tests (append, roll, read, truncate,
// retention, flush, epoch cache, checkpoints, partition metadata, dir
// names). The assertions read the files back with the small decoders below,
// which follow Kafka's byte layouts directly and do not use package segment,
// so a layout fault in the code under test cannot hide behind its own
// reader.

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// baseTime is the fake clock's starting point and the record timestamps'
// origin (2023-11-14T22:13:20Z).
const baseTime int64 = 1_700_000_000_000

// Kafka's preallocated index sizes for segment.index.bytes = 10 MiB.
const (
	defaultIndexFileSize     = 10485760 // 1,310,720 entries of 8 bytes
	defaultTimeIndexFileSize = 10485756 // 873,813 entries of 12 bytes
)

// fakeClock is a goroutine-safe millisecond clock moved by hand. The log's
// flusher goroutine reads it too, hence the atomic.
type fakeClock struct{ ms atomic.Int64 }

func newFakeClock(ms int64) *fakeClock {
	c := &fakeClock{}
	c.ms.Store(ms)
	return c
}

func (c *fakeClock) Now() int64       { return c.ms.Load() }
func (c *fakeClock) Set(ms int64)     { c.ms.Store(ms) }
func (c *fakeClock) Advance(ms int64) { c.ms.Add(ms) }

// testLog is an open partition log in a fresh <topic>-<partition> directory
// with a fake clock.
type testLog struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	cfg   commitlog.Config
	fs    segment.FS
	log   *commitlog.Log
}

// newTestLog opens an empty log foo-0 with cfg. It is closed at cleanup.
func newTestLog(t *testing.T, cfg commitlog.Config) *testLog {
	t.Helper()
	return newTestLogFS(t, cfg, nil)
}

// newTestLogFS is newTestLog on a chosen file system.
func newTestLogFS(t *testing.T, cfg commitlog.Config, fs segment.FS) *testLog {
	t.Helper()
	tl := &testLog{
		t:     t,
		dir:   filepath.Join(t.TempDir(), "foo-0"),
		clock: newFakeClock(baseTime),
		cfg:   cfg,
		fs:    fs,
	}
	tl.log = openLog(t, tl.dir, commitlog.Options{Config: cfg, FS: fs, Now: tl.clock.Now, HadCleanShutdown: true})
	return tl
}

// openLog opens a log and closes it at cleanup (Close is idempotent).
func openLog(t *testing.T, dir string, opts commitlog.Options) *commitlog.Log {
	t.Helper()
	l, err := commitlog.Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// path is the path of a segment file of this log.
func (tl *testLog) path(base int64, suffix string) string {
	return filepath.Join(tl.dir, segName(base, suffix))
}

// appendLeader appends one batch as leader from a client and fails the test
// on error.
func (tl *testLog) appendLeader(b []byte, epoch model.LeaderEpoch) commitlog.AppendInfo {
	tl.t.Helper()
	info, err := tl.log.AppendAsLeader(b, epoch, record.FromClient)
	if err != nil {
		tl.t.Fatalf("AppendAsLeader: %v", err)
	}
	return info
}

// appendFollower appends batches as a follower and fails the test on error.
func (tl *testLog) appendFollower(chunk []byte) commitlog.AppendInfo {
	tl.t.Helper()
	info, err := tl.log.AppendAsFollower(chunk)
	if err != nil {
		tl.t.Fatalf("AppendAsFollower: %v", err)
	}
	return info
}

// segName is Kafka's segment file name: the base offset as 20 zero-padded
// decimal digits, then the suffix (LogFileUtils.filenamePrefixFromOffset).
func segName(base int64, suffix string) string {
	s := fmt.Sprint(base)
	return strings.Repeat("0", 20-len(s)) + s + suffix
}

// ---- batches ----

// recs makes n records with timestamp ts, keys k000.., and 8-byte values.
func recs(n int, ts int64) []record.NewRecord {
	out := make([]record.NewRecord, n)
	for i := range out {
		out[i] = record.NewRecord{Timestamp: ts, Key: []byte(fmt.Sprintf("k%03d", i)), Value: []byte(fmt.Sprintf("value%03d", i))}
	}
	return out
}

// recsAt makes one record per timestamp.
func recsAt(ts ...int64) []record.NewRecord {
	out := make([]record.NewRecord, len(ts))
	for i, t := range ts {
		out[i] = record.NewRecord{Timestamp: t, Key: []byte(fmt.Sprintf("k%03d", i)), Value: []byte(fmt.Sprintf("value%03d", i))}
	}
	return out
}

// build encodes a batch and fails the test on error.
func build(t *testing.T, spec record.BatchSpec, rs []record.NewRecord) []byte {
	t.Helper()
	b, err := record.Build(spec, rs)
	if err != nil {
		t.Fatalf("record.Build: %v", err)
	}
	return []byte(b)
}

// clientBatch is a producer's batch: base offset 0, no epoch, CreateTime.
func clientBatch(t *testing.T, rs []record.NewRecord) []byte {
	t.Helper()
	return build(t, record.NewSpec(), rs)
}

// replicaBatch is a batch as a leader stored it: offsets from base, the
// leader epoch stamped.
func replicaBatch(t *testing.T, base int64, epoch int32, rs []record.NewRecord) []byte {
	t.Helper()
	spec := record.NewSpec()
	spec.BaseOffset = base
	spec.PartitionLeaderEpoch = epoch
	return build(t, spec, rs)
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

// ---- the byte layout of a v2 batch, read independently ----

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is what Kafka stores at byte 17: CRC-32C of bytes 21..end.
func crc32c(b []byte) uint32 { return crc32.Checksum(b[21:], castagnoli) }

// fileBatch is one batch found in a .log file.
type fileBatch struct {
	pos          int
	raw          []byte
	baseOffset   int64
	leaderEpoch  int32
	crc          uint32
	attributes   int16
	lastDelta    int32
	baseTS       int64
	maxTS        int64
	numRecords   int32
	lastOffset   int64
	storedLength int32
}

func decodeHeader(raw []byte, pos int) fileBatch {
	be := binary.BigEndian
	fb := fileBatch{
		pos:          pos,
		raw:          raw,
		baseOffset:   int64(be.Uint64(raw[0:])),
		storedLength: int32(be.Uint32(raw[8:])),
		leaderEpoch:  int32(be.Uint32(raw[12:])),
		crc:          be.Uint32(raw[17:]),
		attributes:   int16(be.Uint16(raw[21:])),
		lastDelta:    int32(be.Uint32(raw[23:])),
		baseTS:       int64(be.Uint64(raw[27:])),
		maxTS:        int64(be.Uint64(raw[35:])),
		numRecords:   int32(be.Uint32(raw[57:])),
	}
	fb.lastOffset = fb.baseOffset + int64(fb.lastDelta)
	return fb
}

// parseBatches splits .log bytes into batches; the data must hold whole v2
// batches only.
func parseBatches(t *testing.T, data []byte) []fileBatch {
	t.Helper()
	var out []fileBatch
	for pos := 0; pos < len(data); {
		if len(data)-pos < 61 {
			t.Fatalf("%d trailing bytes at position %d are not a whole batch header", len(data)-pos, pos)
		}
		size := int(binary.BigEndian.Uint32(data[pos+8:])) + 12
		if pos+size > len(data) {
			t.Fatalf("batch of %d bytes at position %d runs past the end (%d bytes)", size, pos, len(data))
		}
		if data[pos+16] != 2 {
			t.Fatalf("batch at position %d has magic %d", pos, data[pos+16])
		}
		out = append(out, decodeHeader(data[pos:pos+size], pos))
		pos += size
	}
	return out
}

// batchesOfFile reads and parses a .log file.
func batchesOfFile(t *testing.T, path string) []fileBatch {
	t.Helper()
	return parseBatches(t, readFile(t, path))
}

// sameExceptOffsetAndEpoch checks that a stored batch carries the producer's
// bytes everywhere but baseOffset (0..7) and partitionLeaderEpoch (12..15),
// the two fields outside the CRC a leader overwrites.
func sameExceptOffsetAndEpoch(t *testing.T, what string, produced, stored []byte) {
	t.Helper()
	if len(produced) != len(stored) {
		t.Fatalf("%s: stored batch is %d bytes, produced %d", what, len(stored), len(produced))
	}
	if !bytes.Equal(produced[8:12], stored[8:12]) || !bytes.Equal(produced[16:], stored[16:]) {
		t.Fatalf("%s: stored batch differs from the produced one outside baseOffset/partitionLeaderEpoch\nproduced % x\nstored   % x", what, produced, stored)
	}
}

// ---- index files ----

type offsetEntry struct {
	relOffset int32
	position  int32
}

type timeEntry struct {
	timestamp int64
	relOffset int32
}

func offsetIndexEntries(t *testing.T, path string) []offsetEntry {
	t.Helper()
	data := readFile(t, path)
	if len(data)%8 != 0 {
		t.Fatalf("%s: %d bytes is not a multiple of 8", path, len(data))
	}
	var out []offsetEntry
	for i := 0; i < len(data); i += 8 {
		out = append(out, offsetEntry{int32(binary.BigEndian.Uint32(data[i:])), int32(binary.BigEndian.Uint32(data[i+4:]))})
	}
	return out
}

func timeIndexEntries(t *testing.T, path string) []timeEntry {
	t.Helper()
	data := readFile(t, path)
	if len(data)%12 != 0 {
		t.Fatalf("%s: %d bytes is not a multiple of 12", path, len(data))
	}
	var out []timeEntry
	for i := 0; i < len(data); i += 12 {
		out = append(out, timeEntry{int64(binary.BigEndian.Uint64(data[i:])), int32(binary.BigEndian.Uint32(data[i+8:]))})
	}
	return out
}

// ---- files ----

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return data
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return st.Size()
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func mustExist(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if !exists(p) {
			t.Errorf("%s does not exist", filepath.Base(p))
		}
	}
}

func mustNotExist(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if exists(p) {
			t.Errorf("%s exists", filepath.Base(p))
		}
	}
}

// dirFiles lists the names in dir, sorted.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("reading %s: %v", dir, err)
	}
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

// filesWithSuffix lists the names in dir ending with suffix, sorted.
func filesWithSuffix(t *testing.T, dir, suffix string) []string {
	t.Helper()
	var out []string
	for _, n := range dirFiles(t, dir) {
		if strings.HasSuffix(n, suffix) {
			out = append(out, n)
		}
	}
	return out
}

// ---- assertions ----

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func checkBases(t *testing.T, l *commitlog.Log, want ...model.Offset) {
	t.Helper()
	got := l.SegmentBaseOffsets()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i] == want[i]
	}
	if !ok {
		t.Fatalf("segment base offsets = %v, want %v", got, want)
	}
}

func checkEpochs(t *testing.T, got []commitlog.EpochEntry, want ...commitlog.EpochEntry) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(got); i++ {
		ok = got[i] == want[i]
	}
	if !ok {
		t.Fatalf("epoch entries = %v, want %v", got, want)
	}
}

func ep(epoch int32, start int64) commitlog.EpochEntry {
	return commitlog.EpochEntry{Epoch: model.LeaderEpoch(epoch), StartOffset: model.Offset(start)}
}

// checkOffsets checks LEO, HW, log start and recovery point together.
func checkOffsets(t *testing.T, l *commitlog.Log, leo, hw, start, recovery int64) {
	t.Helper()
	got := [4]model.Offset{l.LogEndOffset(), l.HighWatermark(), l.LogStartOffset(), l.RecoveryPoint()}
	want := [4]model.Offset{model.Offset(leo), model.Offset(hw), model.Offset(start), model.Offset(recovery)}
	if got != want {
		t.Fatalf("(LEO, HW, log start, recovery point) = %v, want %v", got, want)
	}
}

// waitFor polls cond until it holds or the deadline passes (for the
// asynchronous flusher); it never sleeps as a substitute for a condition.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// ---- a file system that counts fsyncs ----

// syncCountFS is the real file system, counting Sync calls per file name.
type syncCountFS struct {
	mu    sync.Mutex
	syncs map[string]int
}

func newSyncCountFS() *syncCountFS { return &syncCountFS{syncs: map[string]int{}} }

func (f *syncCountFS) OpenFile(name string, flag int, perm os.FileMode) (segment.File, error) {
	file, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: file, fs: f}, nil
}

func (f *syncCountFS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
func (f *syncCountFS) Remove(name string) error             { return os.Remove(name) }

// Syncs is how many times the file with this base name was fsynced.
func (f *syncCountFS) Syncs(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.syncs[name]
}

type countingFile struct {
	*os.File
	fs *syncCountFS
}

func (c *countingFile) Sync() error {
	c.fs.mu.Lock()
	c.fs.syncs[filepath.Base(c.Name())]++
	c.fs.mu.Unlock()
	return c.File.Sync()
}
