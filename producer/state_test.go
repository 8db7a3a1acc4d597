package producer_test

import (
	"reflect"
	"testing"

	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/record"
)

// The five newest batches are duplicates; the sixth newest is not (and, its
// sequence being old, is out of order).
func TestDuplicateWithinRetainedBatches(t *testing.T) {
	s, _ := newState()
	const pid = 42
	var firsts []int64
	for i := 0; i < 8; i++ {
		b := dataBatch(t, pid, 0, int32(3*i), int64(10+3*i), 3, false)
		mustApply(t, s, b, producer.FromClient)
		firsts = append(firsts, b.BaseOffset())
	}
	for i := 0; i < 8; i++ {
		m, dup := s.FindDuplicate(pid, 0, int32(3*i), int32(3*i+2))
		retained := i >= 3
		if dup != retained {
			t.Fatalf("batch %d: duplicate = %v, want %v", i, dup, retained)
		}
		if dup && (m.FirstOffset() != firsts[i] || m.LastOffset != firsts[i]+2 || m.Timestamp != ts0+firsts[i]+2) {
			t.Fatalf("batch %d: metadata %+v, want first offset %d", i, m, firsts[i])
		}
	}
	// Same sequences, other epoch or other range: not duplicates.
	for _, c := range []struct {
		epoch       int16
		first, last int32
	}{{1, 21, 23}, {0, 21, 22}, {0, 22, 23}, {0, 21, 26}} {
		if _, dup := s.FindDuplicate(pid, c.epoch, c.first, c.last); dup {
			t.Fatalf("epoch %d [%d, %d] taken as a duplicate", c.epoch, c.first, c.last)
		}
	}
	if _, dup := s.FindDuplicate(pid+1, 0, 21, 23); dup {
		t.Fatal("unknown producer has duplicates")
	}
	e, _ := s.Entry(pid)
	if got := len(e.Batches()); got != producer.NumBatchesToRetain {
		t.Fatalf("%d batches retained, want %d", got, producer.NumBatchesToRetain)
	}
	if e.FirstSeq() != 9 || e.LastSeq() != 23 {
		t.Fatalf("retained sequences [%d, %d], want [9, 23]", e.FirstSeq(), e.LastSeq())
	}
}

// A duplicate across the sequence wrap is found by its wrapped last sequence.
func TestDuplicateAcrossWrap(t *testing.T) {
	s, _ := newState()
	b := dataBatch(t, 1, 0, 2147483646, 100, 4, false) // sequences MaxInt32-1 .. 1
	mustApply(t, s, b, producer.FromClient)
	m, dup := s.FindDuplicate(1, 0, b.BaseSequence(), b.LastSequence())
	if !dup || m.FirstOffset() != 100 || b.LastSequence() != 1 {
		t.Fatalf("dup=%v meta=%+v last seq %d", dup, m, b.LastSequence())
	}
}

// An epoch bump forgets the batches of the old epoch.
func TestEpochBumpForgetsBatches(t *testing.T) {
	s, _ := newState()
	mustApply(t, s, dataBatch(t, 3, 0, 0, 0, 2, false), producer.FromClient)
	mustApply(t, s, dataBatch(t, 3, 1, 0, 2, 2, false), producer.FromClient)
	if _, dup := s.FindDuplicate(3, 0, 0, 1); dup {
		t.Fatal("batch of the old epoch still a duplicate")
	}
	if _, dup := s.FindDuplicate(3, 1, 0, 1); !dup {
		t.Fatal("batch of the new epoch not a duplicate")
	}
	e, _ := s.Entry(3)
	if e.Epoch != 1 || len(e.Batches()) != 1 {
		t.Fatalf("epoch %d, %d batches", e.Epoch, len(e.Batches()))
	}
}

func TestExpiry(t *testing.T) {
	m := newMemSnaps()
	s := producer.NewState("foo-0", 1000, m)
	mustApply(t, s, dataBatch(t, 1, 0, 0, 0, 1, false), producer.FromClient)  // timestamp ts0
	mustApply(t, s, dataBatch(t, 2, 0, 0, 10, 1, false), producer.FromClient) // ts0+10
	mustApply(t, s, dataBatch(t, 3, 0, 0, 0, 1, true), producer.FromClient)   // ts0, open transaction
	if n := s.RemoveExpired(ts0 + 999); n != 0 {
		t.Fatalf("expired %d before their time", n)
	}
	if n := s.RemoveExpired(ts0 + 1000); n != 1 {
		t.Fatalf("expired %d at ts0+1000, want 1", n)
	}
	if _, ok := s.Entry(1); ok {
		t.Fatal("producer 1 not expired")
	}
	if _, ok := s.Entry(3); !ok {
		t.Fatal("producer with an open transaction expired")
	}
	if n := s.RemoveExpired(ts0 + 1010); n != 1 || s.Len() != 1 {
		t.Fatalf("expired %d at ts0+1010, %d left", n, s.Len())
	}
	// Expired producers are forgotten: any sequence is accepted again.
	mustApply(t, s, dataBatch(t, 1, 0, 77, 20, 1, false), producer.FromClient)
	// Loading a snapshot skips expired producers.
	s.SetMapEndOffset(21)
	if _, err := s.TakeSnapshot(false); err != nil {
		t.Fatal(err)
	}
	fresh := producer.NewState("foo-0", 1000, m)
	if err := fresh.TruncateAndReload(0, 21, ts0+1020); err != nil {
		t.Fatal(err)
	}
	if fresh.Len() != 1 {
		t.Fatalf("%d producers loaded, want 1 (the one in a transaction)", fresh.Len())
	}
	if _, ok := fresh.Entry(3); !ok {
		t.Fatal("producer 3 not loaded")
	}
}

