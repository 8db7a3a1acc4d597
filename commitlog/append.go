package commitlog

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
)

// AppendInfo describes an append.
type AppendInfo struct {
	FirstOffset model.Offset
	LastOffset  model.Offset
	// MaxTimestamp is the largest timestamp appended (the append time for
	// LogAppendTime topics), -1 if none.
	MaxTimestamp int64
	// LogAppendTime is the broker time stamped on LogAppendTime batches, -1
	// for CreateTime.
	LogAppendTime  int64
	LogStartOffset model.Offset
	NumRecords     int
	Bytes          int
}

// AppendAsLeader validates one batch from a client (or a coordinator),
// assigns it the offsets from the log end, stamps leaderEpoch and, for
// LogAppendTime topics, the append time, and appends it. The batch bytes are
// patched in place (or replaced, when Kafka's rules require rebuilding it).
//
// Errors carry Kafka's codes: the validation faults of record.ValidateAsLeader,
// INVALID_RECORD for no batch or more than one, MESSAGE_TOO_LARGE,
// RECORD_LIST_TOO_LARGE for a batch larger than segment.bytes, and
// KAFKA_STORAGE_ERROR once a write failed.
func (l *Log) AppendAsLeader(records []byte, leaderEpoch model.LeaderEpoch, origin record.Origin) (AppendInfo, error) {
	b, rest, err := record.Next(records, 0)
	if err != nil {
		return AppendInfo{}, err
	}
	if b == nil {
		return AppendInfo{}, fmt.Errorf("record batch has no batches at all in the append to %s: %w", l.tp, kerr.InvalidRecord)
	}
	if more, _, _ := record.Next(rest, 0); more != nil {
		return AppendInfo{}, fmt.Errorf("compressed outer record has more than one batch in the append to %s: %w", l.tp, kerr.InvalidRecord)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return AppendInfo{}, err
	}
	now := l.now()
	rules := record.LeaderRules{
		Origin:               origin,
		Now:                  now,
		TimestampType:        l.cfg.TimestampType,
		TimestampBeforeMaxMs: l.cfg.TimestampBeforeMaxMs,
		TimestampAfterMaxMs:  l.cfg.TimestampAfterMaxMs,
		MaxBatchBytes:        l.cfg.MaxMessageBytes,
		Compacted:            l.cfg.CleanupCompact,
		Partition:            l.tp.String(),
	}
	v, err := b.ValidateAsLeader(rules)
	if err != nil {
		return AppendInfo{}, err
	}
	if v.NeedsRebuild {
		if b, err = record.Rebuild(b, b.Compression()); err != nil {
			return AppendInfo{}, err
		}
		if len(b) > l.cfg.MaxMessageBytes {
			return AppendInfo{}, fmt.Errorf("message batch size is %d bytes in append to partition %s which exceeds the maximum configured size of %d: %w",
				len(b), l.tp, l.cfg.MaxMessageBytes, kerr.MessageTooLarge)
		}
	}

	base := l.leo
	last := base + int64(v.Records) - 1
	b.SetLastOffset(last)
	b.SetPartitionLeaderEpoch(int32(leaderEpoch))
	info := AppendInfo{FirstOffset: model.Offset(base), LastOffset: model.Offset(last), LogAppendTime: -1, NumRecords: int(v.Records), Bytes: len(b)}
	if l.cfg.TimestampType == record.LogAppendTime {
		b.SetMaxTimestamp(record.LogAppendTime, now)
		info.MaxTimestamp, info.LogAppendTime = now, now
	} else {
		b.SetMaxTimestamp(record.CreateTime, v.MaxTimestamp)
		info.MaxTimestamp = v.MaxTimestamp
	}
	// Kafka records the batch's last offset with the max timestamp in the
	// time index (the "shallow" offset).
	if err := l.appendLocked(b, base, last, info.MaxTimestamp, last); err != nil {
		return AppendInfo{}, err
	}
	info.LogStartOffset = model.Offset(l.logStart)
	return info, nil
}

