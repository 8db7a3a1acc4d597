package commitlog_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/record"
)

// A leader assigns offsets from the log end offset and stamps its epoch;
// those two fields are outside the CRC, so a CreateTime batch whose max
// timestamp was right keeps every other byte, CRC included.
func TestAppendAsLeaderAssignsOffsetsFromLogEnd(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	b1 := clientBatch(t, recsAt(baseTime, baseTime+5, baseTime+2))
	b2 := clientBatch(t, recsAt(baseTime+10, baseTime+11))
	produced1, produced2 := clone(b1), clone(b2)

	info1 := tl.appendLeader(b1, 5)
	if info1.FirstOffset != 0 || info1.LastOffset != 2 || info1.NumRecords != 3 || info1.Bytes != len(produced1) ||
		info1.MaxTimestamp != baseTime+5 || info1.LogAppendTime != -1 || info1.LogStartOffset != 0 {
		t.Fatalf("first append info = %+v", info1)
	}
	info2 := tl.appendLeader(b2, 7)
	if info2.FirstOffset != 3 || info2.LastOffset != 4 || info2.NumRecords != 2 || info2.MaxTimestamp != baseTime+11 {
		t.Fatalf("second append info = %+v", info2)
	}
	if leo := tl.log.LogEndOffset(); leo != 5 {
		t.Fatalf("LEO = %d, want 5", leo)
	}

	data := readFile(t, tl.path(0, ".log"))
	if len(data) != len(produced1)+len(produced2) {
		t.Fatalf(".log is %d bytes, want %d", len(data), len(produced1)+len(produced2))
	}
	bs := parseBatches(t, data)
	if len(bs) != 2 {
		t.Fatalf(".log holds %d batches, want 2", len(bs))
	}
	if bs[0].baseOffset != 0 || bs[0].leaderEpoch != 5 || bs[1].baseOffset != 3 || bs[1].leaderEpoch != 7 {
		t.Fatalf("stored (baseOffset, epoch) = (%d, %d), (%d, %d); want (0, 5), (3, 7)",
			bs[0].baseOffset, bs[0].leaderEpoch, bs[1].baseOffset, bs[1].leaderEpoch)
	}
	sameExceptOffsetAndEpoch(t, "batch 1", produced1, bs[0].raw)
	sameExceptOffsetAndEpoch(t, "batch 2", produced2, bs[1].raw)
	for i, b := range bs {
		if b.crc != crc32c(b.raw) {
			t.Errorf("batch %d: stored CRC %08x, computed %08x", i, b.crc, crc32c(b.raw))
		}
	}

	checkEpochs(t, tl.log.EpochEntries(), ep(5, 0), ep(7, 3))
	if got, want := string(readFile(t, filepath.Join(tl.dir, commitlog.LeaderEpochCheckpoint))), "0\n2\n5 0\n7 3\n"; got != want {
		t.Fatalf("leader-epoch-checkpoint = %q, want %q", got, want)
	}
}

// Kafka's in-place assignment sets a CreateTime batch's max timestamp to the
// largest record timestamp when the producer got it wrong, recomputing the
// CRC (DefaultRecordBatch.setMaxTimestamp).
func TestAppendAsLeaderFixesWrongMaxTimestamp(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	spec := record.NewSpec()
	wrong := int64(7)
	spec.MaxTimestamp = &wrong
	b := build(t, spec, recsAt(baseTime, baseTime+40, baseTime+20))
	produced := clone(b)

	info := tl.appendLeader(b, 0)
	if info.MaxTimestamp != baseTime+40 {
		t.Fatalf("MaxTimestamp = %d, want %d", info.MaxTimestamp, baseTime+40)
	}
	bs := batchesOfFile(t, tl.path(0, ".log"))
	if bs[0].maxTS != baseTime+40 {
		t.Fatalf("stored max timestamp = %d, want %d", bs[0].maxTS, baseTime+40)
	}
	if bs[0].crc != crc32c(bs[0].raw) {
		t.Fatalf("stored CRC %08x does not match the bytes (%08x)", bs[0].crc, crc32c(bs[0].raw))
	}
	if bs[0].crc == binary.BigEndian.Uint32(produced[17:]) {
		t.Fatalf("CRC was not recomputed after the max timestamp changed")
	}
	if bs[0].attributes&0x08 != 0 {
		t.Fatalf("timestamp type bit set on a CreateTime topic")
	}
}

