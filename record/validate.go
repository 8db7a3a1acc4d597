package record

import (
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
)

// NoTimestamp is Kafka's "no timestamp" value (-1).
const NoTimestamp int64 = -1

// Origin says who is appending, which decides the checks (Kafka's AppendOrigin).
type Origin int8

const (
	// FromClient is a producer's batch: every client check applies.
	FromClient Origin = iota
	// FromCoordinator is a batch written by a group or transaction
	// coordinator (control markers allowed, base offset not checked).
	FromCoordinator
)

// LeaderRules are the topic settings a leader validates a batch against.
type LeaderRules struct {
	Origin Origin
	// Now is the broker's clock in milliseconds.
	Now int64
	// TimestampType is the topic's message.timestamp.type.
	TimestampType TimestampType
	// TimestampBeforeMaxMs and TimestampAfterMaxMs bound CreateTime
	// timestamps (message.timestamp.before/after.max.ms); MaxInt64 = no bound.
	TimestampBeforeMaxMs int64
	TimestampAfterMaxMs  int64
	// MaxBatchBytes is max.message.bytes; 0 means no limit.
	MaxBatchBytes int
	// Compacted is true when cleanup.policy contains compact: records need keys.
	Compacted bool
	// Partition names the partition in error messages ("topic-0").
	Partition string
}

// DefaultLeaderRules has Kafka's topic defaults: CreateTime, no timestamp
// bounds, max.message.bytes 1048588.
func DefaultLeaderRules(now int64) LeaderRules {
	return LeaderRules{
		Now:                  now,
		TimestampBeforeMaxMs: math.MaxInt64,
		TimestampAfterMaxMs:  math.MaxInt64,
		MaxBatchBytes:        1048588,
	}
}

// Validated is what the leader learned from a batch that passed validation.
type Validated struct {
	// Records is the number of records iterated (= NumRecords).
	Records int32
	// MaxTimestamp is the largest record timestamp (NoTimestamp if none).
	MaxTimestamp int64
	// NeedsRebuild is set for a compressed batch whose inner offset deltas are
	// not 0..n-1: Kafka rewrites such a batch rather than rejecting it.
	NeedsRebuild bool
}

// checkLimits is the start of Kafka's analyzeAndValidateRecords: base
// offset 0 for client batches (INVALID_RECORD), then max.message.bytes
// (MESSAGE_TOO_LARGE).
func (b Batch) checkLimits(r LeaderRules) error {
	if r.Origin == FromClient && b.BaseOffset() != 0 {
		return invalid("The baseOffset of the record batch in the append to %s should be 0, but it is %d", r.Partition, b.BaseOffset())
	}
	if r.MaxBatchBytes > 0 && len(b) > r.MaxBatchBytes {
		return newError(kerr.MessageTooLarge, "The record batch size in the append to %s is %d bytes which exceeds the maximum configured value of %d.", r.Partition, len(b), r.MaxBatchBytes)
	}
	return nil
}

// checkIntegrity follows: the CRC (CORRUPT_MESSAGE), then a known codec.
func (b Batch) checkIntegrity() error {
	if err := b.Verify(); err != nil {
		return err
	}
	if !b.Compression().Known() {
		return ErrUnknownCodec(b.Compression())
	}
	return nil
}

// checkHeader is Kafka's LogValidator.validateBatch for client batches.
func (b Batch) checkHeader(r LeaderRules) error {
	if r.Origin != FromClient {
		return nil
	}
	last := b.LastOffset()
	countFromOffsets := int64(b.LastOffsetDelta()) + 1
	if countFromOffsets <= 0 {
		return invalid("Batch has an invalid offset range: [%d, %d] in topic partition %s", b.BaseOffset(), last, r.Partition)
	}
	count := b.NumRecords()
	if count <= 0 {
		return invalid("Invalid reported count for record batch: %d in topic partition %s", count, r.Partition)
	}
	if countFromOffsets != int64(count) {
		return invalid("Inconsistent batch offset range [%d, %d] and count of records %d in topic partition %s", b.BaseOffset(), last, count, r.Partition)
	}
	if b.IsControl() {
		return invalid("Clients are not allowed to write control records in topic partition %s", r.Partition)
	}
	if b.HasProducerID() && b.BaseSequence() < 0 {
		return invalid("Invalid sequence number %d in record batch with producerId %d in topic partition %s", b.BaseSequence(), b.ProducerID(), r.Partition)
	}
	return nil
}