func pids(es []*producer.Entry) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ProducerID
	}
	return out
}

// Entries follow java.util.HashMap<Long, _> iteration order: bucket
// (spread hash & (capacity-1)), then insertion order; the table doubles past
// 3/4 full and never shrinks.
func TestEntriesHashMapOrder(t *testing.T) {
	s, _ := newState()
	add := func(pid int64) {
		mustApply(t, s, dataBatch(t, pid, 0, 0, s.MapEndOffset(), 1, false), producer.FromClient)
	}
	for _, pid := range []int64{17, 5, 1, 1000, 33, 16} {
		add(pid)
	}
	// Capacity 16: 17,33 and 1 share bucket 1 (insertion order 17, 1, 33);
	// 1000 & 15 = 8; 16 is bucket 0.
	if got, want := pids(s.Entries()), []int64{16, 17, 1, 33, 5, 1000}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	// Large ids: Long.hashCode folds the high half, HashMap spreads by 16 bits.
	s2, _ := newState()
	for _, pid := range []int64{1 << 32, 1 << 16, 3, 1<<32 + 2} {
		mustApply(t, s2, dataBatch(t, pid, 0, 0, s2.MapEndOffset(), 1, false), producer.FromClient)
	}
	// hash(1<<32) = 1, hash(1<<16) = 1<<16 ^ 1 → bucket 1, hash(1<<32+2) = 3.
	if got, want := pids(s2.Entries()), []int64{1 << 32, 1 << 16, 3, 1<<32 + 2}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	// Growing past 12 entries doubles the table to 32: 1 and 33 part.
	for pid := int64(100); pid < 107; pid++ {
		add(pid)
	}
	// Capacity 32: 1 and 33 stay in bucket 1 in insertion order, 1000 (bucket
	// 8) before 104, 16 and 17 move to buckets 16 and 17.
	if got, want := pids(s.Entries()), []int64{1, 33, 100, 5, 101, 102, 103, 1000, 104, 105, 106, 16, 17}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order after resize %v, want %v", got, want)
	}
	// Removal keeps the table: after expiring everything and adding 1 and
	// 33 again, capacity 32 still separates them from 17.
	s.RemoveExpired(ts0 + producer.DefaultExpirationMs + 1_000_000)
	for _, pid := range []int64{33, 17, 1} {
		add(pid)
	}
	if got, want := pids(s.Entries()), []int64{33, 1, 17}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order after removal %v, want %v", got, want)
	}
}

