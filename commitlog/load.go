package commitlog

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// load brings the directory to a consistent state (Kafka's LogLoader):
//  1. delete *.deleted and *.cleaned files; complete interrupted swaps;
//  2. delete index files without a .log; open every segment;
//  3. without a clean shutdown, recover every segment from the one holding
//     the recovery point on; a truncated segment deletes all later ones;
//  4. start over at the log start offset if the log ends before it;
//  5. activate the last segment; trim the epoch cache to [start, LEO);
//  6. load the producer state: newest snapshot at or below the LEO, then
//     the batches after it.
func (l *Log) load(opts Options) error {
	if _, err := os.Stat(l.dir); os.IsNotExist(err) {
		if err := os.MkdirAll(l.dir, 0o755); err != nil {
			return &segment.StorageError{Op: "mkdir", Path: l.dir, Err: err}
		}
		// A new partition directory must survive a crash like its files.
		if err := SyncDir(l.fs, filepath.Dir(l.dir)); err != nil {
			return err
		}
	}
	bases, err := l.resolveStrayFiles()
	if err != nil {
		return err
	}
	if l.snaps, err = loadSnapshotFiles(l.fs, l.dir); err != nil {
		return err
	}
	l.producers = l.newProducerState()
	if err := createIfMissing(l.fs, filepath.Join(l.dir, LeaderEpochCheckpoint)); err != nil {
		return err
	}
	rebuildEpochs := false
	if l.epochs, err = LoadEpochCache(l.fs, l.dir, l.log); err != nil {
		l.log.Warn().Err(err).Msg("leader epoch checkpoint unreadable; rebuilding it from the batches in the log")
		l.epochs = &EpochCache{fs: l.fs, path: filepath.Join(l.dir, LeaderEpochCheckpoint), log: l.log}
		rebuildEpochs = true
	}
	for _, base := range bases {
		s, err := segment.Open(l.fs, l.dir, base, l.cfg.segmentConfig(), l.now())
		if err != nil {
			return err
		}
		l.adopt(s)
		l.segments = append(l.segments, s)
	}
	for i := 0; i+1 < len(l.segments); i++ {
		l.segments[i].SetNextBase(l.segments[i+1].BaseOffset())
	}

	if rebuildEpochs {
		for _, s := range l.segments {
			if err := s.ForEachBatchHeader(l.assignRecoveredEpoch); err != nil {
				return err
			}
		}
	}
	recoveryPoint := opts.RecoveryPoint
	if !opts.HadCleanShutdown {
		if err := l.recover(recoveryPoint, opts.LogStartOffset); err != nil {
			return err
		}
	}
	if len(l.segments) > 0 {
		l.leo, err = l.active().ReadNextOffset()
		var bad *record.Error
		if errors.As(err, &bad) {
			// The last segment does not end with a whole valid batch even
			// though it was not due for recovery: recover it rather than
			// trust it.
			l.log.Warn().Err(err).Msg("the last segment has an invalid tail; recovering it")
			res, rerr := l.active().Recover(l.assignRecoveredEpoch)
			if rerr != nil {
				return rerr
			}
			l.leo, err = res.NextOffset, nil
		}
		if err != nil {
			return err
		}
	}
	if len(l.segments) > 0 && l.leo < opts.LogStartOffset {
		l.log.Warn().Int64("logEndOffset", l.leo).Int64("logStartOffset", opts.LogStartOffset).
			Msg("deleting all segments because the log end offset is smaller than the log start offset; segment files may have been deleted from the file system")
		for _, s := range l.segments {
			if err := s.DeleteFiles(); err != nil {
				return err
			}
		}
		l.segments = nil
		if err := l.epochs.Clear(); err != nil {
			return err
		}
		if err := l.producers.TruncateFullyAndStartAt(opts.LogStartOffset); err != nil {
			return err
		}
	}
	if len(l.segments) == 0 {
		s, err := l.newSegment(opts.LogStartOffset)
		if err != nil {
			return err
		}
		l.segments = append(l.segments, s)
		l.leo = opts.LogStartOffset
	} else if err := l.active().Activate(); err != nil {
		return err
	}
	l.logStart = max(opts.LogStartOffset, l.segments[0].BaseOffset())
	if opts.HadCleanShutdown {
		l.recoveryPoint = l.leo
	} else {
		l.recoveryPoint = min(recoveryPoint, l.leo)
	}
	l.recoveryPoint = max(l.recoveryPoint, l.logStart)
	l.hw = min(max(opts.HighWatermark, l.logStart), l.leo)
	if err := l.epochs.TruncateFromEnd(model.Offset(l.leo)); err != nil {
		return err
	}
	if err := l.epochs.TruncateFromStart(model.Offset(l.logStart)); err != nil {
		return err
	}
	// Producer state: drop snapshots that match no segment (but the one a
	// clean shutdown wrote at the end), then load the newest one at or
	// below the log end offset and replay the log after it.
	segBases := make([]int64, len(l.segments))
	for i, s := range l.segments {
		segBases[i] = s.BaseOffset()
	}
	if err := l.producers.RemoveStraySnapshots(segBases); err != nil {
		return err
	}
	if err := l.rebuildProducerState(l.producers, l.leo, l.logStart, opts.HadCleanShutdown); err != nil {
		return err
	}
	// Kafka sets the checkpointed high watermark after loading, which
	// forgets the replayed transactions whose markers are below it.
	l.producers.OnHighWatermarkUpdated(l.hw)
	return nil
}