// message.timestamp.type=LogAppendTime: the leader sets attribute bit 3 and
// the max timestamp to its clock, recomputes the CRC, and leaves the records
// (and base timestamp) alone.
func TestAppendAsLeaderLogAppendTime(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.TimestampType = record.LogAppendTime
	tl := newTestLog(t, cfg)
	now := baseTime + 123456
	tl.clock.Set(now)
	b := clientBatch(t, recsAt(baseTime, baseTime+1, baseTime+2))
	produced := clone(b)

	info := tl.appendLeader(b, 3)
	if info.LogAppendTime != now || info.MaxTimestamp != now {
		t.Fatalf("info LogAppendTime = %d, MaxTimestamp = %d; want both %d", info.LogAppendTime, info.MaxTimestamp, now)
	}
	bs := batchesOfFile(t, tl.path(0, ".log"))
	if len(bs) != 1 {
		t.Fatalf("%d batches stored", len(bs))
	}
	got := bs[0]
	if got.attributes&0x08 == 0 {
		t.Fatalf("attributes %#04x: LogAppendTime bit (3) not set", got.attributes)
	}
	if got.maxTS != now {
		t.Fatalf("stored max timestamp = %d, want the append time %d", got.maxTS, now)
	}
	if got.baseTS != baseTime {
		t.Fatalf("stored base timestamp = %d, want the producer's %d", got.baseTS, baseTime)
	}
	if got.crc != crc32c(got.raw) {
		t.Fatalf("stored CRC %08x does not match the bytes (%08x)", got.crc, crc32c(got.raw))
	}
	if got.crc == binary.BigEndian.Uint32(produced[17:]) {
		t.Fatalf("CRC unchanged although attributes and max timestamp changed")
	}
	// Only attributes (21..22), max timestamp (35..42), CRC, offset and epoch differ.
	if !bytes.Equal(got.raw[43:], produced[43:]) || !bytes.Equal(got.raw[23:35], produced[23:35]) {
		t.Fatalf("LogAppendTime changed bytes beyond attributes/maxTimestamp/CRC")
	}
}

