package logdir

import (
	"os"
	"path/filepath"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/segment"
)

// CleanShutdownFile marks a directory whose logs were all flushed and closed.
const CleanShutdownFile = ".kafka_cleanshutdown"

// takeCleanShutdownMarker reports whether the marker exists and deletes it
// at once, so that a crash while loading counts as an unclean shutdown.
func takeCleanShutdownMarker(fs segment.FS, dir string) (bool, error) {
	path := filepath.Join(dir, CleanShutdownFile)
	if _, err := os.Stat(path); os.IsNotExist(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if err := fs.Remove(path); err != nil {
		return false, &segment.StorageError{Op: "remove", Path: path, Err: err}
	}
	return true, commitlog.SyncDir(fs, dir)
}

// writeCleanShutdownMarker writes the marker as a ZooKeeper-mode Kafka 3.7+
// broker does: {"version":0,"brokerEpoch":-1} (only KRaft brokers record a
// real epoch there). Only the file's existence matters to readers.
func writeCleanShutdownMarker(fs segment.FS, dir string) error {
	return commitlog.WriteFileAtomic(fs, filepath.Join(dir, CleanShutdownFile), []byte(`{"version":0,"brokerEpoch":-1}`))
}