// resolveStrayFiles removes leftovers of interrupted deletions and cleanings
// and returns the base offsets of the segments to open, in order.
func (l *Log) resolveStrayFiles() ([]int64, error) {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, &segment.StorageError{Op: "readdir", Path: l.dir, Err: err}
	}
	remove := func(name string) error {
		if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return &segment.StorageError{Op: "remove", Path: filepath.Join(l.dir, name), Err: err}
		}
		return nil
	}
	minCleaned := int64(-1)
	var swaps []string
	logs := map[int64]bool{}
	indexes := map[int64][]string{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		base, suffix, ok := segment.ParseFileName(name)
		switch {
		case strings.HasSuffix(name, segment.DeletedSuffix):
			if err := remove(name); err != nil {
				return nil, err
			}
		case strings.HasSuffix(name, segment.CleanedSuffix):
			if ok && (minCleaned < 0 || base < minCleaned) {
				minCleaned = base
			}
			if err := remove(name); err != nil {
				return nil, err
			}
		case strings.HasSuffix(name, segment.SwapSuffix):
			swaps = append(swaps, name)
		case ok && suffix == segment.LogSuffix:
			logs[base] = true
		case ok && (suffix == segment.IndexSuffix || suffix == segment.TimeIndexSuffix || suffix == segment.TxnIndexSuffix):
			indexes[base] = append(indexes[base], name)
		}
	}
	if err := l.completeSwaps(swaps, minCleaned, logs, indexes); err != nil {
		return nil, err
	}
	for base, names := range indexes {
		if logs[base] {
			continue
		}
		for _, name := range names {
			l.log.Warn().Str("file", name).Msg("found an orphaned index file, with no corresponding log file; deleting it")
			if err := remove(name); err != nil {
				return nil, err
			}
		}
	}
	bases := make([]int64, 0, len(logs))
	for b := range logs {
		bases = append(bases, b)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases, nil
}

// completeSwaps finishes a swap the cleaner left half done: swap files at or
// after the smallest .cleaned offset are an unfinished split and deleted;
// the others replace the segments they cover and lose their .swap suffix.
func (l *Log) completeSwaps(swaps []string, minCleaned int64, logs map[int64]bool, indexes map[int64][]string) error {
	type swapLog struct{ base, next int64 }
	var logSwaps []swapLog
	var keep []string
	for _, name := range swaps {
		base, _, ok := segment.ParseFileName(name)
		path := filepath.Join(l.dir, name)
		if !ok || (minCleaned >= 0 && base >= minCleaned) {
			if err := l.fs.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return &segment.StorageError{Op: "remove", Path: path, Err: err}
			}
			continue
		}
		keep = append(keep, name)
		if strings.HasSuffix(name, segment.LogSuffix+segment.SwapSuffix) {
			next, err := nextOffsetOfFile(path, base)
			if err != nil {
				return err
			}
			logSwaps = append(logSwaps, swapLog{base, next})
		}
	}
	if len(logSwaps) == 0 {
		return nil
	}
	lo, hi := logSwaps[0].base, logSwaps[0].next
	for _, s := range logSwaps {
		lo, hi = min(lo, s.base), max(hi, s.next)
	}
	for base := range logs {
		if base >= lo && base < hi {
			for _, suf := range []string{segment.LogSuffix, segment.IndexSuffix, segment.TimeIndexSuffix, segment.TxnIndexSuffix} {
				p := filepath.Join(l.dir, segment.FileName(base, suf))
				if err := l.fs.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					return &segment.StorageError{Op: "remove", Path: p, Err: err}
				}
			}
			delete(logs, base)
			delete(indexes, base)
		}
	}
	for _, name := range keep {
		final := strings.TrimSuffix(name, segment.SwapSuffix)
		if err := l.fs.Rename(filepath.Join(l.dir, name), filepath.Join(l.dir, final)); err != nil {
			return &segment.StorageError{Op: "rename", Path: name, Err: err}
		}
		base, suffix, _ := segment.ParseFileName(final)
		if suffix == segment.LogSuffix {
			logs[base] = true
		} else {
			indexes[base] = append(indexes[base], final)
		}
	}
	l.log.Info().Int64("from", lo).Int64("to", hi).Msg("completed an interrupted segment swap")
	return nil
}

