package producer_test

import (
	"errors"
	"sort"
	"testing"

	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/record"
)

const ts0 int64 = 1_700_000_000_000

// dataBatch builds a batch of n records with offsets from base, stamped
// with the producer fields.
func dataBatch(t testing.TB, pid int64, epoch int16, seq int32, base int64, n int, txn bool) record.Batch {
	t.Helper()
	spec := record.NewSpec()
	spec.BaseOffset = base
	spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence = pid, epoch, seq
	spec.Transactional = txn
	recs := make([]record.NewRecord, n)
	for i := range recs {
		recs[i] = record.NewRecord{Timestamp: ts0 + base + int64(i), Value: []byte("v")}
	}
	b, err := record.Build(spec, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// marker builds a COMMIT or ABORT control batch at offset.
func marker(t testing.TB, pid int64, epoch int16, typ record.ControlType, coordEpoch int32, offset int64) record.Batch {
	t.Helper()
	b, err := record.BuildEndTxnMarker(pid, epoch, typ, coordEpoch, ts0+offset)
	if err != nil {
		t.Fatal(err)
	}
	b.SetLastOffset(offset)
	return b
}

// apply validates one batch as origin and, if valid, applies it.
func apply(s *producer.State, b record.Batch, origin producer.Origin) (*producer.CompletedTxn, error) {
	a := s.PrepareUpdate(b.ProducerID(), origin)
	done, err := a.AppendBatch(b)
	if err != nil {
		return nil, err
	}
	s.Update(a)
	s.SetMapEndOffset(b.NextOffset())
	return done, nil
}

func mustApply(t testing.TB, s *producer.State, b record.Batch, origin producer.Origin) *producer.CompletedTxn {
	t.Helper()
	done, err := apply(s, b, origin)
	if err != nil {
		t.Fatalf("append [%d, %d] pid %d epoch %d seq %d: %v", b.BaseOffset(), b.LastOffset(), b.ProducerID(), b.ProducerEpoch(), b.BaseSequence(), err)
	}
	return done
}

// memSnaps is an in-memory producer.Snapshots.
type memSnaps struct {
	files  map[int64][]byte
	writes []int64
	synced map[int64]bool
}

func newMemSnaps() *memSnaps { return &memSnaps{files: map[int64][]byte{}, synced: map[int64]bool{}} }

func (m *memSnaps) Offsets() []int64 {
	out := make([]int64, 0, len(m.files))
	for o := range m.files {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (m *memSnaps) Read(off int64) ([]byte, error) {
	d, ok := m.files[off]
	if !ok {
		return nil, errors.New("no such snapshot")
	}
	return d, nil
}

func (m *memSnaps) Write(off int64, data []byte, sync bool) error {
	m.files[off] = append([]byte(nil), data...)
	m.writes = append(m.writes, off)
	m.synced[off] = sync
	return nil
}

func (m *memSnaps) Remove(off int64) error {
	delete(m.files, off)
	return nil
}

func newState() (*producer.State, *memSnaps) {
	m := newMemSnaps()
	return producer.NewState("foo-0", 0, m), m
}
