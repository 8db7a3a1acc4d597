package record_test

// Leader validation (UnifiedLog.analyzeAndValidateRecords + LogValidator),
// asserting Kafka's exact error code for each fault.

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/record"
)

const now = int64(1_700_000_000_000)

func rules() record.LeaderRules {
	r := record.DefaultLeaderRules(now)
	r.Partition = "topic-0"
	return r
}

// patched builds a batch and applies edits to its bytes, then recomputes
// the CRC unless keepCRC.
func patched(t *testing.T, spec record.BatchSpec, recs []record.NewRecord, keepCRC bool, edit func(b []byte)) record.Batch {
	t.Helper()
	b := mustBuild(t, spec, recs)
	edit(b)
	if !keepCRC {
		fixCRC(b)
	}
	return b
}

func withCodec(c record.Compression) record.BatchSpec {
	s := record.NewSpec()
	s.Compression = c
	return s
}

// tsRecords are records with the given absolute timestamps and keys.
func tsRecords(ts ...int64) []record.NewRecord {
	recs := make([]record.NewRecord, len(ts))
	for i, x := range ts {
		recs[i] = record.NewRecord{Timestamp: x, Key: []byte{'k', byte(i)}, Value: []byte("v")}
	}
	return recs
}

type validateCase struct {
	name       string
	batch      func(t *testing.T) record.Batch
	rules      func() record.LeaderRules
	code       *kerr.Error // nil: valid
	msg        string      // substring of the error message, when set
	recordErrs []int32     // expected RecordErrors batch indexes
}