// AppendAsFollower appends batches that already carry their offsets (from
// the leader, or a coordinator replaying): every whole batch of records is
// CRC-checked, offsets must increase and start at or after the log end
// offset; bytes after the last whole batch are ignored.
func (l *Log) AppendAsFollower(records []byte) (AppendInfo, error) {
	batches, _, err := record.Split(records)
	if err != nil {
		return AppendInfo{}, err
	}
	if len(batches) == 0 {
		return AppendInfo{FirstOffset: -1, LastOffset: -1, MaxTimestamp: -1, LogAppendTime: -1}, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return AppendInfo{}, err
	}
	info := AppendInfo{FirstOffset: model.Offset(batches[0].BaseOffset()), MaxTimestamp: -1, LogAppendTime: -1}
	shallow := int64(-1)
	prevLast := int64(-1)
	size := 0
	for _, b := range batches {
		if err := b.Verify(); err != nil {
			return AppendInfo{}, fmt.Errorf("record is corrupt (stored crc = %d) in topic partition %s: %w", b.CRC(), l.tp, kerr.CorruptMessage)
		}
		// Batches must not overlap: recovery drops anything that does,
		// so accepting it would lose acknowledged data at the next crash.
		if b.LastOffsetDelta() < 0 || b.BaseOffset() <= prevLast {
			return AppendInfo{}, fmt.Errorf("out of order offsets found in append to %s: batch [%d, %d] after offset %d: %w",
				l.tp, b.BaseOffset(), b.LastOffset(), prevLast, kerr.UnknownServerError)
		}
		prevLast = b.LastOffset()
		if b.MaxTimestamp() > info.MaxTimestamp {
			info.MaxTimestamp, shallow = b.MaxTimestamp(), b.LastOffset()
		}
		info.NumRecords += int(b.LastOffsetDelta()) + 1
		size += len(b)
	}
	if int64(info.FirstOffset) < l.leo {
		return AppendInfo{}, fmt.Errorf("unexpected offset in append to %s: first offset %d is less than the next offset %d; log start offset = %d: %w",
			l.tp, info.FirstOffset, l.leo, l.logStart, kerr.UnknownServerError)
	}
	info.LastOffset = model.Offset(prevLast)
	info.Bytes = size
	chunk := records[:size]
	if err := l.appendLocked(chunk, int64(info.FirstOffset), prevLast, info.MaxTimestamp, shallow); err != nil {
		return AppendInfo{}, err
	}
	info.LogStartOffset = model.Offset(l.logStart)
	return info, nil
}

// appendLocked writes a validated chunk whose offsets are [first, last]:
// size check against segment.bytes, leader epochs into the cache, roll if
// needed, segment append, log end offset, flush.messages.
func (l *Log) appendLocked(chunk []byte, first, last, maxTimestamp, shallowOffsetOfMax int64) error {
	if int64(len(chunk)) > l.cfg.SegmentBytes {
		return fmt.Errorf("message batch size is %d bytes in append to partition %s, which exceeds the maximum configured segment size of %d: %w",
			len(chunk), l.tp, l.cfg.SegmentBytes, kerr.RecordListTooLarge)
	}
	for rest := chunk; len(rest) > 0; {
		b, r, _ := record.Next(rest, 0)
		if b == nil {
			break
		}
		if err := l.epochs.Assign(model.LeaderEpoch(b.PartitionLeaderEpoch()), model.Offset(b.BaseOffset())); err != nil {
			return l.fail(err)
		}
		rest = r
	}
	if err := l.maybeRoll(len(chunk), maxTimestamp, first, last); err != nil {
		return l.fail(err)
	}
	if err := l.active().Append(last, maxTimestamp, shallowOffsetOfMax, chunk); err != nil {
		return l.fail(err)
	}
	l.leo = last + 1
	if l.leo-l.recoveryPoint >= l.cfg.FlushMessages {
		return l.flushLocked(l.leo)
	}
	return nil
}
