package commitlog_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

// epochCacheWith writes a leader-epoch-checkpoint with entries (by hand, in
// Kafka's format) and loads it.
func epochCacheWith(t *testing.T, entries ...commitlog.EpochEntry) (*commitlog.EpochCache, string) {
	t.Helper()
	dir := t.TempDir()
	text := "0\n" + strconv.Itoa(len(entries)) + "\n"
	for _, e := range entries {
		text += strconv.Itoa(int(e.Epoch)) + " " + strconv.Itoa(int(e.StartOffset)) + "\n"
	}
	path := filepath.Join(dir, commitlog.LeaderEpochCheckpoint)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := commitlog.LoadEpochCache(segment.OS{}, dir, zerolog.Nop())
	if err != nil {
		t.Fatalf("LoadEpochCache(%q): %v", text, err)
	}
	checkEpochs(t, c.Entries(), entries...)
	return c, path
}

// fileEntries reloads the checkpoint file into a fresh cache.
func fileEntries(t *testing.T, path string) []commitlog.EpochEntry {
	t.Helper()
	c, err := commitlog.LoadEpochCache(segment.OS{}, filepath.Dir(path), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return c.Entries()
}

// The exact bytes Kafka writes: version, count, "epoch startOffset" lines.
func TestEpochCheckpointBytes(t *testing.T) {
	dir := t.TempDir()
	c, err := commitlog.LoadEpochCache(segment.OS{}, dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Entries()) != 0 {
		t.Fatalf("missing file loaded entries %v", c.Entries())
	}
	if err := c.Assign(0, 0); err != nil {
		t.Fatal(err)
	}
	if err := c.Assign(3, 1520); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, commitlog.LeaderEpochCheckpoint)
	if got, want := string(readFile(t, path)), "0\n2\n0 0\n3 1520\n"; got != want {
		t.Fatalf("leader-epoch-checkpoint = %q, want %q", got, want)
	}
	mustNotExist(t, path+".tmp")
	if err := c.Clear(); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, path)); got != "0\n0\n" {
		t.Fatalf("after Clear: %q", got)
	}
}

// Assign (LeaderEpochFileCache.assign): a no-op for the latest epoch at the
// same or a later offset; otherwise entries with epoch >= new epoch or start
// >= new start are removed from the end, then the entry is added.
func TestEpochCacheAssign(t *testing.T) {
	cases := []struct {
		name   string
		before []commitlog.EpochEntry
		epoch  int32
		start  int64
		after  []commitlog.EpochEntry
		noop   bool
	}{
		{"first entry", nil, 0, 0, []commitlog.EpochEntry{ep(0, 0)}, false},
		{"same epoch later offset", []commitlog.EpochEntry{ep(0, 0), ep(3, 10)}, 3, 15, []commitlog.EpochEntry{ep(0, 0), ep(3, 10)}, true},
		{"same epoch same offset", []commitlog.EpochEntry{ep(0, 0), ep(3, 10)}, 3, 10, []commitlog.EpochEntry{ep(0, 0), ep(3, 10)}, true},
		{"same epoch earlier offset", []commitlog.EpochEntry{ep(0, 0), ep(3, 10)}, 3, 5, []commitlog.EpochEntry{ep(0, 0), ep(3, 5)}, false},
		{"newer epoch", []commitlog.EpochEntry{ep(0, 0), ep(3, 10)}, 4, 15, []commitlog.EpochEntry{ep(0, 0), ep(3, 10), ep(4, 15)}, false},
		{"newer epoch at the latest start", []commitlog.EpochEntry{ep(0, 0), ep(3, 10)}, 5, 10, []commitlog.EpochEntry{ep(0, 0), ep(5, 10)}, false},
		{"newer epoch before the latest start", []commitlog.EpochEntry{ep(0, 0), ep(3, 10)}, 5, 8, []commitlog.EpochEntry{ep(0, 0), ep(5, 8)}, false},
		{"older epoch after the latest start", []commitlog.EpochEntry{ep(0, 0), ep(3, 10)}, 2, 20, []commitlog.EpochEntry{ep(0, 0), ep(2, 20)}, false},
		{"older than everything", []commitlog.EpochEntry{ep(1, 5), ep(3, 10)}, 0, 0, []commitlog.EpochEntry{ep(0, 0)}, false},
		{"removes several", []commitlog.EpochEntry{ep(1, 0), ep(2, 5), ep(3, 10), ep(4, 12)}, 2, 7, []commitlog.EpochEntry{ep(1, 0), ep(2, 7)}, false},
		{"negative epoch changes nothing", []commitlog.EpochEntry{ep(1, 0)}, -1, 5, []commitlog.EpochEntry{ep(1, 0)}, true},
		{"negative offset changes nothing", []commitlog.EpochEntry{ep(1, 0)}, 2, -1, []commitlog.EpochEntry{ep(1, 0)}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, path := epochCacheWith(t, tc.before...)
			// A no-op does not rewrite the file: remove it and see whether
			// it comes back.
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			_ = c.Assign(model.LeaderEpoch(tc.epoch), model.Offset(tc.start))
			checkEpochs(t, c.Entries(), tc.after...)
			if tc.noop {
				mustNotExist(t, path)
				return
			}
			checkEpochs(t, fileEntries(t, path), tc.after...)
		})
	}
}

