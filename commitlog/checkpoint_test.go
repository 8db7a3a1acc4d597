package commitlog_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

func tp(topic string, p int32) model.TopicPartition {
	return model.TopicPartition{Topic: topic, Partition: p}
}

// The per-directory offset checkpoints: "0", the count, then one
// "topic partition offset" line per partition, each ended by "\n".
func TestOffsetCheckpointBytes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, commitlog.RecoveryPointCheckpoint)
	offsets := map[model.TopicPartition]int64{
		tp("foo", 0):                 1200,
		tp("foo", 1):                 1187,
		tp("__consumer_offsets", 17): 54,
	}
	if err := commitlog.WriteOffsetCheckpoint(segment.OS{}, path, offsets); err != nil {
		t.Fatal(err)
	}
	// Kafka does not order the lines; this implementation sorts them.
	want := "0\n3\n__consumer_offsets 17 54\nfoo 0 1200\nfoo 1 1187\n"
	if got := string(readFile(t, path)); got != want {
		t.Fatalf("checkpoint = %q, want %q", got, want)
	}
	if got := dirFiles(t, dir); !equalStrings(got, []string{commitlog.RecoveryPointCheckpoint}) {
		t.Fatalf("directory holds %v (a .tmp left behind?)", got)
	}
	back, err := commitlog.ReadOffsetCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(offsets) {
		t.Fatalf("read back %v", back)
	}
	for k, v := range offsets {
		if back[k] != v {
			t.Fatalf("read back %v, want %v", back, offsets)
		}
	}

	// Rewriting replaces the file atomically; an empty map is "0\n0\n".
	if err := commitlog.WriteOffsetCheckpoint(segment.OS{}, path, nil); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, path)); got != "0\n0\n" {
		t.Fatalf("empty checkpoint = %q", got)
	}
	mustNotExist(t, path+".tmp")
}

// Files Kafka wrote: any order, any whitespace between fields, topic names
// with dots, dashes and underscores.
func TestReadOffsetCheckpointKafkaWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), commitlog.ReplicationCheckpoint)
	text := "0\n3\nmy.topic-x_y 3 99\n__consumer_offsets  17\t54\nfoo 0 0\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := commitlog.ReadOffsetCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	want := map[model.TopicPartition]int64{tp("my.topic-x_y", 3): 99, tp("__consumer_offsets", 17): 54, tp("foo", 0): 0}
	if len(got) != len(want) {
		t.Fatalf("read %v, want %v", got, want)
	}
	for k, v := range want {
		if o, ok := got[k]; !ok || o != v {
			t.Fatalf("read %v, want %v", got, want)
		}
	}
}

// A missing or empty file has no entries (CheckpointFile.read); malformed
// ones are errors.
func TestReadOffsetCheckpointMalformed(t *testing.T) {
	dir := t.TempDir()
	if m, err := commitlog.ReadOffsetCheckpoint(filepath.Join(dir, "missing")); err != nil || len(m) != 0 {
		t.Fatalf("missing file: %v, %v", m, err)
	}
	ok := []string{"", "0\n", "0\n0\n"}
	bad := map[string]string{
		"unknown version":        "1\n1\nfoo 0 5\n",
		"version not a number":   "v0\n0\n",
		"count not a number":     "0\nthree\n",
		"fewer entries":          "0\n2\nfoo 0 5\n",
		"more entries":           "0\n1\nfoo 0 5\nfoo 1 6\n",
		"two fields":             "0\n1\nfoo 5\n",
		"four fields":            "0\n1\nfoo 0 5 6\n",
		"partition not a number": "0\n1\nfoo x 5\n",
		"offset not a number":    "0\n1\nfoo 0 y\n",
		"empty entry line":       "0\n1\n\n",
	}
	for i, text := range ok {
		path := filepath.Join(dir, "ok"+string(rune('a'+i)))
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if m, err := commitlog.ReadOffsetCheckpoint(path); err != nil || len(m) != 0 {
			t.Errorf("%q: %v, %v; want empty", text, m, err)
		}
	}
	for name, text := range bad {
		path := filepath.Join(dir, "bad")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if m, err := commitlog.ReadOffsetCheckpoint(path); err == nil {
			t.Errorf("%s (%q): accepted as %v", name, text, m)
		}
	}
}

// WriteFileAtomic replaces the target in one rename and leaves no .tmp.
func TestWriteFileAtomic(t *testing.T) {
	fs := newSyncCountFS()
	dir := t.TempDir()
	path := filepath.Join(dir, "cleaner-offset-checkpoint")
	if err := os.WriteFile(path, []byte("old contents that are longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := commitlog.WriteFileAtomic(fs, path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, path)); got != "new" {
		t.Fatalf("file = %q", got)
	}
	mustNotExist(t, path+".tmp")
	if fs.Syncs("cleaner-offset-checkpoint.tmp") != 1 {
		t.Fatalf("the .tmp file was fsynced %d times before the rename, want 1", fs.Syncs("cleaner-offset-checkpoint.tmp"))
	}
	if fs.Syncs(filepath.Base(dir)) != 1 {
		t.Fatalf("the directory was fsynced %d times after the rename, want 1", fs.Syncs(filepath.Base(dir)))
	}
}
