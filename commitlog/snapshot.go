package commitlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/segment"
)

// SnapshotSuffix names producer-state snapshot files (<offset>.snapshot,
// docs/format/producer-snapshot.md).
const SnapshotSuffix = ".snapshot"

// snapshotFiles is the set of .snapshot files of the partition directory
// (producer.Snapshots), listed once at open and kept up to date. Guarded by
// Log.mu.
type snapshotFiles struct {
	fs      segment.FS
	dir     string
	offsets []int64 // ascending
	// unsynced lists the snapshots written without fsync (at a roll); the
	// flusher fsyncs them with the segments below the roll point.
	unsynced []int64
}

func loadSnapshotFiles(fs segment.FS, dir string) (*snapshotFiles, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &segment.StorageError{Op: "readdir", Path: dir, Err: err}
	}
	sf := &snapshotFiles{fs: fs, dir: dir}
	for _, e := range entries {
		if off, suffix, ok := segment.ParseFileName(e.Name()); ok && suffix == SnapshotSuffix && e.Type().IsRegular() {
			sf.offsets = append(sf.offsets, off)
		}
	}
	sort.Slice(sf.offsets, func(i, j int) bool { return sf.offsets[i] < sf.offsets[j] })
	return sf, nil
}

func (sf *snapshotFiles) path(offset int64) string {
	return filepath.Join(sf.dir, segment.FileName(offset, SnapshotSuffix))
}

// Offsets lists the snapshot offsets, ascending.
func (sf *snapshotFiles) Offsets() []int64 { return append([]int64(nil), sf.offsets...) }

// Read returns a snapshot's bytes; a vanished file counts as corrupt (the
// loader drops it and tries an older one).
func (sf *snapshotFiles) Read(offset int64) ([]byte, error) {
	data, err := os.ReadFile(sf.path(offset))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("snapshot %s is gone: %w", sf.path(offset), producer.ErrCorruptSnapshot)
	}
	if err != nil {
		return nil, &segment.StorageError{Op: "read", Path: sf.path(offset), Err: err}
	}
	return data, nil
}

// Write creates the snapshot file at offset (as Kafka: in place, no
// temporary file; a torn file fails its CRC and is dropped at load).
func (sf *snapshotFiles) Write(offset int64, data []byte, sync bool) error {
	path := sf.path(offset)
	f, err := sf.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return &segment.StorageError{Op: "create", Path: path, Err: err}
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return &segment.StorageError{Op: "write", Path: path, Err: err}
	}
	if sync {
		if err := f.Sync(); err != nil {
			f.Close()
			return &segment.StorageError{Op: "fsync", Path: path, Err: err}
		}
	}
	if err := f.Close(); err != nil {
		return &segment.StorageError{Op: "close", Path: path, Err: err}
	}
	i := sort.Search(len(sf.offsets), func(i int) bool { return sf.offsets[i] >= offset })
	if i == len(sf.offsets) || sf.offsets[i] != offset {
		sf.offsets = append(sf.offsets, 0)
		copy(sf.offsets[i+1:], sf.offsets[i:])
		sf.offsets[i] = offset
	}
	if !sync {
		sf.unsynced = append(sf.unsynced, offset)
	}
	return nil
}

// Remove deletes the snapshot at offset.
func (sf *snapshotFiles) Remove(offset int64) error {
	i := sort.Search(len(sf.offsets), func(i int) bool { return sf.offsets[i] >= offset })
	if i == len(sf.offsets) || sf.offsets[i] != offset {
		return nil
	}
	path := sf.path(offset)
	if err := sf.fs.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return &segment.StorageError{Op: "remove", Path: path, Err: err}
	}
	sf.offsets = append(sf.offsets[:i], sf.offsets[i+1:]...)
	return nil
}

// takeUnsynced returns the paths of the snapshots written without fsync at
// or below offset and forgets them.
func (sf *snapshotFiles) takeUnsynced(offset int64) []string {
	var out []string
	kept := sf.unsynced[:0]
	for _, off := range sf.unsynced {
		if off <= offset {
			out = append(out, sf.path(off))
		} else {
			kept = append(kept, off)
		}
	}
	sf.unsynced = kept
	return out
}

// syncFileIfExists fsyncs a file that may have been deleted since.
func syncFileIfExists(fs segment.FS, path string) error {
	f, err := fs.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return &segment.StorageError{Op: "open", Path: path, Err: err}
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return &segment.StorageError{Op: "fsync", Path: path, Err: err}
	}
	return nil
}