func validateCases() []validateCase {
	plain := func(c record.Compression) func(t *testing.T) record.Batch {
		return func(t *testing.T) record.Batch { return mustBuild(t, withCodec(c), tsRecords(now, now+1, now-1)) }
	}
	var cases []validateCase
	for _, c := range allCodecs {
		cn := c.String()
		cases = append(cases,
			validateCase{name: cn + "/valid", batch: plain(c)},
			validateCase{
				name: cn + "/base offset 5 from a client",
				batch: func(t *testing.T) record.Batch {
					b := plain(c)(t)
					b.SetBaseOffset(5)
					return b
				},
				code: kerr.InvalidRecord, msg: "should be 0, but it is 5",
			},
			validateCase{
				name: cn + "/lastOffsetDelta+1 != count",
				batch: func(t *testing.T) record.Batch {
					return patched(t, withCodec(c), tsRecords(now, now, now), false, func(b []byte) { putI32(b, posLastDelta, 3) })
				},
				code: kerr.InvalidRecord, msg: "Inconsistent batch offset range",
			},
			validateCase{
				name: cn + "/more records declared than present",
				batch: func(t *testing.T) record.Batch {
					return patched(t, withCodec(c), tsRecords(now, now, now), false, func(b []byte) {
						putI32(b, posLastDelta, 3)
						putI32(b, posCount, 4)
					})
				},
				code: kerr.InvalidRecord, msg: "premature EOF",
			},
			validateCase{
				name: cn + "/bytes after the declared records",
				batch: func(t *testing.T) record.Batch {
					return patched(t, withCodec(c), tsRecords(now, now, now), false, func(b []byte) {
						putI32(b, posLastDelta, 1)
						putI32(b, posCount, 2)
					})
				},
				code: kerr.InvalidRecord, msg: "records still remaining",
			},
			validateCase{
				name: cn + "/compacted topic, null keys",
				batch: func(t *testing.T) record.Batch {
					recs := tsRecords(now, now, now, now)
					recs[1].Key, recs[3].Key = nil, nil
					recs[2].Key = []byte{} // empty is a key
					return mustBuild(t, withCodec(c), recs)
				},
				rules: func() record.LeaderRules { r := rules(); r.Compacted = true; return r },
				code:  kerr.InvalidRecord, msg: "Compacted topic cannot accept message without key", recordErrs: []int32{1, 3},
			},
		)
	}
	for _, id := range []int16{5, 6, 7} {
		cases = append(cases, validateCase{
			name: "codec id " + string(rune('0'+id)),
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), false, func(b []byte) { putI16(b, posAttributes, id) })
			},
			code: kerr.UnknownServerError, msg: "Unknown compression type id",
		})
	}
	cases = append(cases,
		validateCase{
			name:  "size above max.message.bytes",
			batch: plain(record.CompressionNone),
			rules: func() record.LeaderRules {
				r := rules()
				r.MaxBatchBytes = 80
				return r
			},
			code: kerr.MessageTooLarge, msg: "exceeds the maximum configured value of 80",
		},
		validateCase{
			name: "size equal to max.message.bytes",
			batch: func(t *testing.T) record.Batch {
				b := mustBuild(t, record.NewSpec(), []record.NewRecord{{Timestamp: now, Value: make([]byte, 32)}})
				if len(b) != 100 {
					t.Fatalf("batch has %d bytes, want 100", len(b))
				}
				return b
			},
			rules: func() record.LeaderRules {
				r := rules()
				r.MaxBatchBytes = 100
				return r
			},
		},
		validateCase{
			name: "size one above max.message.bytes",
			batch: func(t *testing.T) record.Batch {
				return mustBuild(t, record.NewSpec(), []record.NewRecord{{Timestamp: now, Value: make([]byte, 32)}})
			},
			rules: func() record.LeaderRules {
				r := rules()
				r.MaxBatchBytes = 99
				return r
			},
			code: kerr.MessageTooLarge, msg: "is 100 bytes which exceeds the maximum configured value of 99",
		},
		validateCase{
			name: "bad CRC",
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), true, func(b []byte) { b[len(b)-1] ^= 1 })
			},
			code: kerr.CorruptMessage, msg: "is corrupt",
		},
		// Kafka's order: base offset, then size, then CRC.
		validateCase{
			name: "base offset and bad CRC: base offset first",
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), true, func(b []byte) { b[len(b)-1] ^= 1; putI64(b, 0, 1) })
			},
			code: kerr.InvalidRecord,
		},
		validateCase{
			name: "too large and bad CRC: size first",
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), true, func(b []byte) { b[len(b)-1] ^= 1 })
			},
			rules: func() record.LeaderRules { r := rules(); r.MaxBatchBytes = 61; return r },
			code:  kerr.MessageTooLarge,
		},
		validateCase{
			name: "bad CRC and unknown codec: CRC first",
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), true, func(b []byte) {
					putI16(b, posAttributes, 6)
					fixCRC(b)
					b[posCRC] ^= 1
				})
			},
			code: kerr.CorruptMessage,
		},
		validateCase{
			name: "lastOffsetDelta -1",
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), false, func(b []byte) { putI32(b, posLastDelta, -1) })
			},
			code: kerr.InvalidRecord, msg: "invalid offset range",
		},
		validateCase{
			name: "count 0",
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), false, func(b []byte) { putI32(b, posCount, 0) })
			},
			code: kerr.InvalidRecord, msg: "Invalid reported count",
		},
		validateCase{
			name: "count -1",
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), false, func(b []byte) { putI32(b, posCount, -1) })
			},
			code: kerr.InvalidRecord, msg: "Invalid reported count",
		},
		validateCase{
			name: "count 0 from a coordinator",
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), false, func(b []byte) { putI32(b, posCount, 0) })
			},
			rules: func() record.LeaderRules { r := rules(); r.Origin = record.FromCoordinator; return r },
		},
		validateCase{
			name: "count -1 from a coordinator",
			batch: func(t *testing.T) record.Batch {
				return patched(t, record.NewSpec(), tsRecords(now), false, func(b []byte) { putI32(b, posCount, -1) })
			},
			rules: func() record.LeaderRules { r := rules(); r.Origin = record.FromCoordinator; return r },
			code:  kerr.InvalidRecord, msg: "invalid record count -1",
		},
		validateCase{
			name: "control batch from a client",
			batch: func(t *testing.T) record.Batch {
				b, err := record.BuildEndTxnMarker(5, 1, record.ControlCommit, 3, now)
				if err != nil {
					t.Fatal(err)
				}
				return b
			},
			code: kerr.InvalidRecord, msg: "Clients are not allowed to write control records",
		},
		validateCase{
			name: "control batch from a coordinator",
			batch: func(t *testing.T) record.Batch {
				b, err := record.BuildEndTxnMarker(5, 1, record.ControlAbort, 3, now)
				if err != nil {
					t.Fatal(err)
				}
				return b
			},
			rules: func() record.LeaderRules { r := rules(); r.Origin = record.FromCoordinator; return r },
		},
		validateCase{
			name: "base offset 5 from a coordinator",
			batch: func(t *testing.T) record.Batch {
				s := record.NewSpec()
				s.BaseOffset = 5
				return mustBuild(t, s, tsRecords(now))
			},
			rules: func() record.LeaderRules { r := rules(); r.Origin = record.FromCoordinator; return r },
		},
		validateCase{
			name: "producer id without sequence",
			batch: func(t *testing.T) record.Batch {
				s := record.NewSpec()
				s.ProducerID, s.ProducerEpoch = 0, 0
				return mustBuild(t, s, tsRecords(now))
			},
			code: kerr.InvalidRecord, msg: "Invalid sequence number -1",
		},
		validateCase{
			name: "producer id with sequence 0",
			batch: func(t *testing.T) record.Batch {
				s := record.NewSpec()
				s.ProducerID, s.ProducerEpoch, s.BaseSequence = 0, 0, 0
				return mustBuild(t, s, tsRecords(now))
			},
		},
		validateCase{
			name: "no producer id, sequence -5",
			batch: func(t *testing.T) record.Batch {
				s := record.NewSpec()
				s.BaseSequence = -5
				return mustBuild(t, s, tsRecords(now))
			},
		},
		// Timestamps: [now - before, now + after] inclusive.
		validateCase{
			name: "CreateTime within the bounds",
			batch: func(t *testing.T) record.Batch {
				return mustBuild(t, record.NewSpec(), tsRecords(now-1000, now+500, now))
			},
			rules: func() record.LeaderRules {
				r := rules()
				r.TimestampBeforeMaxMs, r.TimestampAfterMaxMs = 1000, 500
				return r
			},
		},
		validateCase{
			name: "CreateTime outside the bounds",
			batch: func(t *testing.T) record.Batch {
				return mustBuild(t, withCodec(record.CompressionGzip), tsRecords(now-1000, now-1001, now+500, now+501, -1))
			},
			rules: func() record.LeaderRules {
				r := rules()
				r.TimestampBeforeMaxMs, r.TimestampAfterMaxMs = 1000, 500
				return r
			},
			code: kerr.InvalidTimestamp, msg: "invalid timestamp", recordErrs: []int32{1, 3},
		},
		validateCase{
			name: "CreateTime far in the past with default (unbounded) rules",
			batch: func(t *testing.T) record.Batch {
				return mustBuild(t, record.NewSpec(), tsRecords(0, math.MinInt64/2, math.MaxInt64/2))
			},
		},
		validateCase{
			name:  "CreateTime bounds of zero",
			batch: func(t *testing.T) record.Batch { return mustBuild(t, record.NewSpec(), tsRecords(now, now+1, now-1)) },
			rules: func() record.LeaderRules {
				r := rules()
				r.TimestampBeforeMaxMs, r.TimestampAfterMaxMs = 0, 0
				return r
			},
			code: kerr.InvalidTimestamp, recordErrs: []int32{1, 2},
		},
		// Key faults come before timestamp faults for the same record; any
		// timestamp fault makes the whole answer INVALID_TIMESTAMP.
		validateCase{
			name: "null key and bad timestamp on one record",
			batch: func(t *testing.T) record.Batch {
				recs := tsRecords(now, 0)
				recs[1].Key = nil
				return mustBuild(t, record.NewSpec(), recs)
			},
			rules: func() record.LeaderRules {
				r := rules()
				r.Compacted, r.TimestampBeforeMaxMs = true, 10
				return r
			},
			code: kerr.InvalidRecord, recordErrs: []int32{1},
		},
		validateCase{
			name: "null key on one record, bad timestamp on another",
			batch: func(t *testing.T) record.Batch {
				recs := tsRecords(now, 0, 0)
				recs[1].Key = nil
				return mustBuild(t, record.NewSpec(), recs)
			},
			rules: func() record.LeaderRules {
				r := rules()
				r.Compacted, r.TimestampBeforeMaxMs = true, 10
				return r
			},
			code: kerr.InvalidTimestamp, recordErrs: []int32{1, 2},
		},
		validateCase{
			name:  "client LogAppendTime, topic LogAppendTime",
			batch: latBatch(now),
			rules: func() record.LeaderRules { r := rules(); r.TimestampType = record.LogAppendTime; return r },
			code:  kerr.InvalidTimestamp, recordErrs: []int32{0, 1},
		},
		// Topic CreateTime: a LogAppendTime batch's records carry its max
		// timestamp, which is checked against the bounds
		// (LogValidator.validateTimestamp checks the type only in the else branch).
		validateCase{
			name:  "client LogAppendTime, topic CreateTime, in bounds",
			batch: latBatch(now),
		},
		validateCase{
			name:  "client LogAppendTime, topic CreateTime, max timestamp out of bounds",
			batch: latBatch(now + 10_000),
			rules: func() record.LeaderRules { r := rules(); r.TimestampAfterMaxMs = 10; return r },
			code:  kerr.InvalidTimestamp, msg: "invalid timestamp", recordErrs: []int32{0, 1},
		},
		validateCase{
			name:  "client LogAppendTime with no timestamp, topic CreateTime",
			batch: latBatch(-1),
			code:  kerr.InvalidTimestamp, recordErrs: []int32{0, 1},
		},
		validateCase{
			name: "topic LogAppendTime, CreateTime batch far away",
			batch: func(t *testing.T) record.Batch {
				return mustBuild(t, record.NewSpec(), tsRecords(1, 2))
			},
			rules: func() record.LeaderRules {
				r := rules()
				r.TimestampType = record.LogAppendTime
				r.TimestampBeforeMaxMs, r.TimestampAfterMaxMs = 0, 0
				return r
			},
		},
	)
	// Garbage compressed payloads behind a valid CRC.
	garbage := map[record.Compression][]byte{
		record.CompressionGzip:   {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6},
		record.CompressionSnappy: {0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3},
		record.CompressionLz4:    {1, 2, 3, 4, 5, 6, 7, 8, 9},
		record.CompressionZstd:   {0x28, 0xb5, 0x2f, 0xfd, 0xff, 0xff, 0xff, 0xff, 1, 2, 3},
	}
	for c, g := range garbage {
		cases = append(cases, validateCase{
			name: c.String() + "/garbage payload",
			batch: func(t *testing.T) record.Batch {
				b := mustBuild(t, withCodec(c), tsRecords(now))
				b = append(b[:61:61], g...)
				putI32(b, posLength, int32(len(b)-12))
				fixCRC(b)
				return b
			},
			code: kerr.UnknownServerError, msg: "Failed to decompress",
		})
		cases = append(cases, validateCase{
			name: c.String() + "/truncated payload",
			batch: func(t *testing.T) record.Batch {
				b := mustBuild(t, withCodec(c), []record.NewRecord{{Timestamp: now, Key: []byte("k"), Value: pseudoRandom(4, 5000)}})
				b = b[:len(b)-len(b.Payload())/2]
				putI32(b, posLength, int32(len(b)-12))
				fixCRC(b)
				return b
			},
			code: kerr.UnknownServerError,
		})
	}
	return cases
}

