package producer_test

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/producer"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The two examples of docs/format/producer-snapshot.md.
func TestSnapshotGolden(t *testing.T) {
	empty := unhex(t, "0001 4867 4bc7 0000 0000")
	if got := producer.EncodeSnapshot(nil); !bytes.Equal(got, empty) {
		t.Fatalf("empty snapshot\n got %x\nwant %x", got, empty)
	}

	// Producer 1000, epoch 0, a transactional batch at offsets 42-46 with
	// sequences 0-4 and max timestamp 1700000000200, transaction open.
	s, m := newState()
	a := s.PrepareUpdate(1000, producer.FromClient)
	if err := a.AppendDataBatch(0, 0, 4, 1_700_000_000_200, 42, 46, true); err != nil {
		t.Fatal(err)
	}
	s.Update(a)
	s.SetMapEndOffset(47)
	if _, err := s.TakeSnapshot(false); err != nil {
		t.Fatal(err)
	}
	want := unhex(t, `
		0001 80aa 6ec6 0000 0001 0000 0000 0000
		03e8 0000 0000 0004 0000 0000 0000 002e
		0000 0004 0000 018b cfe5 68c8 ffff ffff
		0000 0000 0000 002a`)
	if got := m.files[47]; !bytes.Equal(got, want) {
		t.Fatalf("snapshot\n got %x\nwant %x", got, want)
	}
	entries, err := producer.DecodeSnapshot(want)
	if err != nil {
		t.Fatal(err)
	}
	e := entries[0]
	if e.ProducerID != 1000 || e.Epoch != 0 || e.CoordinatorEpoch != -1 || e.CurrentTxnFirstOffset != 42 || e.LastTimestamp != 1_700_000_000_200 {
		t.Fatalf("decoded %+v", e)
	}
	if got := e.Batches(); !reflect.DeepEqual(got, []producer.BatchMetadata{{LastSeq: 4, LastOffset: 46, OffsetDelta: 4, Timestamp: 1_700_000_000_200}}) {
		t.Fatalf("batches %+v", got)
	}
	if e.FirstSeq() != 0 {
		t.Fatalf("first seq %d", e.FirstSeq())
	}
}

// Only the newest batch of each producer is written; an entry without
// batches is written with last sequence -1, last offset -1, delta 0.
func TestSnapshotRoundTrip(t *testing.T) {
	s, m := newState()
	for i := 0; i < 7; i++ {
		mustApply(t, s, dataBatch(t, 11, 2, int32(2*i), int64(2*i), 2, false), producer.FromClient)
	}
	mustApply(t, s, dataBatch(t, 12, 0, 0, 14, 3, true), producer.FromClient)
	mustApply(t, s, dataBatch(t, 13, 0, 0, 17, 1, true), producer.FromClient)
	mustApply(t, s, marker(t, 13, 1, 0, 7, 18), producer.FromCoordinator) // abort with epoch bump: no batches
	if _, err := s.TakeSnapshot(false); err != nil {
		t.Fatal(err)
	}
	data := m.files[19]
	if len(data) != 10+3*producer.SnapshotEntrySize {
		t.Fatalf("size %d", len(data))
	}
	entries, err := producer.DecodeSnapshot(data)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]producer.Entry{}
	for _, e := range entries {
		byID[e.ProducerID] = e
	}
	e11 := byID[11]
	if e11.Epoch != 2 || len(e11.Batches()) != 1 || e11.LastSeq() != 13 || e11.LastDataOffset() != 13 || e11.LastOffsetDelta() != 1 {
		t.Fatalf("producer 11: %+v %+v", e11, e11.Batches())
	}
	e12 := byID[12]
	if e12.CurrentTxnFirstOffset != 14 || e12.LastSeq() != 2 || e12.LastOffsetDelta() != 2 {
		t.Fatalf("producer 12: %+v", e12)
	}
	e13 := byID[13]
	if e13.Epoch != 1 || !e13.IsEmpty() || e13.CoordinatorEpoch != 7 || e13.CurrentTxnFirstOffset != -1 || e13.LastTimestamp != ts0+18 {
		t.Fatalf("producer 13: %+v", e13)
	}
	raw := data[10+2*producer.SnapshotEntrySize:]
	if int64(binary.BigEndian.Uint64(raw)) == 13 {
		if seq, off, delta := int32(binary.BigEndian.Uint32(raw[10:])), int64(binary.BigEndian.Uint64(raw[14:])), int32(binary.BigEndian.Uint32(raw[22:])); seq != -1 || off != -1 || delta != 0 {
			t.Fatalf("empty entry written as seq %d offset %d delta %d", seq, off, delta)
		}
	}
	// The state loaded back writes the same bytes.
	fresh := producer.NewState("foo-0", 0, m)
	if err := fresh.TruncateAndReload(0, 19, ts0); err != nil {
		t.Fatal(err)
	}
	if again := producer.EncodeSnapshot(fresh.Entries()); !bytes.Equal(again, data) {
		t.Fatalf("reloaded state encodes differently\n got %x\nwant %x", again, data)
	}
	// A batch loaded from a snapshot is still a duplicate.
	if m, dup := fresh.FindDuplicate(11, 2, 12, 13); !dup || m.FirstOffset() != 12 {
		t.Fatalf("dup=%v %+v", dup, m)
	}
}