// Errors of a leader append carry Kafka's codes and write nothing.
func TestAppendAsLeaderRejects(t *testing.T) {
	good := func(t *testing.T) []byte { return clientBatch(t, recs(2, baseTime)) }
	cases := []struct {
		name  string
		cfg   func(*commitlog.Config)
		batch func(t *testing.T) []byte
		want  *kerr.Error
	}{
		{
			name: "client base offset not 0",
			batch: func(t *testing.T) []byte {
				spec := record.NewSpec()
				spec.BaseOffset = 7
				return build(t, spec, recs(1, baseTime))
			},
			want: kerr.InvalidRecord,
		},
		{
			name: "batch larger than max.message.bytes",
			cfg:  func(c *commitlog.Config) { c.MaxMessageBytes = 150 },
			batch: func(t *testing.T) []byte {
				b := clientBatch(t, []record.NewRecord{{Timestamp: baseTime, Key: []byte("k"), Value: bytes.Repeat([]byte("v"), 200)}})
				if len(b) <= 150 {
					t.Fatalf("test batch is only %d bytes", len(b))
				}
				return b
			},
			want: kerr.MessageTooLarge,
		},
		{
			name: "corrupt CRC",
			batch: func(t *testing.T) []byte {
				b := clientBatch(t, recs(2, baseTime))
				b[len(b)-1] ^= 0x40
				return b
			},
			want: kerr.CorruptMessage,
		},
		{
			name: "two batches in one leader append",
			batch: func(t *testing.T) []byte {
				return concat(clientBatch(t, recs(1, baseTime)), clientBatch(t, recs(1, baseTime)))
			},
			want: kerr.InvalidRecord,
		},
		{
			name: "batch larger than segment.bytes",
			cfg:  func(c *commitlog.Config) { c.SegmentBytes = 250 },
			batch: func(t *testing.T) []byte {
				return clientBatch(t, []record.NewRecord{{Timestamp: baseTime, Key: []byte("k"), Value: bytes.Repeat([]byte("v"), 300)}})
			},
			want: kerr.RecordListTooLarge,
		},
		{
			name: "compacted topic, null key",
			cfg:  func(c *commitlog.Config) { c.CleanupCompact = true; c.CleanupDelete = false },
			batch: func(t *testing.T) []byte {
				return clientBatch(t, []record.NewRecord{{Timestamp: baseTime, Key: []byte("k"), Value: []byte("a")}, {Timestamp: baseTime, Value: []byte("b")}})
			},
			want: kerr.InvalidRecord,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := commitlog.DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			tl := newTestLog(t, cfg)
			tl.appendLeader(good(t), 1)
			before := readFile(t, tl.path(0, ".log"))

			_, err := tl.log.AppendAsLeader(tc.batch(t), 2, record.FromClient)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error = %v, want %s", err, tc.want.Message)
			}
			if after := readFile(t, tl.path(0, ".log")); !bytes.Equal(before, after) {
				t.Fatalf(".log changed by a rejected append: %d -> %d bytes", len(before), len(after))
			}
			if leo := tl.log.LogEndOffset(); leo != 2 {
				t.Fatalf("LEO = %d after a rejected append, want 2", leo)
			}
			checkEpochs(t, tl.log.EpochEntries(), ep(1, 0))
			checkBases(t, tl.log, 0)
			// The log is still usable.
			if info := tl.appendLeader(good(t), 1); info.FirstOffset != 2 {
				t.Fatalf("next append got offset %d, want 2", info.FirstOffset)
			}
		})
	}
}

// The limits are inclusive: a batch of exactly max.message.bytes, or exactly
// segment.bytes, is accepted (Kafka rejects only sizes greater than them).
func TestAppendAsLeaderSizeLimitsAreInclusive(t *testing.T) {
	b := clientBatch(t, recs(3, baseTime))
	size := len(b)

	cfg := commitlog.DefaultConfig()
	cfg.MaxMessageBytes = size
	tl := newTestLog(t, cfg)
	tl.appendLeader(clone(b), 0)
	bigger := clientBatch(t, recs(4, baseTime))
	if _, err := tl.log.AppendAsLeader(bigger, 0, record.FromClient); !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("batch of %d > max.message.bytes %d: error = %v, want MESSAGE_TOO_LARGE", len(bigger), size, err)
	}

	cfg = commitlog.DefaultConfig()
	cfg.SegmentBytes = int64(size)
	tl = newTestLog(t, cfg)
	tl.appendLeader(clone(b), 0)
	tl.appendLeader(clone(b), 0) // rolls: each segment holds exactly one batch
	checkBases(t, tl.log, 0, 3)
	if n := fileSize(t, tl.path(0, ".log")); n != int64(size) {
		t.Fatalf("first segment is %d bytes, want %d", n, size)
	}
	if _, err := tl.log.AppendAsLeader(clientBatch(t, recs(4, baseTime)), 0, record.FromClient); !errors.Is(err, kerr.RecordListTooLarge) {
		t.Fatalf("batch larger than segment.bytes: error = %v, want RECORD_LIST_TOO_LARGE", err)
	}
}

