package commitlog

import "errors"

// Close fsyncs everything, writes the producer-state snapshot at the log
// end offset (so the next open need not read the log), writes the final
// time-index entries, trims the indexes and closes the files; pending
// .deleted files are removed now. It waits for the flusher. The log must
// not be used afterwards.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	var err error
	if l.failed == nil {
		err = l.flushLocked(l.leo)
		if err == nil {
			err = l.writeCloseSnapshotLocked()
		}
	}
	l.closed = true
	close(l.flushReq)
	l.mu.Unlock()
	<-l.flushDone

	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	errs = append(errs, err, l.failed)
	for _, s := range l.segments {
		errs = append(errs, s.Close())
	}
	for _, p := range l.pending {
		errs = append(errs, p.seg.DeleteFiles())
	}
	l.pending = nil
	return errors.Join(errs...)
}

// writeCloseSnapshotLocked writes the snapshot at the log end offset, if
// there is none there yet, with its directory entry made durable before the
// log directory's clean-shutdown marker.
func (l *Log) writeCloseSnapshotLocked() error {
	wrote, err := l.producers.TakeSnapshot(true)
	if err == nil && wrote {
		err = SyncDir(l.fs, l.dir)
	}
	return l.fail(err)
}
