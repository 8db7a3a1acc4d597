package commitlog_test

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// rtConfig makes small segments with frequent index entries so that a few
// kilobytes exercise every rule.
func rtConfig() commitlog.Config {
	cfg := commitlog.DefaultConfig()
	cfg.IndexIntervalBytes = 300
	cfg.SegmentBytes = 4000
	return cfg
}

// rtBatch builds a client batch whose value is size bytes long.
func rtBatch(t testing.TB, i, size int) []byte {
	t.Helper()
	val := bytes.Repeat([]byte{byte('a' + i%26)}, size)
	b, err := record.Build(record.NewSpec(), []record.NewRecord{
		{Timestamp: 1_000_000 + int64(i)*10, Key: []byte{byte(i)}, Value: val},
		{Timestamp: 1_000_000 + int64(i)*10 + 3, Value: []byte("tail")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// rtWriteLog writes batches of the given value sizes into dir, one append
// each, with the leader epoch growing every three batches, and closes it.
func rtWriteLog(t testing.TB, dir string, cfg commitlog.Config, sizes []int) {
	t.Helper()
	l := rtOpen(t, dir, cfg, true, 0)
	for i, n := range sizes {
		if _, err := l.AppendAsLeader(rtBatch(t, i, n), model.LeaderEpoch(i/3), record.FromClient); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func rtOpen(t testing.TB, dir string, cfg commitlog.Config, clean bool, recoveryPoint int64) *commitlog.Log {
	t.Helper()
	l, err := commitlog.Open(dir, commitlog.Options{
		Config: cfg, Logger: zerolog.Nop(), HadCleanShutdown: clean, RecoveryPoint: recoveryPoint,
		Now: func() int64 { return 2_000_000 },
	})
	if err != nil {
		t.Fatalf("open %s: %v", dir, err)
	}
	return l
}

type rtBatchInfo struct {
	pos, size   int64
	base, last  int64
	maxTS       int64
	leaderEpoch int32
}

// rtScanFile walks a .log independently of the code under test: whole
// batches with valid CRCs and increasing offsets, stopping at the first
// that is not.
func rtScanFile(t testing.TB, path string) []rtBatchInfo {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []rtBatchInfo
	next := int64(-1)
	for pos := 0; pos+record.HeaderSize <= len(data); {
		size := int(int32(binary.BigEndian.Uint32(data[pos+8:]))) + 12
		if size < record.HeaderSize || pos+size > len(data) || data[pos+16] != 2 {
			break
		}
		b := record.Batch(data[pos : pos+size])
		if !b.CRCValid() || b.BaseOffset() < next {
			break
		}
		out = append(out, rtBatchInfo{int64(pos), int64(size), b.BaseOffset(), b.LastOffset(), b.MaxTimestamp(), b.PartitionLeaderEpoch()})
		next = b.NextOffset()
		pos += size
	}
	return out
}

// rtExpectedIndexes applies Kafka's sparse rule batch by batch (entry when
// the bytes since the last entry exceed the interval; time entry when the max
// timestamp so far grew) plus the final time entry a closed segment gets.
func rtExpectedIndexes(batches []rtBatchInfo, base int64, interval int64) (idx, tidx []byte) {
	var lastEntry int64
	maxTS, maxOff := int64(-1), int64(-1)
	lastTS := int64(-1)
	for _, b := range batches {
		if b.maxTS > maxTS {
			maxTS, maxOff = b.maxTS, b.last
		}
		if b.pos-lastEntry > interval {
			idx = binary.BigEndian.AppendUint32(idx, uint32(b.last-base))
			idx = binary.BigEndian.AppendUint32(idx, uint32(b.pos))
			if maxTS > lastTS {
				tidx = binary.BigEndian.AppendUint64(tidx, uint64(maxTS))
				tidx = binary.BigEndian.AppendUint32(tidx, uint32(maxOff-base))
				lastTS = maxTS
			}
			lastEntry = b.pos
		}
	}
	if maxTS > lastTS {
		tidx = binary.BigEndian.AppendUint64(tidx, uint64(maxTS))
		tidx = binary.BigEndian.AppendUint32(tidx, uint32(maxOff-base))
	}
	return idx, tidx
}

// rtSegmentBases lists the base offsets of the .log files in dir.
func rtSegmentBases(t testing.TB, dir string) []int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []int64
	for _, e := range entries {
		if base, suffix, ok := segment.ParseFileName(e.Name()); ok && suffix == segment.LogSuffix {
			out = append(out, base)
		}
	}
	return out
}

// rtCheckDir asserts that every segment in a closed log directory holds
// only valid batches and that its index files are exactly what a full scan
// gives. It returns the log end offset the files imply.
func rtCheckDir(t testing.TB, dir string, interval int64) int64 {
	t.Helper()
	next := int64(0)
	for _, base := range rtSegmentBases(t, dir) {
		logPath := filepath.Join(dir, segment.FileName(base, segment.LogSuffix))
		batches := rtScanFile(t, logPath)
		st, err := os.Stat(logPath)
		if err != nil {
			t.Fatal(err)
		}
		var valid int64
		if n := len(batches); n > 0 {
			valid = batches[n-1].pos + batches[n-1].size
			next = batches[n-1].last + 1
		}
		if st.Size() != valid {
			t.Fatalf("%s: %d bytes on disk but only %d are valid batches", logPath, st.Size(), valid)
		}
		wantIdx, wantTidx := rtExpectedIndexes(batches, base, interval)
		gotIdx, _ := os.ReadFile(filepath.Join(dir, segment.FileName(base, segment.IndexSuffix)))
		gotTidx, _ := os.ReadFile(filepath.Join(dir, segment.FileName(base, segment.TimeIndexSuffix)))
		if !bytes.Equal(gotIdx, wantIdx) {
			t.Fatalf("%s: offset index %x, a full scan gives %x", logPath, gotIdx, wantIdx)
		}
		if !bytes.Equal(gotTidx, wantTidx) {
			t.Fatalf("%s: time index %x, a full scan gives %x", logPath, gotTidx, wantTidx)
		}
	}
	return next
}

// rtReadAll reads every offset through the log and checks it lands on the
// batch a full scan says holds it.
func rtReadAll(t testing.TB, l *commitlog.Log, want []rtBatchInfo) {
	t.Helper()
	for _, b := range want {
		for off := b.base; off <= b.last; off++ {
			r, err := l.Read(model.Offset(off), 1, l.LogEndOffset(), true)
			if err != nil {
				t.Fatalf("read %d: %v", off, err)
			}
			if int64(r.FirstOffset) != b.base || r.Range.Size != b.size {
				t.Fatalf("read %d: got batch at %d (%d bytes), want %d (%d bytes)", off, r.FirstOffset, r.Range.Size, b.base, b.size)
			}
		}
	}
}

func rtCopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(src)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func rtSizes(n int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]int, n)
	for i := range out {
		out[i] = 20 + r.IntN(400)
	}
	return out
}

// A torn last batch, cut at every byte: reopening without a clean shutdown
// keeps exactly the batches before it, and the rebuilt indexes equal a full
// scan of what is left.
func TestRecoverTornTailAtEveryByte(t *testing.T) {
	cfg := rtConfig()
	cfg.SegmentBytes = 1 << 20 // one segment
	orig := filepath.Join(t.TempDir(), "torn-0")
	rtWriteLog(t, orig, cfg, rtSizes(12, 1))
	logPath := filepath.Join(orig, segment.FileName(0, segment.LogSuffix))
	batches := rtScanFile(t, logPath)
	if len(batches) != 12 {
		t.Fatalf("setup: %d batches", len(batches))
	}
	last := batches[len(batches)-1]
	for cut := last.pos; cut < last.pos+last.size; cut++ {
		dir := rtCopyDir(t, orig)
		if err := os.Truncate(filepath.Join(dir, segment.FileName(0, segment.LogSuffix)), cut); err != nil {
			t.Fatal(err)
		}
		l := rtOpen(t, dir, cfg, false, 0)
		if got := l.LogEndOffset(); int64(got) != last.base {
			t.Fatalf("cut at %d: log end offset %d, want %d", cut, got, last.base)
		}
		rtReadAll(t, l, batches[:len(batches)-1])
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if next := rtCheckDir(t, dir, int64(cfg.IndexIntervalBytes)); next != last.base {
			t.Fatalf("cut at %d: files end at offset %d, want %d", cut, next, last.base)
		}
	}
}

// Cuts at random places anywhere in a multi-segment log, and garbage
// appended after a cut, keep the valid prefix of the segment that was cut.
func TestRecoverRandomCuts(t *testing.T) {
	cfg := rtConfig()
	orig := filepath.Join(t.TempDir(), "cuts-0")
	rtWriteLog(t, orig, cfg, rtSizes(40, 2))
	bases := rtSegmentBases(t, orig)
	if len(bases) < 3 {
		t.Fatalf("setup: want several segments, have %v", bases)
	}
	r := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 40; trial++ {
		dir := rtCopyDir(t, orig)
		segBase := bases[r.IntN(len(bases))]
		logPath := filepath.Join(dir, segment.FileName(segBase, segment.LogSuffix))
		st, _ := os.Stat(logPath)
		cut := r.Int64N(st.Size() + 1)
		if err := os.Truncate(logPath, cut); err != nil {
			t.Fatal(err)
		}
		if trial%2 == 1 {
			f, _ := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
			garbage := make([]byte, r.IntN(200))
			for i := range garbage {
				garbage[i] = byte(r.Uint32())
			}
			f.Write(garbage)
			f.Close()
		}
		kept := rtScanFile(t, logPath)
		want := segBase
		if len(kept) > 0 {
			want = kept[len(kept)-1].last + 1
		}
		l := rtOpen(t, dir, cfg, false, 0)
		if got := l.LogEndOffset(); int64(got) != want {
			t.Fatalf("trial %d: cut segment %d at %d: log end offset %d, want %d", trial, segBase, cut, got, want)
		}
		rtReadAll(t, l, kept)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		for _, b := range rtSegmentBases(t, dir) {
			if b > segBase {
				t.Fatalf("trial %d: segment %d survived after truncated segment %d", trial, b, segBase)
			}
		}
		if next := rtCheckDir(t, dir, int64(cfg.IndexIntervalBytes)); next != want {
			t.Fatalf("trial %d: files end at %d, want %d", trial, next, want)
		}
	}
}

// A corrupt CRC in the middle of a segment truncates that segment at the bad
// batch and deletes every later segment; segments before the recovery
// point's segment are not scanned (Kafka's rule).
func TestRecoverCorruptCRC(t *testing.T) {
	cfg := rtConfig()
	orig := filepath.Join(t.TempDir(), "crc-0")
	rtWriteLog(t, orig, cfg, rtSizes(40, 3))
	bases := rtSegmentBases(t, orig)
	mid := bases[len(bases)/2]
	logPath := func(dir string, base int64) string {
		return filepath.Join(dir, segment.FileName(base, segment.LogSuffix))
	}
	batches := rtScanFile(t, logPath(orig, mid))
	bad := batches[len(batches)/2]

	dir := rtCopyDir(t, orig)
	data, _ := os.ReadFile(logPath(dir, mid))
	data[bad.pos+record.HeaderSize+2] ^= 0xff // a payload byte: CRC no longer matches
	os.WriteFile(logPath(dir, mid), data, 0o644)
	l := rtOpen(t, dir, cfg, false, 0)
	if got := l.LogEndOffset(); int64(got) != bad.base {
		t.Fatalf("log end offset %d, want %d (the corrupt batch's base)", got, bad.base)
	}
	l.Close()
	got := rtSegmentBases(t, dir)
	if got[len(got)-1] != mid {
		t.Fatalf("segments after the corrupt one survived: %v", got)
	}
	if st, _ := os.Stat(logPath(dir, mid)); st.Size() != bad.pos {
		t.Fatalf("corrupt segment is %d bytes, want %d", st.Size(), bad.pos)
	}
	rtCheckDir(t, dir, int64(cfg.IndexIntervalBytes))

	// The same corruption below the recovery point's segment is not looked at.
	dir = rtCopyDir(t, orig)
	first := bases[0]
	data, _ = os.ReadFile(logPath(dir, first))
	data[len(data)-1] ^= 0xff
	os.WriteFile(logPath(dir, first), data, 0o644)
	l = rtOpen(t, dir, cfg, false, bases[2])
	defer l.Close()
	if got := rtSegmentBases(t, dir); len(got) != len(bases) {
		t.Fatalf("recovery from point %d touched earlier segments: %v", bases[2], got)
	}
	if st, _ := os.Stat(logPath(dir, first)); st.Size() != int64(len(data)) {
		t.Fatal("a segment below the recovery point was truncated")
	}
}

// Missing, garbled or truncated index files are rebuilt, after a clean
// shutdown as well as after a crash; reads agree with a full scan and the
// files end up as a full scan builds them.
func TestRecoverBadIndexes(t *testing.T) {
	cfg := rtConfig()
	orig := filepath.Join(t.TempDir(), "idx-0")
	rtWriteLog(t, orig, cfg, rtSizes(40, 4))
	bases := rtSegmentBases(t, orig)
	var all []rtBatchInfo
	for _, b := range bases {
		all = append(all, rtScanFile(t, filepath.Join(orig, segment.FileName(b, segment.LogSuffix)))...)
	}
	r := rand.New(rand.NewPCG(9, 9))
	damages := map[string]func(path string){
		"deleted": func(p string) { os.Remove(p) },
		"garbled": func(p string) {
			data, _ := os.ReadFile(p)
			for i := 0; i < 4 && len(data) > 0; i++ {
				data[r.IntN(len(data))] ^= byte(1 + r.IntN(255))
			}
			os.WriteFile(p, data, 0o644)
		},
		"zeroed": func(p string) {
			data, _ := os.ReadFile(p)
			os.WriteFile(p, make([]byte, len(data)+64), 0o644)
		},
		"odd size": func(p string) {
			data, _ := os.ReadFile(p)
			os.WriteFile(p, append(data, 1, 2, 3), 0o644)
		},
	}
	for name, damage := range damages {
		for _, suffix := range []string{segment.IndexSuffix, segment.TimeIndexSuffix} {
			for _, clean := range []bool{true, false} {
				dir := rtCopyDir(t, orig)
				for _, b := range bases {
					damage(filepath.Join(dir, segment.FileName(b, suffix)))
				}
				l := rtOpen(t, dir, cfg, clean, int64(bases[len(bases)-1]))
				rtReadAll(t, l, all)
				for _, b := range all {
					off, ts, found, err := l.FindOffsetByTimestamp(b.maxTS)
					if err != nil || !found || ts < b.maxTS || int64(off) > b.last {
						t.Fatalf("%s %s clean=%v: timestamp %d -> offset %d ts %d found %v err %v, want an offset <= %d", name, suffix, clean, b.maxTS, off, ts, found, err, b.last)
					}
				}
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				if next := rtCheckDir(t, dir, int64(cfg.IndexIntervalBytes)); next != all[len(all)-1].last+1 {
					t.Fatalf("%s %s: files end at %d", name, suffix, next)
				}
			}
		}
	}
}

// A clean shutdown marker skips recovery: nothing is rescanned and the log
// end offset comes from the last segment.
func TestCleanOpenKeepsEverything(t *testing.T) {
	cfg := rtConfig()
	dir := filepath.Join(t.TempDir(), "clean-0")
	sizes := rtSizes(30, 5)
	rtWriteLog(t, dir, cfg, sizes)
	before := rtCheckDir(t, dir, int64(cfg.IndexIntervalBytes))
	l := rtOpen(t, dir, cfg, true, 0)
	if got := l.LogEndOffset(); int64(got) != before || int64(got) != int64(2*len(sizes)) {
		t.Fatalf("log end offset %d, want %d", got, before)
	}
	if got := l.RecoveryPoint(); got != l.LogEndOffset() {
		t.Fatalf("recovery point %d after a clean open, want the log end %d", got, l.LogEndOffset())
	}
	if len(l.EpochEntries()) == 0 {
		t.Fatal("leader epoch cache lost")
	}
	l.Close()
}

// A log whose end is below the checkpointed log start offset (segments
// deleted behind the broker's back) restarts empty at the log start.
func TestRecoverLogEndBelowLogStart(t *testing.T) {
	cfg := rtConfig()
	dir := filepath.Join(t.TempDir(), "gone-0")
	rtWriteLog(t, dir, cfg, rtSizes(5, 6))
	l, err := commitlog.Open(dir, commitlog.Options{Config: cfg, Logger: zerolog.Nop(), HadCleanShutdown: true, LogStartOffset: 500})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.LogEndOffset() != 500 || l.LogStartOffset() != 500 {
		t.Fatalf("log end %d start %d, want 500/500", l.LogEndOffset(), l.LogStartOffset())
	}
	if got := rtSegmentBases(t, dir); len(got) != 1 || got[0] != 500 {
		t.Fatalf("segments %v, want [500]", got)
	}
}

// Leftovers of interrupted operations are resolved at open: *.deleted and
// *.cleaned files go, index files without a .log go, a .swap replaces the
// segment it covers.
func TestLoadResolvesStrayFiles(t *testing.T) {
	cfg := rtConfig()
	dir := filepath.Join(t.TempDir(), "stray-0")
	rtWriteLog(t, dir, cfg, rtSizes(6, 8))
	touch := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	touch(segment.FileName(900, segment.LogSuffix)+segment.DeletedSuffix, []byte("x"))
	touch(segment.FileName(900, segment.IndexSuffix)+segment.CleanedSuffix, []byte("x"))
	touch(segment.FileName(950, segment.IndexSuffix), make([]byte, 8))
	touch(segment.FileName(950, segment.TimeIndexSuffix), make([]byte, 12))
	l := rtOpen(t, dir, cfg, true, 0)
	l.Close()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if base, _, ok := segment.ParseFileName(e.Name()); ok && base >= 900 {
			t.Fatalf("stray file %s survived the load", e.Name())
		}
	}
}

// Garbage after the last batch of a log that claims a clean shutdown is not
// trusted: the tail is cut as recovery would.
func TestCleanOpenWithGarbageTail(t *testing.T) {
	cfg := rtConfig()
	cfg.SegmentBytes = 1 << 20
	dir := filepath.Join(t.TempDir(), "liar-0")
	rtWriteLog(t, dir, cfg, rtSizes(8, 10))
	logPath := filepath.Join(dir, segment.FileName(0, segment.LogSuffix))
	f, _ := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	f.Write([]byte{0, 0, 0, 0, 0, 0, 0, 99, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7})
	f.Close()
	l := rtOpen(t, dir, cfg, true, 0)
	if got := l.LogEndOffset(); got != 16 {
		t.Fatalf("log end offset %d, want 16", got)
	}
	l.Close()
	rtCheckDir(t, dir, int64(cfg.IndexIntervalBytes))
}

// An unreadable leader-epoch-checkpoint is rebuilt from the leader epochs
// stamped in the batches rather than trusted or left empty.
func TestRecoverRebuildsEpochCache(t *testing.T) {
	cfg := rtConfig()
	dir := filepath.Join(t.TempDir(), "epochs-0")
	rtWriteLog(t, dir, cfg, rtSizes(20, 11))
	l := rtOpen(t, dir, cfg, true, 0)
	want := l.EpochEntries()
	l.Close()
	if len(want) < 3 {
		t.Fatalf("setup: epoch cache %v", want)
	}
	path := filepath.Join(dir, commitlog.LeaderEpochCheckpoint)
	if err := os.WriteFile(path, []byte("0\n7\ngarbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l = rtOpen(t, dir, cfg, true, 0)
	got := l.EpochEntries()
	l.Close()
	if len(got) != len(want) {
		t.Fatalf("rebuilt cache %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("rebuilt cache %v, want %v", got, want)
		}
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte("0\n"+strconv.Itoa(len(want))+"\n")) {
		t.Fatalf("rebuilt checkpoint file %q", data)
	}
}

// Like Kafka, a new log has an empty leader-epoch-checkpoint from the start.
func TestNewLogHasEmptyEpochCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fresh-0")
	l := rtOpen(t, dir, rtConfig(), true, 0)
	defer l.Close()
	st, err := os.Stat(filepath.Join(dir, commitlog.LeaderEpochCheckpoint))
	if err != nil || st.Size() != 0 {
		t.Fatalf("leader-epoch-checkpoint of a new log: %v, size %v; want an empty file", err, st)
	}
}

// Producer snapshots (here unreadable ones in place of those the log wrote) past a
// truncation point, or of a deleted segment, are removed.
func TestSnapshotsFollowTruncationAndRetention(t *testing.T) {
	cfg := rtConfig()
	dir := filepath.Join(t.TempDir(), "snap-0")
	rtWriteLog(t, dir, cfg, rtSizes(30, 12))
	bases := rtSegmentBases(t, dir)
	for _, b := range bases {
		os.WriteFile(filepath.Join(dir, segment.FileName(b, commitlog.SnapshotSuffix)), []byte{0, 1}, 0o644)
	}
	l := rtOpen(t, dir, cfg, true, 0)
	defer l.Close()
	mid := bases[len(bases)/2]
	if _, err := l.TruncateTo(model.Offset(mid)); err != nil {
		t.Fatal(err)
	}
	l.SetHighWatermark(l.LogEndOffset())
	if err := l.IncrementLogStartOffset(model.Offset(bases[1])); err != nil {
		t.Fatal(err)
	}
	if _, err := l.DeleteOldSegments(); err != nil {
		t.Fatal(err)
	}
	for _, b := range bases {
		_, err := os.Stat(filepath.Join(dir, segment.FileName(b, commitlog.SnapshotSuffix)))
		kept := err == nil
		if want := b >= bases[1] && b <= mid; kept != want {
			t.Errorf("snapshot %d kept=%v, want %v", b, kept, want)
		}
	}
}