// latBatch is a client batch with the LogAppendTime bit and maxTimestamp
// max, with two records whose own timestamps are far away.
func latBatch(maxTS int64) func(t *testing.T) record.Batch {
	return func(t *testing.T) record.Batch {
		s := record.NewSpec()
		s.TimestampType = record.LogAppendTime
		s.MaxTimestamp = &maxTS
		return mustBuild(t, s, tsRecords(5, 6))
	}
}

func TestValidateAsLeader(t *testing.T) {
	for _, c := range validateCases() {
		t.Run(c.name, func(t *testing.T) {
			b := c.batch(t)
			r := rules()
			if c.rules != nil {
				r = c.rules()
			}
			v, err := b.ValidateAsLeader(r)
			if c.code == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if v.Records != b.NumRecords() {
					t.Errorf("Validated.Records = %d, NumRecords %d", v.Records, b.NumRecords())
				}
				return
			}
			wantCode(t, err, c.code)
			if c.msg != "" && !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not mention %q", err, c.msg)
			}
			var re *record.Error
			errors.As(err, &re)
			var idx []int32
			for _, e := range re.RecordErrors {
				idx = append(idx, e.BatchIndex)
				if e.Message == "" {
					t.Errorf("record error %d has no message", e.BatchIndex)
				}
			}
			if !slices.Equal(idx, c.recordErrs) {
				t.Errorf("RecordErrors at %v, want %v", idx, c.recordErrs)
			}
		})
	}
}

