package logdir

import (
	"os"
	"path/filepath"
	"time"

	"github.com/kbroker/kbroker/commitlog"
)

// runTasks is the directory's scheduler: retention, flush.ms, checkpoints,
// removal of .deleted files and -delete directories.
func (d *Dir) runTasks() {
	defer close(d.tasksExited)
	start := d.now()
	nextRetention := start + d.opts.InitialTaskDelayMs
	nextRecovery := start + d.opts.RecoveryCheckpointIntervalMs
	nextStart := start + d.opts.StartOffsetCheckpointIntervalMs
	nextHW := start + d.opts.HighWatermarkCheckpointMs
	tick := time.NewTicker(time.Duration(max(d.opts.TickMs, 1)) * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-tick.C:
		}
		now := d.now()
		if now >= nextRetention {
			d.RunRetention()
			nextRetention = now + d.opts.RetentionCheckIntervalMs
		}
		d.flushAndRemoveDeleted()
		d.mu.Lock()
		recovery, starts, hw := now >= nextRecovery, now >= nextStart, now >= nextHW
		if recovery || starts || hw {
			if err := d.writeCheckpointsLocked(recovery, hw, starts); err != nil {
				d.log.Error().Err(err).Msg("writing checkpoints")
			}
		}
		d.mu.Unlock()
		if recovery {
			nextRecovery = now + d.opts.RecoveryCheckpointIntervalMs
		}
		if starts {
			nextStart = now + d.opts.StartOffsetCheckpointIntervalMs
		}
		if hw {
			nextHW = now + d.opts.HighWatermarkCheckpointMs
		}
	}
}

// logsSnapshot returns the logs under the lock, to work on them after.
func (d *Dir) logsSnapshot() []*commitlog.Log {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]*commitlog.Log, 0, len(d.logs))
	for _, l := range d.logs {
		out = append(out, l)
	}
	return out
}

// RunRetention deletes old segments of every log (Kafka's kafka-log-retention
// task) and returns how many were deleted.
func (d *Dir) RunRetention() int {
	total := 0
	for _, l := range d.logsSnapshot() {
		n, err := l.DeleteOldSegments()
		total += n
		if err != nil {
			d.reportLogError(l, err)
		}
	}
	return total
}

func (d *Dir) flushAndRemoveDeleted() {
	for _, l := range d.logsSnapshot() {
		if err := l.FlushIfDue(); err != nil {
			d.reportLogError(l, err)
		}
		if _, err := l.RemoveDeletedFiles(); err != nil {
			d.reportLogError(l, err)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for name, due := range d.deleteDirs {
		if due > now {
			continue
		}
		path := filepath.Join(d.path, name)
		if err := os.RemoveAll(path); err != nil {
			d.log.Error().Err(err).Str("dir", path).Msg("removing a deleted partition directory")
			continue
		}
		delete(d.deleteDirs, name)
		d.log.Info().Str("dir", path).Msg("removed deleted partition directory")
	}
}

func (d *Dir) reportLogError(l *commitlog.Log, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l.Err() != nil {
		d.failLocked(l.Err())
		return
	}
	d.log.Error().Err(err).Str("partition", l.TopicPartition().String()).Msg("log task failed")
}
