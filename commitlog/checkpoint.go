package commitlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

// Names of Kafka's checkpoint files. The first four live in a log directory
// and hold one line per partition; the last lives in a partition directory.
const (
	RecoveryPointCheckpoint  = "recovery-point-offset-checkpoint"
	ReplicationCheckpoint    = "replication-offset-checkpoint"
	LogStartOffsetCheckpoint = "log-start-offset-checkpoint"
	CleanerOffsetCheckpoint  = "cleaner-offset-checkpoint"
	LeaderEpochCheckpoint    = "leader-epoch-checkpoint"
)

const checkpointVersion = 0

// WriteFileAtomic replaces path with data the way Kafka writes checkpoints:
// write <path>.tmp, fsync it, rename it over path, fsync the directory.
func WriteFileAtomic(fs segment.FS, path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return &segment.StorageError{Op: "create", Path: tmp, Err: err}
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return &segment.StorageError{Op: "write", Path: tmp, Err: err}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return &segment.StorageError{Op: "fsync", Path: tmp, Err: err}
	}
	if err := f.Close(); err != nil {
		return &segment.StorageError{Op: "close", Path: tmp, Err: err}
	}
	if err := fs.Rename(tmp, path); err != nil {
		return &segment.StorageError{Op: "rename", Path: tmp, Err: err}
	}
	return SyncDir(fs, filepath.Dir(path))
}

// createIfMissing creates an empty file, as Kafka's checkpoint files are
// created empty when they are first opened.
func createIfMissing(fs segment.FS, path string) error {
	f, err := fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return &segment.StorageError{Op: "create", Path: path, Err: err}
	}
	return f.Close()
}

// CreateCheckpointFiles creates the per-directory checkpoint files that do
// not exist yet, empty, as a Kafka broker does when it starts (the cleaner's
// too, since Kafka's cleaner is enabled by default).
func CreateCheckpointFiles(fs segment.FS, dir string) error {
	for _, name := range []string{RecoveryPointCheckpoint, ReplicationCheckpoint, LogStartOffsetCheckpoint, CleanerOffsetCheckpoint} {
		if err := createIfMissing(fs, filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// SyncDir fsyncs a directory so that renames and creations in it are durable.
func SyncDir(fs segment.FS, dir string) error {
	d, err := fs.OpenFile(dir, os.O_RDONLY, 0)
	if err != nil {
		return &segment.StorageError{Op: "open", Path: dir, Err: err}
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return &segment.StorageError{Op: "fsync", Path: dir, Err: err}
	}
	return nil
}

// formatCheckpoint renders version 0, the entry count and one line an entry,
// each ended by "\n".
func formatCheckpoint(lines []string) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d\n%d\n", checkpointVersion, len(lines))
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// parseCheckpoint reads the common frame of a checkpoint file and returns
// the whitespace-split fields of each entry, each with fieldsPerLine fields.
// A missing or empty file has no entries.
func parseCheckpoint(path string, fieldsPerLine int) ([][]string, error) {
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	malformed := func(line string) error {
		return fmt.Errorf("malformed line in checkpoint file [%s]: %q", path, line)
	}
	if !sc.Scan() {
		return nil, nil
	}
	v, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil {
		return nil, malformed(sc.Text())
	}
	if v != checkpointVersion {
		return nil, fmt.Errorf("unrecognised version:%d, expected version: %d in checkpoint file at: %s", v, checkpointVersion, path)
	}
	if !sc.Scan() {
		return nil, nil
	}
	count, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil || count < 0 {
		return nil, malformed(sc.Text())
	}
	var out [][]string
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) != fieldsPerLine {
			return nil, malformed(sc.Text())
		}
		out = append(out, fields)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) != count {
		return nil, fmt.Errorf("expected [%d] entries in checkpoint file [%s], but found only [%d]", count, path, len(out))
	}
	return out, nil
}

// WriteOffsetCheckpoint writes one of the per-directory offset checkpoint
// files: "0", the count, then "topic partition offset" lines (sorted, which
// Kafka's readers do not require but makes the files comparable).
func WriteOffsetCheckpoint(fs segment.FS, path string, offsets map[model.TopicPartition]int64) error {
	tps := make([]model.TopicPartition, 0, len(offsets))
	for tp := range offsets {
		tps = append(tps, tp)
	}
	model.SortTopicPartitions(tps)
	lines := make([]string, len(tps))
	for i, tp := range tps {
		lines[i] = fmt.Sprintf("%s %d %d", tp.Topic, tp.Partition, offsets[tp])
	}
	return WriteFileAtomic(fs, path, formatCheckpoint(lines))
}

// ReadOffsetCheckpoint reads an offset checkpoint file; a missing file is
// empty. Malformed files are errors (Kafka then starts from offset 0 for the
// directory, which forces recovery; the caller decides).
func ReadOffsetCheckpoint(path string) (map[model.TopicPartition]int64, error) {
	entries, err := parseCheckpoint(path, 3)
	if err != nil {
		return nil, err
	}
	out := make(map[model.TopicPartition]int64, len(entries))
	for _, f := range entries {
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		o, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("malformed line in checkpoint file [%s]: %q", path, strings.Join(f, " "))
		}
		out[model.TopicPartition{Topic: f[0], Partition: int32(p)}] = o
	}
	return out, nil
}