func TestValidatedFields(t *testing.T) {
	for _, c := range allCodecs {
		// MaxTimestamp comes from the records, not the header field.
		s := withCodec(c)
		wrongMax := int64(5)
		s.MaxTimestamp = &wrongMax
		b := mustBuild(t, s, tsRecords(now-3, now+7, now, -1))
		v, err := b.ValidateAsLeader(rules())
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		if v.Records != 4 || v.MaxTimestamp != now+7 || v.NeedsRebuild {
			t.Errorf("%v: Validated = %+v, want 4 records, max %d, no rebuild", c, v, now+7)
		}

		// All records without a timestamp.
		b = mustBuild(t, withCodec(c), tsRecords(-1, -1))
		v, err = b.ValidateAsLeader(rules())
		if err != nil || v.MaxTimestamp != record.NoTimestamp || v.Records != 2 {
			t.Errorf("%v: no timestamps: %+v, %v", c, v, err)
		}

		// LogAppendTime batch into a CreateTime topic: every record reports
		// the batch's max timestamp.
		b = latBatch(now + 1)(t)
		v, err = b.ValidateAsLeader(rules())
		if err != nil || v.MaxTimestamp != now+1 || v.Records != 2 {
			t.Errorf("LogAppendTime batch: %+v, %v", v, err)
		}
	}
	// A failed validation reports no timestamp.
	v, err := patched(t, record.NewSpec(), tsRecords(now), true, func(b []byte) { b[70] ^= 1 }).ValidateAsLeader(rules())
	if err == nil || v.MaxTimestamp != record.NoTimestamp || v.Records != 0 || v.NeedsRebuild {
		t.Errorf("corrupt batch: %+v, %v", v, err)
	}
}