// A follower keeps the leader's offsets byte for byte, may skip offsets,
// and records every batch's epoch.
func TestAppendAsFollowerKeepsOffsetsAndAllowsGaps(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	b1 := replicaBatch(t, 10, 2, recs(3, baseTime))
	b2 := replicaBatch(t, 13, 4, recs(2, baseTime+1))
	chunk := concat(b1, b2)

	info := tl.appendFollower(clone(chunk))
	if info.FirstOffset != 10 || info.LastOffset != 14 || info.NumRecords != 5 || info.Bytes != len(chunk) || info.MaxTimestamp != baseTime+1 {
		t.Fatalf("info = %+v", info)
	}
	if got := readFile(t, tl.path(0, ".log")); !bytes.Equal(got, chunk) {
		t.Fatalf(".log is not the leader's bytes")
	}
	if tl.log.LogEndOffset() != 15 || tl.log.LogStartOffset() != 0 {
		t.Fatalf("LEO %d, log start %d; want 15, 0", tl.log.LogEndOffset(), tl.log.LogStartOffset())
	}
	checkEpochs(t, tl.log.EpochEntries(), ep(2, 10), ep(4, 13))

	b3 := replicaBatch(t, 20, 4, recs(1, baseTime+2))
	if info := tl.appendFollower(clone(b3)); info.FirstOffset != 20 || info.LastOffset != 20 {
		t.Fatalf("gap append info = %+v", info)
	}
	if got := readFile(t, tl.path(0, ".log")); !bytes.Equal(got, concat(chunk, b3)) {
		t.Fatalf(".log after a gap is not the leader's bytes")
	}
	if tl.log.LogEndOffset() != 21 {
		t.Fatalf("LEO = %d, want 21", tl.log.LogEndOffset())
	}
	checkBases(t, tl.log, 0)
}

func TestAppendAsFollowerRejects(t *testing.T) {
	cases := []struct {
		name  string
		chunk func(t *testing.T) []byte
		code  *kerr.Error // nil: any error
	}{
		{"first offset below LEO", func(t *testing.T) []byte { return replicaBatch(t, 4, 1, recs(2, baseTime)) }, nil},
		{"overlapping the log end", func(t *testing.T) []byte { return replicaBatch(t, 3, 1, recs(5, baseTime)) }, nil},
		{"batches not increasing", func(t *testing.T) []byte {
			return concat(replicaBatch(t, 20, 1, recs(3, baseTime)), replicaBatch(t, 22, 1, recs(1, baseTime)))
		}, nil},
		{"repeated batch", func(t *testing.T) []byte {
			return concat(replicaBatch(t, 20, 1, recs(3, baseTime)), replicaBatch(t, 20, 1, recs(3, baseTime)))
		}, nil},
		{"corrupt CRC in the second batch", func(t *testing.T) []byte {
			b2 := replicaBatch(t, 8, 1, recs(2, baseTime))
			b2[len(b2)-2] ^= 1
			return concat(replicaBatch(t, 5, 1, recs(3, baseTime)), b2)
		}, kerr.CorruptMessage},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tl := newTestLog(t, commitlog.DefaultConfig())
			tl.appendFollower(replicaBatch(t, 0, 1, recs(5, baseTime)))
			before := readFile(t, tl.path(0, ".log"))
			_, err := tl.log.AppendAsFollower(tc.chunk(t))
			if err == nil {
				t.Fatalf("append accepted")
			}
			if tc.code != nil && !errors.Is(err, tc.code) {
				t.Fatalf("error = %v, want %s", err, tc.code.Message)
			}
			if after := readFile(t, tl.path(0, ".log")); !bytes.Equal(before, after) {
				t.Fatalf(".log changed by a rejected append: %d -> %d bytes", len(before), len(after))
			}
			if leo := tl.log.LogEndOffset(); leo != 5 {
				t.Fatalf("LEO = %d, want 5", leo)
			}
			checkEpochs(t, tl.log.EpochEntries(), ep(1, 0))
		})
	}
}