// The checkpoint is loaded through the same rule: entries that break
// monotonicity are dropped as if assigned in file order.
func TestEpochCacheLoadAppliesAssignRules(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, commitlog.LeaderEpochCheckpoint)
	if err := os.WriteFile(path, []byte("0\n4\n1 0\n3 10\n2 20\n2 25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := commitlog.LoadEpochCache(segment.OS{}, dir, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	checkEpochs(t, c.Entries(), ep(1, 0), ep(2, 20))

	for _, bad := range []string{"1\n1\n0 0\n", "0\n2\n0 0\n", "0\n1\n0 0 0\n", "0\n1\nx 0\n", "0\nz\n"} {
		if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := commitlog.LoadEpochCache(segment.OS{}, dir, zerolog.Nop()); err == nil {
			t.Errorf("LoadEpochCache accepted %q", bad)
		}
	}
}

// TruncateFromEnd drops the entries starting at or after the new log end.
func TestEpochCacheTruncateFromEnd(t *testing.T) {
	cases := []struct {
		end   int64
		after []commitlog.EpochEntry
	}{
		{30, []commitlog.EpochEntry{ep(1, 0), ep(2, 10), ep(4, 20)}},
		{21, []commitlog.EpochEntry{ep(1, 0), ep(2, 10), ep(4, 20)}},
		{20, []commitlog.EpochEntry{ep(1, 0), ep(2, 10)}},
		{11, []commitlog.EpochEntry{ep(1, 0), ep(2, 10)}},
		{10, []commitlog.EpochEntry{ep(1, 0)}},
		{0, nil},
	}
	for _, tc := range cases {
		c, path := epochCacheWith(t, ep(1, 0), ep(2, 10), ep(4, 20))
		if err := c.TruncateFromEnd(model.Offset(tc.end)); err != nil {
			t.Fatal(err)
		}
		checkEpochs(t, c.Entries(), tc.after...)
		checkEpochs(t, fileEntries(t, path), tc.after...)
	}
}

// TruncateFromStart drops the entries starting at or before the new log
// start and re-inserts the last of them at the new start; an entry exactly
// at the new start survives unchanged.
func TestEpochCacheTruncateFromStart(t *testing.T) {
	cases := []struct {
		start int64
		after []commitlog.EpochEntry
	}{
		{0, []commitlog.EpochEntry{ep(1, 0), ep(2, 10), ep(4, 20)}},
		{5, []commitlog.EpochEntry{ep(1, 5), ep(2, 10), ep(4, 20)}},
		{10, []commitlog.EpochEntry{ep(2, 10), ep(4, 20)}},
		{15, []commitlog.EpochEntry{ep(2, 15), ep(4, 20)}},
		{25, []commitlog.EpochEntry{ep(4, 25)}},
	}
	for _, tc := range cases {
		c, path := epochCacheWith(t, ep(1, 0), ep(2, 10), ep(4, 20))
		if err := c.TruncateFromStart(model.Offset(tc.start)); err != nil {
			t.Fatal(err)
		}
		checkEpochs(t, c.Entries(), tc.after...)
		checkEpochs(t, fileEntries(t, path), tc.after...)
	}
	// Before the first entry: nothing changes.
	c, _ := epochCacheWith(t, ep(1, 5), ep(2, 10))
	if err := c.TruncateFromStart(3); err != nil {
		t.Fatal(err)
	}
	checkEpochs(t, c.Entries(), ep(1, 5), ep(2, 10))
}

// EndOffsetFor (OffsetsForLeaderEpoch), every branch of
// LeaderEpochFileCache.endOffsetFor. Cache {1 0} {2 10} {4 20}, LEO 30.
func TestEpochCacheEndOffsetFor(t *testing.T) {
	c, _ := epochCacheWith(t, ep(1, 0), ep(2, 10), ep(4, 20))
	cases := []struct {
		name      string
		requested int32
		epoch     int32
		offset    int64
	}{
		{"undefined epoch", -1, -1, -1},
		{"latest epoch: the log end", 4, 4, 30},
		{"newer than every epoch", 5, -1, -1},
		{"known epoch: start of the next", 1, 1, 10},
		{"known epoch 2", 2, 2, 20},
		{"unknown epoch between: floor epoch, next start", 3, 2, 20},
		{"older than every epoch: requested, first start", 0, 0, 0},
	}
	for _, tc := range cases {
		e, o := c.EndOffsetFor(model.LeaderEpoch(tc.requested), 30)
		if e != model.LeaderEpoch(tc.epoch) || o != model.Offset(tc.offset) {
			t.Errorf("%s: EndOffsetFor(%d) = (%d, %d), want (%d, %d)", tc.name, tc.requested, e, o, tc.epoch, tc.offset)
		}
	}
	// First entry not at 0: an older epoch ends where the first one starts.
	c2, _ := epochCacheWith(t, ep(3, 100), ep(5, 200))
	if e, o := c2.EndOffsetFor(1, 300); e != 1 || o != 100 {
		t.Errorf("EndOffsetFor(1) = (%d, %d), want (1, 100)", e, o)
	}
	empty, _ := epochCacheWith(t)
	if e, o := empty.EndOffsetFor(0, 300); e != -1 || o != -1 {
		t.Errorf("empty cache: EndOffsetFor(0) = (%d, %d), want (-1, -1)", e, o)
	}
}

// The log's own cache answers through the log end offset.
func TestLogEndOffsetForEpoch(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	tl.appendLeader(clientBatch(t, recs(3, baseTime)), 1)
	tl.appendLeader(clientBatch(t, recs(2, baseTime)), 3)
	if e, o := tl.log.EndOffsetForEpoch(3); e != 3 || o != 5 {
		t.Fatalf("EndOffsetForEpoch(3) = (%d, %d), want (3, 5)", e, o)
	}
	if e, o := tl.log.EndOffsetForEpoch(2); e != 1 || o != 3 {
		t.Fatalf("EndOffsetForEpoch(2) = (%d, %d), want (1, 3)", e, o)
	}
}

// EpochForOffset is the epoch of the entry whose range holds the offset.
func TestEpochCacheEpochForOffset(t *testing.T) {
	c, _ := epochCacheWith(t, ep(1, 5), ep(2, 10), ep(4, 20))
	for _, tc := range []struct {
		offset int64
		epoch  int32
		ok     bool
	}{{4, -1, false}, {5, 1, true}, {9, 1, true}, {10, 2, true}, {19, 2, true}, {20, 4, true}, {1000, 4, true}} {
		e, ok := c.EpochForOffset(model.Offset(tc.offset))
		if ok != tc.ok || (ok && e != model.LeaderEpoch(tc.epoch)) {
			t.Errorf("EpochForOffset(%d) = (%d, %v), want (%d, %v)", tc.offset, e, ok, tc.epoch, tc.ok)
		}
	}
}