// TestNeedsRebuild: Kafka rewrites a compressed batch whose inner offsets
// are not 0..n-1 (LogValidator: record.offset() != expectedOffset turns
// in-place assignment off) and never looks at them in an uncompressed one.
func TestNeedsRebuild(t *testing.T) {
	for _, enc := range allEncodings {
		for _, deltas := range [][]int32{{0, 1, 2}, {0, 2, 1}, {1, 2, 3}, {0, 0, 0}, {0, 1, 5}} {
			recs := seqRecords(3)
			for i := range recs {
				recs[i].OffsetDelta = deltas[i]
				recs[i].TimestampDelta64 = 0
			}
			h := plainHeader(3, now)
			b := record.Batch(oracleBatch(t, h, enc, recs))
			v, err := b.ValidateAsLeader(rules())
			if err != nil {
				t.Fatalf("%v %v: %v", enc, deltas, err)
			}
			want := enc != encNone && !slices.Equal(deltas, []int32{0, 1, 2})
			if v.NeedsRebuild != want || v.Records != 3 {
				t.Errorf("%v deltas %v: NeedsRebuild %v, want %v (records %d)", enc, deltas, v.NeedsRebuild, want, v.Records)
			}
		}
	}
}

// TestValidateRecordErrorDetails checks the RecordErrors messages name the
// record's offset and partition as Kafka's do.
func TestValidateRecordErrorDetails(t *testing.T) {
	recs := tsRecords(now, now)
	recs[1].Key = nil
	b := mustBuild(t, record.NewSpec(), recs)
	r := rules()
	r.Compacted = true
	_, err := b.ValidateAsLeader(r)
	var re *record.Error
	if !errors.As(err, &re) || len(re.RecordErrors) != 1 {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(re.RecordErrors[0].Message, "topic-0") {
		t.Errorf("record error %q does not name the partition", re.RecordErrors[0].Message)
	}
	if !strings.Contains(re.Msg, "1 record errors") {
		t.Errorf("message %q", re.Msg)
	}
	if !strings.HasPrefix(err.Error(), kerr.InvalidRecord.Message) {
		t.Errorf("Error() = %q, want it to start with %s", err, kerr.InvalidRecord.Message)
	}

	r = rules()
	r.TimestampAfterMaxMs = 0
	_, err = mustBuild(t, record.NewSpec(), tsRecords(now, now+100)).ValidateAsLeader(r)
	if !errors.As(err, &re) || len(re.RecordErrors) != 1 || !strings.Contains(re.RecordErrors[0].Message, "with offset 1 is out of range") {
		t.Fatalf("err %v %+v", err, re)
	}
}

// TestCodeOf covers CodeOf on foreign errors.
func TestCodeOf(t *testing.T) {
	if record.CodeOf(nil) != nil || record.CodeOf(errors.New("x")) != nil {
		t.Error("CodeOf of an error without a code is not nil")
	}
	if record.CodeOf(kerr.NotLeaderForPartition) != kerr.NotLeaderForPartition {
		t.Error("CodeOf(kerr) is not itself")
	}
	wrapped := errors.Join(errors.New("ctx"), record.Corruptf("x %d", 1))
	if record.CodeOf(wrapped) != kerr.CorruptMessage || !strings.Contains(record.Corruptf("x %d", 1).Error(), "x 1") {
		t.Error("Corruptf")
	}
	if record.ErrLegacyMagic.Code != kerr.InvalidRecord {
		t.Error("ErrLegacyMagic is not INVALID_RECORD")
	}
	wantCode(t, record.ErrUnknownCodec(5), kerr.UnknownServerError)
}

func TestDefaultLeaderRules(t *testing.T) {
	r := record.DefaultLeaderRules(1234)
	if r.Now != 1234 || r.Origin != record.FromClient || r.TimestampType != record.CreateTime ||
		r.TimestampBeforeMaxMs != math.MaxInt64 || r.TimestampAfterMaxMs != math.MaxInt64 ||
		r.MaxBatchBytes != 1048588 || r.Compacted {
		t.Errorf("DefaultLeaderRules = %+v", r)
	}
}

// TestValidateAsFollower: only the header and CRC (ensureValid); offsets,
// codec ids and records are not looked at.
func TestValidateAsFollower(t *testing.T) {
	b := patched(t, record.NewSpec(), tsRecords(now, now), false, func(b []byte) {
		putI64(b, posBaseOffset, 1000)
		putI16(b, posAttributes, 0x27) // control, codec 7
		putI32(b, posCount, 99)
	})
	if err := b.ValidateAsFollower(); err != nil {
		t.Errorf("follower rejected a batch with a good CRC: %v", err)
	}
	b[len(b)-1] ^= 1
	wantCode(t, b.ValidateAsFollower(), kerr.CorruptMessage)
}
