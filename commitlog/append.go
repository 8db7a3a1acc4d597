package commitlog

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/producer"
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
	LogAppendTime int64
	// Duplicate is set when a leader append from a client repeated one of
	// the producer's last five batches: nothing was written, and
	// FirstOffset, LastOffset and LogAppendTime are those of the original
	// batch (LogAppendTime is its max timestamp whatever the topic's
	// timestamp type, as Kafka answers).
	Duplicate      bool
	LogStartOffset model.Offset
	NumRecords     int
	Bytes          int
}

// AppendAsLeader validates one batch from a client (or a coordinator),
// assigns it the offsets from the log end, stamps leaderEpoch and, for
// LogAppendTime topics, the append time, and appends it. The batch bytes are
// patched in place (or replaced, when Kafka's rules require rebuilding it).
//
// A batch with a producer id is then checked against the producer state
// (package producer): a client's retry of one of the producer's last five
// batches is not written and is answered with the original offsets
// (AppendInfo.Duplicate).
//
// Errors carry Kafka's codes: the validation faults of record.ValidateAsLeader,
// INVALID_RECORD for no batch or more than one, MESSAGE_TOO_LARGE,
// RECORD_LIST_TOO_LARGE for a batch larger than segment.bytes,
// INVALID_PRODUCER_EPOCH, OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_TXN_STATE,
// TRANSACTION_COORDINATOR_FENCED, and KAFKA_STORAGE_ERROR once a write failed.
func (l *Log) AppendAsLeader(records []byte, leaderEpoch model.LeaderEpoch, origin record.Origin) (AppendInfo, error) {
	return l.AppendAsLeaderGuarded(records, leaderEpoch, origin, producer.NoGuard)
}

// AppendAsLeaderGuarded is AppendAsLeader with the guard of the
// transaction verification the batch passed (producer.NoGuard if none):
// with transaction verification on, a transactional batch of a producer
// without an open transaction here is refused (INVALID_TXN_STATE) unless
// guard is the producer's pending verification's (txnverify.go).
func (l *Log) AppendAsLeaderGuarded(records []byte, leaderEpoch model.LeaderEpoch, origin record.Origin, guard producer.Guard) (AppendInfo, error) {
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
	if err := l.prepareAppendLocked(b, base, last, info.MaxTimestamp); err != nil {
		return AppendInfo{}, err
	}
	var updates *producer.Updates
	if b.HasProducerID() {
		if origin == record.FromClient {
			if dup, ok := l.producers.FindDuplicate(b.ProducerID(), b.ProducerEpoch(), b.BaseSequence(), b.LastSequence()); ok {
				info.Duplicate = true
				info.FirstOffset, info.LastOffset = model.Offset(dup.FirstOffset()), model.Offset(dup.LastOffset)
				info.LogAppendTime = dup.Timestamp
				info.LogStartOffset = model.Offset(l.logStart)
				return info, nil
			}
		}
		if err := l.checkVerifiedLocked(b, guard); err != nil {
			return AppendInfo{}, err
		}
		updates = l.producers.NewUpdates(producerOrigin(origin))
		if err := updates.Add(b); err != nil {
			return AppendInfo{}, err
		}
	}
	// Kafka records the batch's last offset with the max timestamp in the
	// time index (the "shallow" offset).
	if err := l.writeLocked(b, last, info.MaxTimestamp, last, updates); err != nil {
		return AppendInfo{}, err
	}
	info.LogStartOffset = model.Offset(l.logStart)
	return info, nil
}

func producerOrigin(o record.Origin) producer.Origin {
	if o == record.FromCoordinator {
		return producer.FromCoordinator
	}
	return producer.FromClient
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
	if err := l.prepareAppendLocked(chunk, int64(info.FirstOffset), prevLast, info.MaxTimestamp); err != nil {
		return AppendInfo{}, err
	}
	var updates *producer.Updates
	for _, b := range batches {
		if !b.HasProducerID() {
			continue
		}
		if updates == nil {
			updates = l.producers.NewUpdates(producer.FromReplication)
		}
		if err := updates.Add(b); err != nil {
			return AppendInfo{}, err
		}
	}
	if err := l.writeLocked(chunk, prevLast, info.MaxTimestamp, shallow, updates); err != nil {
		return AppendInfo{}, err
	}
	info.LogStartOffset = model.Offset(l.logStart)
	return info, nil
}

// prepareAppendLocked readies the log for a validated chunk whose offsets
// are [first, last]: size check against segment.bytes, leader epochs into
// the cache, roll if needed. The producer state is checked after it, as in
// Kafka.
func (l *Log) prepareAppendLocked(chunk []byte, first, last, maxTimestamp int64) error {
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
	return l.fail(l.maybeRoll(len(chunk), maxTimestamp, first, last))
}

// writeLocked appends the chunk to the active segment, moves the log end
// offset, applies the producer updates (nil when no batch had a producer
// id) and checks flush.messages.
func (l *Log) writeLocked(chunk []byte, last, maxTimestamp, shallowOffsetOfMax int64, updates *producer.Updates) error {
	if err := l.active().Append(last, maxTimestamp, shallowOffsetOfMax, chunk); err != nil {
		return l.fail(err)
	}
	l.leo = last + 1
	if updates != nil {
		updates.Apply()
		// Each marker closes a transaction; an aborted one goes into the
		// .txnindex of the segment holding the marker, with the last stable
		// offset right after it (Kafka's UnifiedLog.append).
		seg := l.active()
		if err := updates.CompleteTxns(func(c producer.CompletedTxn, lso int64) error {
			if !c.IsAborted {
				return nil
			}
			return seg.AppendAbortedTxn(abortedTxn(c, lso))
		}); err != nil {
			return l.fail(err)
		}
	}
	l.producers.SetMapEndOffset(l.leo)
	if l.leo-l.recoveryPoint >= l.cfg.FlushMessages {
		return l.flushLocked(l.leo)
	}
	return nil
}