// Bytes after the last whole batch of a fetch response are ignored.
func TestAppendAsFollowerIgnoresTrailingPartialBatch(t *testing.T) {
	tl := newTestLog(t, commitlog.DefaultConfig())
	b1 := replicaBatch(t, 0, 1, recs(2, baseTime))
	b2 := replicaBatch(t, 2, 1, recs(2, baseTime))

	info := tl.appendFollower(concat(b1, b2[:len(b2)-7]))
	if info.FirstOffset != 0 || info.LastOffset != 1 || info.Bytes != len(b1) {
		t.Fatalf("info = %+v, want offsets 0..1 and %d bytes", info, len(b1))
	}
	if got := readFile(t, tl.path(0, ".log")); !bytes.Equal(got, b1) {
		t.Fatalf(".log holds %d bytes, want only the whole batch (%d)", len(got), len(b1))
	}
	if tl.log.LogEndOffset() != 2 {
		t.Fatalf("LEO = %d, want 2", tl.log.LogEndOffset())
	}

	// Only a fragment: nothing happens.
	if _, err := tl.log.AppendAsFollower(b2[:30]); err != nil {
		t.Fatalf("fragment: %v", err)
	}
	if n := fileSize(t, tl.path(0, ".log")); n != int64(len(b1)) || tl.log.LogEndOffset() != 2 {
		t.Fatalf("fragment changed the log: %d bytes, LEO %d", n, tl.log.LogEndOffset())
	}
}

// A follower append ignores max.message.bytes (Kafka's ignoreRecordSize for
// replication) but not segment.bytes.
func TestAppendAsFollowerSizeLimits(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	cfg.MaxMessageBytes = 100
	cfg.SegmentBytes = 400
	tl := newTestLog(t, cfg)
	big := replicaBatch(t, 0, 0, []record.NewRecord{{Timestamp: baseTime, Key: []byte("k"), Value: bytes.Repeat([]byte("x"), 200)}})
	if len(big) <= 100 || len(big) > 400 {
		t.Fatalf("test batch is %d bytes", len(big))
	}
	tl.appendFollower(big)
	huge := replicaBatch(t, 1, 0, []record.NewRecord{{Timestamp: baseTime, Key: []byte("k"), Value: bytes.Repeat([]byte("x"), 500)}})
	if _, err := tl.log.AppendAsFollower(huge); !errors.Is(err, kerr.RecordListTooLarge) {
		t.Fatalf("follower batch larger than segment.bytes: error = %v, want RECORD_LIST_TOO_LARGE", err)
	}
	if n := fileSize(t, tl.path(0, ".log")); n != int64(len(big)) {
		t.Fatalf(".log is %d bytes, want %d", n, len(big))
	}
}

// A follower chunk whose batches overlap ([0..4] then [3..7]) is refused:
// recovery would cut such a log at the overlap, losing what was acknowledged.
// What is appended is exactly what survives a crash.
func TestFollowerOverlapRefusedAndAppendsSurviveRecovery(t *testing.T) {
	cfg := commitlog.DefaultConfig()
	tl := newTestLog(t, cfg)
	_, err := tl.log.AppendAsFollower(concat(replicaBatch(t, 0, 1, recs(5, baseTime)), replicaBatch(t, 3, 1, recs(5, baseTime))))
	if err == nil {
		t.Fatal("overlapping follower batches were accepted")
	}
	if leo := tl.log.LogEndOffset(); leo != 0 {
		t.Fatalf("LEO after a refused append = %d, want 0", leo)
	}
	tl.appendFollower(concat(replicaBatch(t, 0, 1, recs(5, baseTime)), replicaBatch(t, 5, 1, recs(3, baseTime))))
	tl.appendFollower(replicaBatch(t, 8, 1, recs(2, baseTime)))
	if err := tl.log.Close(); err != nil {
		t.Fatal(err)
	}
	l := openLog(t, tl.dir, commitlog.Options{Config: cfg, Now: tl.clock.Now, HadCleanShutdown: false, RecoveryPoint: 0})
	if leo := l.LogEndOffset(); leo != 10 {
		t.Fatalf("LEO after recovery = %d, want 10", leo)
	}
}