// nextOffsetOfFile walks the batch headers of a .log file and returns the
// offset after its last whole batch.
func nextOffsetOfFile(path string, base int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, &segment.StorageError{Op: "open", Path: path, Err: err}
	}
	defer f.Close()
	next := base
	var hdr [record.HeaderSize]byte
	for pos := int64(0); ; {
		n, err := f.ReadAt(hdr[:], pos)
		if n < record.HeaderSize {
			if err != nil && err != io.EOF {
				return 0, &segment.StorageError{Op: "read", Path: path, Err: err}
			}
			return next, nil
		}
		total, err := record.Peek(hdr[:], 0)
		if err != nil || total == 0 {
			return next, nil
		}
		next = record.Batch(hdr[:]).NextOffset()
		pos += int64(total)
	}
}

// recover recovers the segments from the one holding recoveryPoint to the
// end. A segment whose tail was cut makes every later segment go: data after
// a torn write cannot be trusted to be contiguous. As in Kafka, each segment
// is recovered with a producer state rebuilt up to its base offset, fed its
// valid batches and snapshotted at its end, so the next one (and the final
// load) starts from there.
func (l *Log) recover(recoveryPoint, logStartCheckpoint int64) error {
	start := max(l.floorSegment(recoveryPoint), 0)
	for i := start; i < len(l.segments); i++ {
		s := l.segments[i]
		ps := l.newProducerState()
		if err := l.rebuildProducerState(ps, s.BaseOffset(), logStartCheckpoint, false); err != nil {
			return err
		}
		// The .txnindex is rebuilt from the markers, as Kafka's
		// LogSegment.recover resets it and re-adds every aborted one.
		if err := s.ResetTxnIndex(); err != nil {
			return err
		}
		var aborted []segment.AbortedTxn
		res, err := s.Recover(func(b record.Batch) error {
			if err := l.assignRecoveredEpoch(b); err != nil {
				return err
			}
			return recoveredBatch(ps, b, &aborted)
		})
		if err != nil {
			return err
		}
		for _, a := range aborted {
			if err := s.AppendAbortedTxn(a); err != nil {
				return err
			}
		}
		if _, err := ps.TakeSnapshot(true); err != nil {
			return err
		}
		if res.TruncatedBytes == 0 && i+1 < len(l.segments) && res.NextOffset > l.segments[i+1].BaseOffset() {
			return fmt.Errorf("segment %d holds offsets up to %d, past the next segment's base %d", s.BaseOffset(), res.NextOffset, l.segments[i+1].BaseOffset())
		}
		if res.TruncatedBytes > 0 {
			l.log.Warn().Int64("segment", s.BaseOffset()).Int64("truncatedBytes", res.TruncatedBytes).
				Int64("nextOffset", res.NextOffset).Str("reason", res.Reason).
				Msg("corruption found in segment; truncating after the last valid batch")
			for _, later := range l.segments[i+1:] {
				l.log.Warn().Int64("segment", later.BaseOffset()).Msg("deleting segment after a truncated one")
				if err := later.DeleteFiles(); err != nil {
					return err
				}
				if err := l.snaps.Remove(later.BaseOffset()); err != nil {
					return err
				}
			}
			l.segments = l.segments[:i+1]
			l.segments[i].SetNextBase(-1)
			return nil
		}
	}
	return nil
}

// assignRecoveredEpoch adds a recovered batch's leader epoch to the cache
// when it is newer than the latest known one (Kafka's recovery rule).
func (l *Log) assignRecoveredEpoch(b record.Batch) error {
	epoch := model.LeaderEpoch(b.PartitionLeaderEpoch())
	if latest, ok := l.epochs.Latest(); epoch >= 0 && (!ok || epoch > latest.Epoch) {
		return l.epochs.Assign(epoch, model.Offset(b.BaseOffset()))
	}
	return nil
}
