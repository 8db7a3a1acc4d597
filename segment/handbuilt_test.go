package segment_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/kbroker/kbroker/segment"
)

// handBatch lays out, field by field from the v2 format, a batch holding one
// record with key "k" and value "v" at offset base and timestamp ts.
func handBatch(base, ts int64) []byte {
	be := binary.BigEndian
	record := []byte{
		0x10,      // length varint: 8 (zig-zag 16)
		0x00,      // attributes
		0x00,      // timestamp delta varlong 0
		0x00,      // offset delta varint 0
		0x02, 'k', // key length 1 + key
		0x02, 'v', // value length 1 + value
		0x00, // header count 0
	}
	var b []byte
	b = be.AppendUint64(b, uint64(base))           // 0  baseOffset
	b = be.AppendUint32(b, uint32(49+len(record))) // 8  batchLength: bytes after this field
	b = be.AppendUint32(b, 7)                      // 12 partitionLeaderEpoch
	b = append(b, 2)                               // 16 magic
	b = be.AppendUint32(b, 0)                      // 17 crc, filled below
	b = be.AppendUint16(b, 0)                      // 21 attributes: none, CreateTime
	b = be.AppendUint32(b, 0)                      // 23 lastOffsetDelta
	b = be.AppendUint64(b, uint64(ts))             // 27 baseTimestamp
	b = be.AppendUint64(b, uint64(ts))             // 35 maxTimestamp
	b = be.AppendUint64(b, 0xffffffffffffffff)     // 43 producerId -1
	b = be.AppendUint16(b, 0xffff)                 // 51 producerEpoch -1
	b = be.AppendUint32(b, 0xffffffff)             // 53 baseSequence -1
	b = be.AppendUint32(b, 1)                      // 57 record count
	b = append(b, record...)                       // 61 records
	crc := crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli))
	be.PutUint32(b[17:], crc)
	return b
}

// The files of a small segment equal bytes built by hand from the spec:
// the .log is the batches verbatim; with index.interval.bytes 100 and 70-byte
// batches an offset-index entry (relative offset, position) is added before
// the 3rd and 5th appends; a time-index entry (max timestamp so far,
// relative offset of the batch holding it) at the same moments, plus the
// final entry on close. Indexes are preallocated to segment.index.bytes
// rounded down to their entry size and trimmed on close.
func TestSegmentFilesMatchHandBuiltBytes(t *testing.T) {
	dir := t.TempDir()
	cfg := segment.Config{IndexIntervalBytes: 100, MaxIndexSize: 80}
	s, err := segment.Create(segment.OS{}, dir, 100, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	timestamps := []int64{5000, 5100, 5050, 5200, 5150, 5300}
	var wantLog []byte
	for i, ts := range timestamps {
		offset := int64(100 + 3*i)
		b := handBatch(offset, ts)
		if len(b) != 70 {
			t.Fatalf("hand batch is %d bytes, want 70", len(b))
		}
		if err := s.Append(offset, ts, offset, b); err != nil {
			t.Fatal(err)
		}
		wantLog = append(wantLog, b...)
	}
	name := func(suffix string) string { return filepath.Join(dir, "00000000000000000100"+suffix) }
	size := func(path string) int64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	if got := size(name(".index")); got != 80 {
		t.Fatalf("active .index is %d bytes, want 80 (preallocated)", got)
	}
	if got := size(name(".timeindex")); got != 72 {
		t.Fatalf("active .timeindex is %d bytes, want 72 (80 rounded down to 12-byte entries)", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	wantIndex := []byte{
		0, 0, 0, 6, 0, 0, 0, 140, // offset 106 (3rd batch), position 140
		0, 0, 0, 12, 0, 0, 1, 24, // offset 112 (5th batch), position 280
	}
	wantTime := []byte{
		0, 0, 0, 0, 0, 0, 0x13, 0xec, 0, 0, 0, 3, // 5100 at offset 103 (2nd batch): max so far at the 3rd append
		0, 0, 0, 0, 0, 0, 0x14, 0x50, 0, 0, 0, 9, // 5200 at offset 109 (4th batch): max so far at the 5th append
		0, 0, 0, 0, 0, 0, 0x14, 0xb4, 0, 0, 0, 15, // 5300 at offset 115: final entry on close
	}
	for _, c := range []struct {
		suffix string
		want   []byte
	}{{".log", wantLog}, {".index", wantIndex}, {".timeindex", wantTime}} {
		got, err := os.ReadFile(name(c.suffix))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s:\n got %x\nwant %x", c.suffix, got, c.want)
		}
	}
	if _, err := os.Stat(name(".txnindex")); !os.IsNotExist(err) {
		t.Errorf(".txnindex exists without any aborted transaction (err %v)", err)
	}
}

// A segment whose offset index is full must roll; the time index keeps its
// last slot for the final entry.
func TestShouldRollWhenIndexFull(t *testing.T) {
	dir := t.TempDir()
	cfg := segment.Config{IndexIntervalBytes: 0, MaxIndexSize: 24} // 3 offset entries, 2 time entries
	s, err := segment.Create(segment.OS{}, dir, 0, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	params := func(offset int64) segment.RollParams {
		return segment.RollParams{MaxSegmentBytes: 1 << 30, MaxSegmentMs: 1 << 40, MessagesSize: 70, MaxTimestamp: 5000 + offset, MaxOffset: offset, Now: 0}
	}
	for i := int64(0); ; i++ {
		roll, err := s.ShouldRoll(params(i))
		if err != nil {
			t.Fatal(err)
		}
		if roll {
			// Entries are added from the 2nd append on (counter > 0). The
			// time index has 2 slots, one reserved for the final entry, so
			// it is full after its first entry: roll before the 3rd append.
			if i != 2 {
				t.Fatalf("rolled before append %d, want 2", i)
			}
			return
		}
		if err := s.Append(i, 5000+i, i, handBatch(i, 5000+i)); err != nil {
			t.Fatal(err)
		}
		if i > 10 {
			t.Fatal("never rolled")
		}
	}
}

// segment.ms is measured with record timestamps: from the first batch's max
// timestamp to the incoming batch's; a segment without timestamps uses its
// creation time. The jitter is subtracted from segment.ms.
func TestShouldRollOnTime(t *testing.T) {
	s, err := segment.Create(segment.OS{}, t.TempDir(), 0, segment.Config{IndexIntervalBytes: 4096, MaxIndexSize: 1024}, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := segment.RollParams{MaxSegmentBytes: 1 << 30, MaxSegmentMs: 100, MessagesSize: 70, MaxOffset: 1}
	p.MaxTimestamp, p.Now = 99_999, 99_999
	if roll, _ := s.ShouldRoll(p); roll {
		t.Fatal("an empty segment rolled on time")
	}
	if err := s.Append(0, 5000, 0, handBatch(0, 5000)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		chunkTS, jitter int64
		want            bool
	}{{5100, 0, false}, {5101, 0, true}, {5051, 50, true}, {5050, 50, false}} {
		s.RollJitterMs = c.jitter
		p.MaxTimestamp, p.Now = c.chunkTS, 0 // wall time is irrelevant when timestamps exist
		if roll, err := s.ShouldRoll(p); err != nil || roll != c.want {
			t.Fatalf("chunk at %d, jitter %d: roll %v (%v), want %v", c.chunkTS, c.jitter, roll, err, c.want)
		}
	}
}