// ValidateAsLeader runs every check a partition leader makes on a batch
// before assigning offsets, and returns what the assignment needs. Faults
// carry Kafka's error code: INVALID_RECORD, CORRUPT_MESSAGE,
// MESSAGE_TOO_LARGE, INVALID_TIMESTAMP (with per-record RecordErrors) or
// UNSUPPORTED_COMPRESSION_TYPE.
func (b Batch) ValidateAsLeader(r LeaderRules) (Validated, error) {
	if err := b.checkLimits(r); err != nil {
		return Validated{MaxTimestamp: NoTimestamp}, err
	}
	if err := b.checkIntegrity(); err != nil {
		return Validated{MaxTimestamp: NoTimestamp}, err
	}
	return b.validateRecords(r)
}

// validateRecords is LogValidator's part: the batch header rules for client
// batches, then every record (keys, timestamps, structure, count).
func (b Batch) validateRecords(r LeaderRules) (Validated, error) {
	v := Validated{MaxTimestamp: NoTimestamp}
	if err := b.checkHeader(r); err != nil {
		return v, err
	}
	it, err := b.Records()
	if err != nil {
		return v, err
	}
	defer it.Close()
	it.skim = true
	compressed := b.Compression() != CompressionNone
	var recErrs []RecordError
	timestampFault := false
	base := b.BaseTimestamp()
	logAppendTime := b.TimestampType() == LogAppendTime
	perRecordChecks := r.Compacted || logAppendTime ||
		(r.TimestampType == CreateTime && (r.TimestampBeforeMaxMs != math.MaxInt64 || r.TimestampAfterMaxMs != math.MaxInt64))
	for idx := int32(0); it.Next(); idx++ {
		rec := it.Record()
		ts := base + rec.TimestampDelta
		if logAppendTime {
			// Kafka reports every record of a LogAppendTime batch at the batch's max timestamp.
			ts = b.MaxTimestamp()
		}
		if perRecordChecks {
			if msg, isTS := checkRecord(b, r, rec, ts); msg != "" {
				recErrs = append(recErrs, RecordError{BatchIndex: idx, Message: msg})
				timestampFault = timestampFault || isTS
				continue
			}
		}
		v.MaxTimestamp = max(v.MaxTimestamp, ts)
		if compressed && b.BaseOffset()+int64(rec.OffsetDelta) != int64(idx) {
			v.NeedsRebuild = true
		}
		v.Records++
	}
	if err := it.Err(); err != nil {
		return v, err
	}
	if len(recErrs) > 0 {
		e := &Error{Code: kerr.InvalidRecord, RecordErrors: recErrs}
		e.Msg = fmt.Sprintf("One or more records have been rejected due to %d record errors in total, and only showing the first three errors at most: %v", len(recErrs), recErrs[:min(3, len(recErrs))])
		if timestampFault {
			e.Code = kerr.InvalidTimestamp
			e.Msg = "One or more records have been rejected due to invalid timestamp"
		}
		return v, e
	}
	return v, nil
}

// checkRecord is Kafka's validateKey + validateTimestamp for one record.
// It returns the fault message and whether it is a timestamp fault.
func checkRecord(b Batch, r LeaderRules, rec *Record, ts int64) (string, bool) {
	if r.Compacted && rec.Key == nil {
		return fmt.Sprintf("Compacted topic cannot accept message without key in topic partition %s.", r.Partition), false
	}
	if r.TimestampType == CreateTime && ts != NoTimestamp {
		diff := r.Now - ts
		if diff > r.TimestampBeforeMaxMs || -diff > r.TimestampAfterMaxMs {
			lo, hi := satSub(r.Now, r.TimestampBeforeMaxMs), satAdd(r.Now, r.TimestampAfterMaxMs)
			return fmt.Sprintf("Timestamp %d of message with offset %d is out of range. The timestamp should be within [%d, %d]",
				ts, b.BaseOffset()+int64(rec.OffsetDelta), lo, hi), true
		}
	} else if b.TimestampType() == LogAppendTime {
		return fmt.Sprintf("Invalid timestamp type in message with offset %d. Producer should not set timestamp type to LogAppendTime.", b.BaseOffset()+int64(rec.OffsetDelta)), true
	}
	return "", false
}

func satAdd(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satSub(a, b int64) int64 {
	if b > 0 && a < math.MinInt64+b {
		return math.MinInt64
	}
	return a - b
}

// ValidateAsFollower checks a batch a follower receives from its leader (or
// log recovery reads from disk): whole header and CRC (Kafka's ensureValid).
// Offsets are kept as they are and the codec is not decoded.
func (b Batch) ValidateAsFollower() error { return b.Verify() }