func TestSnapshotCorrupt(t *testing.T) {
	good := producer.EncodeSnapshot(nil)
	withCRC := func(b []byte) []byte {
		binary.BigEndian.PutUint32(b[2:], crc32.Checksum(b[6:], crc32.MakeTable(crc32.Castagnoli)))
		return b
	}
	for name, data := range map[string][]byte{
		"short":          good[:9],
		"bad version":    withCRC(append([]byte{0, 2}, good[2:]...)),
		"bad crc":        append(append([]byte{}, good[:5]...), good[5]^1, 0, 0, 0, 0),
		"negative count": withCRC([]byte{0, 1, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}),
		"count too big":  withCRC([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3}),
	} {
		if _, err := producer.DecodeSnapshot(data); !errors.Is(err, producer.ErrCorruptSnapshot) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// Bytes after the entries are covered by the CRC and otherwise ignored.
	trailing := withCRC(append(append([]byte{}, good...), 9, 9))
	if es, err := producer.DecodeSnapshot(trailing); err != nil || len(es) != 0 {
		t.Fatalf("trailing bytes: %v %v", es, err)
	}
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(producer.EncodeSnapshot(nil))
	s, m := newState()
	mustApply(f, s, dataBatch(f, 1, 0, 0, 0, 3, true), producer.FromClient)
	mustApply(f, s, dataBatch(f, 2, 5, 9, 3, 1, false), producer.FromClient)
	s.TakeSnapshot(false)
	f.Add(m.files[4])
	f.Add([]byte{0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := producer.DecodeSnapshot(data)
		if err != nil {
			if !errors.Is(err, producer.ErrCorruptSnapshot) {
				t.Fatalf("error not marked corrupt: %v", err)
			}
			return
		}
		ptrs := make([]*producer.Entry, len(entries))
		for i := range entries {
			ptrs[i] = &entries[i]
		}
		enc := producer.EncodeSnapshot(ptrs)
		again, err := producer.DecodeSnapshot(enc)
		if err != nil {
			t.Fatalf("re-encoded snapshot unreadable: %v", err)
		}
		if !reflect.DeepEqual(snapshotView(again), snapshotView(entries)) {
			t.Fatalf("decode(encode(decode(x))) != decode(x)")
		}
		// A canonical file (what Kafka and kbroker write) encodes back to itself.
		if reenc := producer.EncodeSnapshot(ptrs); len(data) == len(reenc) && canonical(data) && !bytes.Equal(reenc, data) {
			t.Fatalf("canonical snapshot re-encodes differently\n got %x\nwant %x", reenc, data)
		}
	})
}

type entryView struct {
	Pid     int64
	Epoch   int16
	Coord   int32
	TS, Txn int64
	Batches []producer.BatchMetadata
}

func snapshotView(es []producer.Entry) []entryView {
	out := make([]entryView, len(es))
	for i := range es {
		out[i] = entryView{es[i].ProducerID, es[i].Epoch, es[i].CoordinatorEpoch, es[i].LastTimestamp, es[i].CurrentTxnFirstOffset, es[i].Batches()}
	}
	return out
}

// canonical reports that every entry has txnFirstOffset >= -1 and, when its
// last offset is negative, last offset -1, sequence -1 and delta 0.
func canonical(data []byte) bool {
	be := binary.BigEndian
	for p := data[10:]; len(p) >= producer.SnapshotEntrySize; p = p[producer.SnapshotEntrySize:] {
		if int64(be.Uint64(p[38:])) < -1 {
			return false
		}
		if off := int64(be.Uint64(p[14:])); off < 0 && (off != -1 || int32(be.Uint32(p[10:])) != -1 || be.Uint32(p[22:]) != 0) {
			return false
		}
	}
	return true
}