// Nine ids in one bucket of a table smaller than 64 make HashMap resize.
func TestEntriesHashMapTreeifyResize(t *testing.T) {
	s, _ := newState()
	for i := int64(0); i < 9; i++ {
		mustApply(t, s, dataBatch(t, i*16, 0, 0, s.MapEndOffset(), 1, false), producer.FromClient)
	}
	// The ninth collision doubles the table to 32: even multiples of 16 in
	// bucket 0, odd ones in bucket 16.
	if got, want := pids(s.Entries()), []int64{0, 32, 64, 96, 128, 16, 48, 80, 112}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestTakeSnapshotOnlyWhenAhead(t *testing.T) {
	s, m := newState()
	if wrote, _ := s.TakeSnapshot(false); wrote {
		t.Fatal("snapshot at offset 0 of an empty state")
	}
	mustApply(t, s, dataBatch(t, 1, 0, 0, 0, 3, false), producer.FromClient)
	if wrote, err := s.TakeSnapshot(true); !wrote || err != nil {
		t.Fatalf("wrote=%v err=%v", wrote, err)
	}
	if wrote, _ := s.TakeSnapshot(true); wrote {
		t.Fatal("second snapshot at the same offset")
	}
	if !reflect.DeepEqual(m.writes, []int64{3}) || !m.synced[3] {
		t.Fatalf("writes %v synced %v", m.writes, m.synced)
	}
}

// TruncateAndReload deletes snapshots past the end and at or below the log
// start, and loads the newest one left; corrupt ones are deleted on the way.
func TestTruncateAndReload(t *testing.T) {
	s, m := newState()
	mustApply(t, s, dataBatch(t, 1, 0, 0, 0, 5, false), producer.FromClient)
	s.TakeSnapshot(false) // at 5
	mustApply(t, s, dataBatch(t, 1, 0, 5, 5, 5, false), producer.FromClient)
	s.TakeSnapshot(false) // at 10
	mustApply(t, s, dataBatch(t, 1, 0, 10, 10, 5, false), producer.FromClient)
	s.TakeSnapshot(false)         // at 15
	m.files[12] = []byte{0, 1, 2} // corrupt

	if err := s.TruncateAndReload(0, 13, ts0); err != nil {
		t.Fatal(err)
	}
	if got := m.Offsets(); !reflect.DeepEqual(got, []int64{5, 10}) {
		t.Fatalf("snapshots left %v, want [5 10]", got)
	}
	if s.MapEndOffset() != 10 || s.LastSnapOffset() != 10 {
		t.Fatalf("map end %d last snap %d, want 10", s.MapEndOffset(), s.LastSnapOffset())
	}
	e, _ := s.Entry(1)
	if e.LastSeq() != 9 || e.LastDataOffset() != 9 || len(e.Batches()) != 1 {
		t.Fatalf("loaded entry: last seq %d last offset %d, %d batches", e.LastSeq(), e.LastDataOffset(), len(e.Batches()))
	}
	// At the map end already: nothing reloaded, the log start prunes.
	if err := s.TruncateAndReload(5, 10, ts0); err != nil {
		t.Fatal(err)
	}
	if got := m.Offsets(); !reflect.DeepEqual(got, []int64{10}) {
		t.Fatalf("snapshots left %v, want [10]", got)
	}
	// Nothing left: empty at the log start.
	if err := s.TruncateAndReload(10, 11, ts0); err != nil {
		t.Fatal(err)
	}
	if !s.IsEmpty() || s.MapEndOffset() != 10 || len(m.Offsets()) != 0 {
		t.Fatalf("empty=%v map end %d snapshots %v", s.IsEmpty(), s.MapEndOffset(), m.Offsets())
	}
}

func TestRemoveStraySnapshots(t *testing.T) {
	for _, c := range []struct {
		snaps, bases, want []int64
	}{
		{[]int64{0, 10, 20, 25}, []int64{0, 10, 20}, []int64{0, 10, 20, 25}}, // 25: the clean-shutdown one
		{[]int64{5, 10, 15, 25, 30}, []int64{0, 10, 20}, []int64{10, 30}},
		{[]int64{5, 10, 15}, []int64{0, 10, 20}, []int64{10}},
		{[]int64{5, 7}, nil, []int64{7}},
	} {
		s, m := newState()
		for _, o := range c.snaps {
			m.files[o] = producer.EncodeSnapshot(nil)
		}
		if err := s.RemoveStraySnapshots(c.bases); err != nil {
			t.Fatal(err)
		}
		if got := m.Offsets(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("snapshots %v, bases %v: kept %v, want %v", c.snaps, c.bases, got, c.want)
		}
	}
}

func TestTruncateFully(t *testing.T) {
	s, m := newState()
	mustApply(t, s, dataBatch(t, 1, 0, 0, 0, 5, false), producer.FromClient)
	s.TakeSnapshot(false)
	if err := s.TruncateFullyAndStartAt(50); err != nil {
		t.Fatal(err)
	}
	if !s.IsEmpty() || len(m.Offsets()) != 0 || s.MapEndOffset() != 50 || s.LastSnapOffset() != 0 {
		t.Fatalf("empty=%v snapshots %v map end %d last snap %d", s.IsEmpty(), m.Offsets(), s.MapEndOffset(), s.LastSnapOffset())
	}
}

// Updates checks each producer's batches against what its earlier ones in
// the same append left, collects the completed transactions, and changes
// the State only when applied.
func TestUpdates(t *testing.T) {
	s, _ := newState()
	u := s.NewUpdates(producer.FromReplication)
	for _, b := range []record.Batch{
		dataBatch(t, 33, 0, 0, 0, 2, true),
		dataBatch(t, 1, 0, 0, 2, 1, false),
		marker(t, 33, 0, record.ControlCommit, 2, 3),
		dataBatch(t, 1, 0, 1, 4, 1, false),
	} {
		if err := u.Add(b); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 0 {
		t.Fatal("state changed before Apply")
	}
	u.Apply()
	if got, want := pids(s.Entries()), []int64{33, 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v (same bucket, first seen first)", got, want)
	}
	if want := []producer.CompletedTxn{{ProducerID: 33, FirstOffset: 0, LastOffset: 3}}; !reflect.DeepEqual(u.Completed, want) {
		t.Fatalf("completed %+v", u.Completed)
	}
	if e, _ := s.Entry(1); len(e.Batches()) != 2 || e.LastSeq() != 1 {
		t.Fatalf("producer 1: %+v", e.Batches())
	}
	if e, _ := s.Entry(33); e.CurrentTxnFirstOffset != -1 || e.CoordinatorEpoch != 2 {
		t.Fatalf("producer 33: %+v", *e)
	}
}
