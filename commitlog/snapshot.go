package commitlog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/kbroker/kbroker/segment"
)

// SnapshotSuffix names producer-state snapshot files (<offset>.snapshot).
// kbroker does not write them yet, but it keeps the ones it finds (written
// by Kafka) consistent with the log, as Kafka does: a snapshot past a
// truncation point, or of a deleted segment, is removed.
const SnapshotSuffix = ".snapshot"

// removeSnapshots deletes the snapshot files whose offset satisfies drop.
func (l *Log) removeSnapshots(drop func(offset int64) bool) error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return &segment.StorageError{Op: "readdir", Path: l.dir, Err: err}
	}
	for _, e := range entries {
		off, suffix, ok := segment.ParseFileName(e.Name())
		if !ok || suffix != SnapshotSuffix || !drop(off) {
			continue
		}
		path := filepath.Join(l.dir, e.Name())
		if err := l.fs.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return &segment.StorageError{Op: "remove", Path: path, Err: err}
		}
		l.log.Info().Str("file", strings.TrimPrefix(path, l.dir+"/")).Msg("removed producer snapshot")
	}
	return nil
}
