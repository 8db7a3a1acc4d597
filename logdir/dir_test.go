package logdir_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/logdir"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
)

const baseTime int64 = 1_700_000_000_000

// fakeClock is a goroutine-safe millisecond clock moved by hand; the
// directory's task goroutine reads it.
type fakeClock struct{ ms atomic.Int64 }

func newFakeClock(ms int64) *fakeClock {
	c := &fakeClock{}
	c.ms.Store(ms)
	return c
}

func (c *fakeClock) Now() int64       { return c.ms.Load() }
func (c *fakeClock) Advance(ms int64) { c.ms.Add(ms) }

// dirOptions are Kafka's defaults with the fake clock, a fast tick and cfg
// for every topic.
func dirOptions(path string, clk *fakeClock, cfg commitlog.Config) logdir.Options {
	o := logdir.DefaultOptions(path)
	o.Now = clk.Now
	o.TickMs = 2
	o.TopicConfig = func(string) commitlog.Config { return cfg }
	return o
}

func openDir(t *testing.T, opts logdir.Options) *logdir.Dir {
	t.Helper()
	d, err := logdir.Open(opts)
	if err != nil {
		t.Fatalf("logdir.Open: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

func tpOf(topic string, p int32) model.TopicPartition {
	return model.TopicPartition{Topic: topic, Partition: p}
}

func clientBatch(t *testing.T, n int, ts int64) []byte {
	t.Helper()
	rs := make([]record.NewRecord, n)
	for i := range rs {
		rs[i] = record.NewRecord{Timestamp: ts, Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte("value")}
	}
	b, err := record.Build(record.NewSpec(), rs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func appendN(t *testing.T, l *commitlog.Log, batches, perBatch int, ts int64) {
	t.Helper()
	for i := 0; i < batches; i++ {
		if _, err := l.AppendAsLeader(clientBatch(t, perBatch, ts), 1, record.FromClient); err != nil {
			t.Fatalf("append: %v", err)
		}
	}
}

func getOrCreate(t *testing.T, d *logdir.Dir, tp model.TopicPartition, id model.TopicID) *commitlog.Log {
	t.Helper()
	l, err := d.GetOrCreateLog(tp, id)
	if err != nil {
		t.Fatalf("GetOrCreateLog(%v): %v", tp, err)
	}
	return l
}

func mustLog(t *testing.T, d *logdir.Dir, tp model.TopicPartition) *commitlog.Log {
	t.Helper()
	l, ok := d.Log(tp)
	if !ok {
		t.Fatalf("no log for %v", tp)
	}
	return l
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return data
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func segLog(dir string, base int64) string {
	return filepath.Join(dir, fmt.Sprintf("%020d.log", base))
}

// checkCheckpoint checks an offset checkpoint file: version 0, the count,
// and exactly these entry lines in any order (Kafka does not order them).
func checkCheckpoint(t *testing.T, path string, lines ...string) {
	t.Helper()
	text := string(readFile(t, path))
	if !strings.HasSuffix(text, "\n") {
		t.Fatalf("%s does not end with a newline: %q", filepath.Base(path), text)
	}
	got := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	head := fmt.Sprintf("0\n%d", len(lines))
	if len(got) < 2 || got[0]+"\n"+got[1] != head {
		t.Fatalf("%s = %q, want header %q", filepath.Base(path), text, head)
	}
	entries := append([]string(nil), got[2:]...)
	want := append([]string(nil), lines...)
	sort.Strings(entries)
	sort.Strings(want)
	if strings.Join(entries, "|") != strings.Join(want, "|") {
		t.Fatalf("%s = %q, want entries %q", filepath.Base(path), text, lines)
	}
}

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

// awaitTicks proves that the task loop completed at least one full pass
// after the call began: with HighWatermarkCheckpointMs = 0 every pass
// rewrites replication-offset-checkpoint at its end, so the file is removed
// and awaited twice (the first reappearance may come from a pass already
// under way).
func awaitTicks(t *testing.T, root string) {
	t.Helper()
	path := filepath.Join(root, commitlog.ReplicationCheckpoint)
	for i := 0; i < 2; i++ {
		_ = os.Remove(path)
		waitFor(t, "a pass of the task loop", func() bool { return exists(path) })
	}
}

// A second broker (or a second Open in this one) cannot use a locked
// directory; Close releases the lock.
func TestDirLock(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	opts := dirOptions(root, clk, commitlog.DefaultConfig())
	d := openDir(t, opts)
	if !exists(filepath.Join(root, logdir.LockFile)) {
		t.Fatalf(".lock was not created")
	}
	if d2, err := logdir.Open(opts); err == nil {
		_ = d2.Close()
		t.Fatalf("second Open of a locked directory succeeded")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d3 := openDir(t, opts)
	if err := d3.Close(); err != nil {
		t.Fatal(err)
	}
}

// Close flushes and closes the logs, writes the three offset checkpoints
// and then the clean-shutdown marker; reopening takes the marker away at
// once and trusts the files.
func TestCleanShutdownAndReopen(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	opts := dirOptions(root, clk, commitlog.DefaultConfig())
	d := openDir(t, opts)
	if d.HadCleanShutdown {
		t.Fatalf("a new directory reports a clean shutdown")
	}
	foo := getOrCreate(t, d, tpOf("foo", 0), model.TopicID{1})
	bar := getOrCreate(t, d, tpOf("bar", 1), model.ZeroTopicID)
	appendN(t, foo, 3, 1, baseTime)
	appendN(t, bar, 1, 2, baseTime)
	foo.SetHighWatermark(3)
	bar.SetHighWatermark(1)
	if err := foo.IncrementLogStartOffset(2); err != nil {
		t.Fatal(err)
	}

	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got, want := string(readFile(t, filepath.Join(root, logdir.CleanShutdownFile))), `{"version":0,"brokerEpoch":-1}`; got != want {
		t.Fatalf(".kafka_cleanshutdown = %q, want %q", got, want)
	}
	checkCheckpoint(t, filepath.Join(root, commitlog.RecoveryPointCheckpoint), "foo 0 3", "bar 1 2")
	checkCheckpoint(t, filepath.Join(root, commitlog.ReplicationCheckpoint), "foo 0 3", "bar 1 1")
	// Only partitions whose log start is past their first segment's base.
	if got, want := string(readFile(t, filepath.Join(root, commitlog.LogStartOffsetCheckpoint))), "0\n1\nfoo 0 2\n"; got != want {
		t.Fatalf("log-start-offset-checkpoint = %q, want %q", got, want)
	}
	for _, name := range []string{commitlog.RecoveryPointCheckpoint, commitlog.ReplicationCheckpoint, commitlog.LogStartOffsetCheckpoint, logdir.CleanShutdownFile} {
		if exists(filepath.Join(root, name+".tmp")) {
			t.Fatalf("%s.tmp left behind", name)
		}
	}

	d2 := openDir(t, opts)
	if exists(filepath.Join(root, logdir.CleanShutdownFile)) {
		t.Fatalf("the clean-shutdown marker survived the reopen")
	}
	if !d2.HadCleanShutdown {
		t.Fatalf("HadCleanShutdown = false after a clean close")
	}
	if got := d2.Partitions(); len(got) != 2 || got[0] != tpOf("bar", 1) || got[1] != tpOf("foo", 0) {
		t.Fatalf("Partitions = %v", got)
	}
	foo2, bar2 := mustLog(t, d2, tpOf("foo", 0)), mustLog(t, d2, tpOf("bar", 1))
	if foo2.LogEndOffset() != 3 || foo2.LogStartOffset() != 2 || foo2.HighWatermark() != 3 || foo2.RecoveryPoint() != 3 {
		t.Fatalf("foo-0 reopened with LEO %d start %d HW %d RP %d; want 3 2 3 3",
			foo2.LogEndOffset(), foo2.LogStartOffset(), foo2.HighWatermark(), foo2.RecoveryPoint())
	}
	if bar2.LogEndOffset() != 2 || bar2.LogStartOffset() != 0 || bar2.HighWatermark() != 1 {
		t.Fatalf("bar-1 reopened with LEO %d start %d HW %d; want 2 0 1", bar2.LogEndOffset(), bar2.LogStartOffset(), bar2.HighWatermark())
	}
}

// After a clean shutdown the segments are not recovered (a batch whose CRC
// no longer matches stays); without the marker they are, from the recovery
// point, and the bad batch is cut off.
func TestRecoveryOnlyWithoutCleanShutdown(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	opts := dirOptions(root, clk, commitlog.DefaultConfig())
	d := openDir(t, opts)
	l := getOrCreate(t, d, tpOf("foo", 0), model.ZeroTopicID)
	appendN(t, l, 3, 1, baseTime)
	l.SetHighWatermark(3)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	logPath := segLog(filepath.Join(root, "foo-0"), 0)
	data := readFile(t, logPath)
	batch := len(data) / 3
	data[len(data)-1] ^= 0xff // corrupt the last batch's payload: CRC mismatch
	if err := os.WriteFile(logPath, data, 0o644); err != nil {
		t.Fatal(err)
	}

	d2 := openDir(t, opts)
	if !d2.HadCleanShutdown {
		t.Fatalf("HadCleanShutdown = false")
	}
	if got := readFile(t, logPath); !bytes.Equal(got, data) {
		t.Fatalf("the .log was changed although the shutdown was clean")
	}
	if leo := mustLog(t, d2, tpOf("foo", 0)).LogEndOffset(); leo != 3 {
		t.Fatalf("LEO = %d after a clean reopen, want 3", leo)
	}
	if err := d2.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, logdir.CleanShutdownFile)); err != nil {
		t.Fatal(err)
	}

	d3 := openDir(t, opts)
	if d3.HadCleanShutdown {
		t.Fatalf("HadCleanShutdown = true without the marker")
	}
	if got := readFile(t, logPath); !bytes.Equal(got, data[:2*batch]) {
		t.Fatalf("recovery left %d bytes, want the %d bytes of the two valid batches", len(got), 2*batch)
	}
	if leo := mustLog(t, d3, tpOf("foo", 0)).LogEndOffset(); leo != 2 {
		t.Fatalf("LEO = %d after recovery, want 2", leo)
	}
}

// A torn tail (part of a batch written before a crash) is truncated when the
// directory is reopened without the clean-shutdown marker.
func TestUncleanReopenTruncatesTornTail(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	opts := dirOptions(root, clk, commitlog.DefaultConfig())
	d := openDir(t, opts)
	l := getOrCreate(t, d, tpOf("foo", 0), model.ZeroTopicID)
	appendN(t, l, 2, 3, baseTime)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	logPath := segLog(filepath.Join(root, "foo-0"), 0)
	good := readFile(t, logPath)
	torn := clientBatch(t, 3, baseTime)
	binary.BigEndian.PutUint64(torn, 6)
	f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(torn[:len(torn)/2]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Remove(filepath.Join(root, logdir.CleanShutdownFile)); err != nil {
		t.Fatal(err)
	}

	d2 := openDir(t, opts)
	if d2.HadCleanShutdown {
		t.Fatalf("HadCleanShutdown = true without the marker")
	}
	if got := readFile(t, logPath); !bytes.Equal(got, good) {
		t.Fatalf(".log is %d bytes after recovery, want %d", len(got), len(good))
	}
	l2 := mustLog(t, d2, tpOf("foo", 0))
	if l2.LogEndOffset() != 6 {
		t.Fatalf("LEO = %d, want 6", l2.LogEndOffset())
	}
	if info, err := l2.AppendAsLeader(clientBatch(t, 1, baseTime), 1, record.FromClient); err != nil || info.FirstOffset != 6 {
		t.Fatalf("append after recovery: %+v, %v", info, err)
	}
}

// GetOrCreateLog makes <topic>-<partition> with an empty segment, writes
// partition.metadata once, and refuses a different topic id.
func TestGetOrCreateLog(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	d := openDir(t, dirOptions(root, clk, commitlog.DefaultConfig()))
	id := model.TopicID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	tp := tpOf("orders", 3)
	l := getOrCreate(t, d, tp, id)
	dir := filepath.Join(root, "orders-3")
	if l.Dir() != dir {
		t.Fatalf("log dir = %s, want %s", l.Dir(), dir)
	}
	for _, name := range []string{"00000000000000000000.log", "00000000000000000000.index", "00000000000000000000.timeindex"} {
		if !exists(filepath.Join(dir, name)) {
			t.Fatalf("%s missing", name)
		}
	}
	metaPath := filepath.Join(dir, commitlog.PartitionMetadataFile)
	if got, want := string(readFile(t, metaPath)), "version: 0\ntopic_id: _____________________w"; got != want {
		t.Fatalf("partition.metadata = %q, want %q", got, want)
	}
	st1, err := os.Stat(metaPath)
	if err != nil {
		t.Fatal(err)
	}

	again := getOrCreate(t, d, tp, id)
	if again != l {
		t.Fatalf("GetOrCreateLog returned a different log for the same partition")
	}
	st2, err := os.Stat(metaPath)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(st1, st2) {
		t.Fatalf("partition.metadata was rewritten")
	}
	if _, err := d.GetOrCreateLog(tp, model.TopicID{7}); err == nil {
		t.Fatalf("a different topic id was accepted")
	}
	if got := string(readFile(t, metaPath)); got != "version: 0\ntopic_id: _____________________w" {
		t.Fatalf("partition.metadata changed to %q", got)
	}

	// No topic id: no partition.metadata.
	getOrCreate(t, d, tpOf("orders", 4), model.ZeroTopicID)
	if exists(filepath.Join(root, "orders-4", commitlog.PartitionMetadataFile)) {
		t.Fatalf("partition.metadata written for the zero topic id")
	}
	if got := d.Partitions(); len(got) != 2 || got[0] != tp || got[1] != tpOf("orders", 4) {
		t.Fatalf("Partitions = %v", got)
	}
}

var deleteDirRE = regexp.MustCompile(`^foo-0\.[0-9a-f]{32}-delete$`)

// DeleteLog renames the partition directory to <topic>-<p>.<uuid>-delete
// and the task loop removes it after log.segment.delete.delay.ms.
func TestDeleteLog(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	opts := dirOptions(root, clk, commitlog.DefaultConfig())
	opts.HighWatermarkCheckpointMs = 0 // every pass writes a checkpoint: see awaitTicks
	d := openDir(t, opts)
	l := getOrCreate(t, d, tpOf("foo", 0), model.TopicID{9})
	appendN(t, l, 2, 1, baseTime)
	segment := readFile(t, segLog(l.Dir(), 0))

	if err := d.DeleteLog(tpOf("foo", 0)); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.Log(tpOf("foo", 0)); ok {
		t.Fatalf("deleted log still listed")
	}
	if len(d.Partitions()) != 0 {
		t.Fatalf("Partitions = %v", d.Partitions())
	}
	if exists(filepath.Join(root, "foo-0")) {
		t.Fatalf("foo-0 still exists")
	}
	var deleted string
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.IsDir() && deleteDirRE.MatchString(e.Name()) {
			deleted = filepath.Join(root, e.Name())
		}
	}
	if deleted == "" {
		t.Fatalf("no foo-0.<32 hex>-delete directory among %v", entries)
	}
	if got := readFile(t, segLog(deleted, 0)); !bytes.Equal(got, segment) {
		t.Fatalf("the renamed directory does not hold the segment")
	}

	awaitTicks(t, root)
	clk.Advance(opts.DeleteDirDelayMs - 1)
	awaitTicks(t, root)
	if !exists(deleted) {
		t.Fatalf("directory removed before log.segment.delete.delay.ms")
	}
	clk.Advance(1)
	waitFor(t, "removal of the -delete directory", func() bool { return !exists(deleted) })
}

// The -delete suffix keeps the name within 255 bytes by cutting the topic.
func TestDeleteLogLongTopicName(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	d := openDir(t, dirOptions(root, clk, commitlog.DefaultConfig()))
	topic := strings.Repeat("t", 249)
	getOrCreate(t, d, tpOf(topic, 7), model.ZeroTopicID)
	if err := d.DeleteLog(tpOf(topic, 7)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(root)
	re := regexp.MustCompile(`^t+-7\.[0-9a-f]{32}-delete$`)
	found := false
	for _, e := range entries {
		if re.MatchString(e.Name()) {
			found = true
			if len(e.Name()) != 255 {
				t.Fatalf("delete dir name is %d bytes, want 255", len(e.Name()))
			}
		}
	}
	if !found {
		t.Fatalf("no delete directory among %v", entries)
	}
}

// -delete directories found at startup are not loaded as logs and are
// removed after the delay.
func TestOpenRemovesLeftoverDeleteDirs(t *testing.T) {
	root := t.TempDir()
	leftover := filepath.Join(root, "foo-9.0123456789abcdef0123456789abcdef-delete")
	if err := os.MkdirAll(leftover, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(segLog(leftover, 0), []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock(baseTime)
	opts := dirOptions(root, clk, commitlog.DefaultConfig())
	opts.HighWatermarkCheckpointMs = 0
	d := openDir(t, opts)
	if len(d.Partitions()) != 0 {
		t.Fatalf("Partitions = %v", d.Partitions())
	}
	awaitTicks(t, root)
	if !exists(leftover) {
		t.Fatalf("removed before the delay")
	}
	clk.Advance(opts.DeleteDirDelayMs)
	waitFor(t, "removal of the leftover -delete directory", func() bool { return !exists(leftover) })
}

// RunRetention applies every log's retention; the task loop removes the
// .deleted files after file.delete.delay.ms.
func TestRunRetention(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	cfg := commitlog.DefaultConfig()
	cfg.RetentionMs = 1000
	cfg.SegmentBytes = int64(len(clientBatch(t, 1, baseTime))) // one batch a segment
	opts := dirOptions(root, clk, cfg)
	d := openDir(t, opts)
	l := getOrCreate(t, d, tpOf("foo", 0), model.ZeroTopicID)
	appendN(t, l, 3, 1, baseTime)
	l.SetHighWatermark(2) // segments 0 and 1 lie below it
	fresh := getOrCreate(t, d, tpOf("bar", 0), model.ZeroTopicID)
	appendN(t, fresh, 2, 1, baseTime+5000)
	fresh.SetHighWatermark(2)

	clk.Advance(1001)
	if n := d.RunRetention(); n != 2 {
		t.Fatalf("RunRetention deleted %d segments, want 2", n)
	}
	if l.LogStartOffset() != 2 || fresh.LogStartOffset() != 0 {
		t.Fatalf("log starts %d, %d; want 2, 0", l.LogStartOffset(), fresh.LogStartOffset())
	}
	fooDir := filepath.Join(root, "foo-0")
	for _, base := range []int64{0, 1} {
		if exists(segLog(fooDir, base)) || !exists(segLog(fooDir, base)+".deleted") {
			t.Fatalf("segment %d was not renamed .deleted", base)
		}
	}
	clk.Advance(cfg.FileDeleteDelayMs)
	waitFor(t, "removal of the .deleted files", func() bool {
		for _, base := range []int64{0, 1} {
			if exists(segLog(fooDir, base) + ".deleted") {
				return false
			}
		}
		return true
	})
	if !exists(segLog(fooDir, 2)) {
		t.Fatalf("the live segment went too")
	}
}

// The kafka-log-retention task first runs InitialTaskDelayMs after start.
func TestRetentionTaskRunsAfterInitialDelay(t *testing.T) {
	root := t.TempDir()
	clk := newFakeClock(baseTime)
	cfg := commitlog.DefaultConfig()
	cfg.RetentionMs = 1000
	cfg.SegmentBytes = int64(len(clientBatch(t, 1, baseTime)))
	opts := dirOptions(root, clk, cfg)
	opts.HighWatermarkCheckpointMs = 0
	d := openDir(t, opts)
	l := getOrCreate(t, d, tpOf("foo", 0), model.ZeroTopicID)
	appendN(t, l, 2, 1, baseTime)
	l.SetHighWatermark(2)
	awaitTicks(t, root) // the task loop has read its start time

	clk.Advance(opts.InitialTaskDelayMs - 1)
	awaitTicks(t, root)
	if l.LogStartOffset() != 0 {
		t.Fatalf("retention ran before the initial delay")
	}
	clk.Advance(1)
	waitFor(t, "the retention task", func() bool { return l.LogStartOffset() == 2 })
	if got := l.SegmentBaseOffsets(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("segments = %v, want [2]", got)
	}
}

// Like a Kafka broker, an opened directory has its four checkpoint files
// from the start, empty until the first write.
func TestOpenCreatesEmptyCheckpointFiles(t *testing.T) {
	root := t.TempDir()
	d, err := logdir.Open(logdir.DefaultOptions(root))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{commitlog.RecoveryPointCheckpoint, commitlog.ReplicationCheckpoint,
		commitlog.LogStartOffsetCheckpoint, commitlog.CleanerOffsetCheckpoint} {
		st, err := os.Stat(filepath.Join(root, name))
		if err != nil || st.Size() != 0 {
			t.Errorf("%s after open: %v (size %v), want an empty file", name, err, st)
		}
	}
}
