package producer_test

import (
	"errors"
	"math"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/record"
)

// step is one batch offered to the state.
type step struct {
	b      func(t *testing.T) record.Batch
	origin producer.Origin
}

func data(pid int64, epoch int16, seq int32, base int64, n int, txn bool) func(t *testing.T) record.Batch {
	return func(t *testing.T) record.Batch { return dataBatch(t, pid, epoch, seq, base, n, txn) }
}

func ctl(pid int64, epoch int16, typ record.ControlType, coordEpoch int32, offset int64) func(t *testing.T) record.Batch {
	return func(t *testing.T) record.Batch { return marker(t, pid, epoch, typ, coordEpoch, offset) }
}

func TestAppendValidationRules(t *testing.T) {
	const pid = 1000
	client, coord, repl := producer.FromClient, producer.FromCoordinator, producer.FromReplication
	cases := []struct {
		name  string
		setup []step
		probe step
		want  *kerr.Error // nil: accepted
	}{
		{"new producer accepts any sequence", nil, step{data(pid, 3, 17, 0, 2, false), client}, nil},
		{"new producer accepts sequence 0", nil, step{data(pid, 0, 0, 0, 1, false), client}, nil},
		{"same epoch, next sequence", []step{{data(pid, 0, 0, 0, 5, false), client}}, step{data(pid, 0, 5, 5, 3, false), client}, nil},
		{"same epoch, gap", []step{{data(pid, 0, 0, 0, 5, false), client}}, step{data(pid, 0, 6, 5, 1, false), client}, kerr.OutOfOrderSequenceNumber},
		{"same epoch, sequence going back (not a retained batch)", []step{{data(pid, 0, 0, 0, 5, false), client}}, step{data(pid, 0, 2, 5, 1, false), client}, kerr.OutOfOrderSequenceNumber},
		{"same epoch, sequence 0 again", []step{{data(pid, 0, 0, 0, 5, false), client}}, step{data(pid, 0, 0, 5, 2, false), client}, kerr.OutOfOrderSequenceNumber},
		{"lower epoch", []step{{data(pid, 2, 0, 0, 1, false), client}}, step{data(pid, 1, 1, 1, 1, false), client}, kerr.InvalidProducerEpoch},
		{"lower epoch with sequence 0", []step{{data(pid, 2, 0, 0, 1, false), client}}, step{data(pid, 1, 0, 1, 1, false), client}, kerr.InvalidProducerEpoch},
		{"higher epoch starting at 0", []step{{data(pid, 0, 0, 0, 5, false), client}}, step{data(pid, 1, 0, 5, 1, false), client}, nil},
		{"higher epoch not starting at 0", []step{{data(pid, 0, 0, 0, 5, false), client}}, step{data(pid, 1, 5, 5, 1, false), client}, kerr.OutOfOrderSequenceNumber},
		{"sequence wraps after MaxInt32", []step{{data(pid, 0, math.MaxInt32, 0, 1, false), client}}, step{data(pid, 0, 0, 1, 1, false), client}, nil},
		{"after MaxInt32 only 0 follows", []step{{data(pid, 0, math.MaxInt32, 0, 1, false), client}}, step{data(pid, 0, 1, 1, 1, false), client}, kerr.OutOfOrderSequenceNumber},
		{"batch spanning the wrap", []step{{data(pid, 0, math.MaxInt32-1, 0, 3, false), client}}, step{data(pid, 0, 1, 3, 1, false), client}, nil},
		{"batch spanning the wrap, wrong next", []step{{data(pid, 0, math.MaxInt32-1, 0, 3, false), client}}, step{data(pid, 0, 0, 3, 1, false), client}, kerr.OutOfOrderSequenceNumber},
		{"non-transactional batch while a transaction is open",
			[]step{{data(pid, 0, 0, 0, 2, true), client}}, step{data(pid, 0, 2, 2, 1, false), client}, kerr.InvalidTxnState},
		{"non-transactional batch after the commit",
			[]step{{data(pid, 0, 0, 0, 2, true), client}, {ctl(pid, 0, record.ControlCommit, 3, 2), coord}}, step{data(pid, 0, 2, 3, 1, false), client}, nil},
		{"transactional batch continues the sequence after an abort",
			[]step{{data(pid, 0, 0, 0, 2, true), client}, {ctl(pid, 0, record.ControlAbort, 3, 2), coord}}, step{data(pid, 0, 2, 3, 1, true), client}, nil},
		{"marker with an older coordinator epoch",
			[]step{{data(pid, 0, 0, 0, 2, true), client}, {ctl(pid, 0, record.ControlCommit, 3, 2), coord}, {data(pid, 0, 2, 3, 1, true), client}},
			step{ctl(pid, 0, record.ControlCommit, 2, 4), coord}, kerr.TransactionCoordinatorFenced},
		{"marker with an older producer epoch",
			[]step{{data(pid, 1, 0, 0, 2, true), client}}, step{ctl(pid, 0, record.ControlAbort, 0, 2), coord}, kerr.InvalidProducerEpoch},
		{"marker bumping the epoch clears the batches: the new epoch starts at 0",
			[]step{{data(pid, 0, 0, 0, 2, true), client}, {ctl(pid, 1, record.ControlAbort, 0, 2), coord}}, step{data(pid, 1, 0, 3, 1, false), client}, nil},
		{"marker bumping the epoch clears the batches: sequence 2 refused",
			[]step{{data(pid, 0, 0, 0, 2, true), client}, {ctl(pid, 1, record.ControlAbort, 0, 2), coord}}, step{data(pid, 1, 2, 3, 1, false), client}, kerr.OutOfOrderSequenceNumber},
		{"coordinator origin skips the sequence check", []step{{data(pid, 0, 0, 0, 5, false), client}}, step{data(pid, 0, 40, 5, 1, false), coord}, nil},
		{"coordinator origin checks the epoch", []step{{data(pid, 3, 0, 0, 5, false), client}}, step{data(pid, 2, 5, 5, 1, false), coord}, kerr.InvalidProducerEpoch},
		{"replication accepts a gap", []step{{data(pid, 0, 0, 0, 5, false), client}}, step{data(pid, 0, 40, 5, 1, false), repl}, nil},
		{"replication accepts a lower epoch", []step{{data(pid, 3, 0, 0, 5, false), client}}, step{data(pid, 2, 5, 5, 1, false), repl}, nil},
		{"replication accepts an older coordinator epoch",
			[]step{{data(pid, 0, 0, 0, 2, true), client}, {ctl(pid, 0, record.ControlCommit, 3, 2), coord}, {data(pid, 0, 2, 3, 1, true), client}},
			step{ctl(pid, 0, record.ControlCommit, 2, 4), repl}, nil},
		{"replication still refuses a non-transactional batch inside a transaction",
			[]step{{data(pid, 0, 0, 0, 2, true), client}}, step{data(pid, 0, 2, 2, 1, false), repl}, kerr.InvalidTxnState},
		{"other producers do not interfere", []step{{data(pid+1, 0, 0, 0, 5, false), client}}, step{data(pid, 0, 9, 5, 1, false), client}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := newState()
			for _, st := range c.setup {
				mustApply(t, s, st.b(t), st.origin)
			}
			_, err := apply(s, c.probe.b(t), c.probe.origin)
			switch {
			case c.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Fatalf("err = %v, want %v", err, c.want)
			}
		})
	}
}

// A refused batch leaves the state as it was.
func TestAppendRefusedLeavesStateUnchanged(t *testing.T) {
	s, _ := newState()
	mustApply(t, s, dataBatch(t, 7, 0, 0, 0, 3, false), producer.FromClient)
	if _, err := apply(s, dataBatch(t, 7, 0, 9, 3, 1, false), producer.FromClient); err == nil {
		t.Fatal("gap accepted")
	}
	e, _ := s.Entry(7)
	if e.LastSeq() != 2 || e.LastDataOffset() != 2 || len(e.Batches()) != 1 {
		t.Fatalf("entry changed: last seq %d, last offset %d, %d batches", e.LastSeq(), e.LastDataOffset(), len(e.Batches()))
	}
}

// Several batches of one producer in one append are checked one after the
// other against what the earlier ones left.
func TestAppendSeveralBatches(t *testing.T) {
	s, _ := newState()
	mustApply(t, s, dataBatch(t, 5, 0, 0, 0, 2, false), producer.FromClient)
	a := s.PrepareUpdate(5, producer.FromClient)
	for i, b := range []record.Batch{dataBatch(t, 5, 0, 2, 2, 2, false), dataBatch(t, 5, 0, 4, 4, 2, false)} {
		if _, err := a.AppendBatch(b); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if _, err := a.AppendBatch(dataBatch(t, 5, 0, 4, 6, 1, false)); !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("repeated sequence in the same append: %v", err)
	}
	if e, _ := s.Entry(5); e.LastSeq() != 1 {
		t.Fatal("state changed before Update")
	}
	// Kafka checks sequences only against a known epoch: a new producer's
	// batches in one append are all accepted.
	n := s.PrepareUpdate(6, producer.FromClient)
	for _, b := range []record.Batch{dataBatch(t, 6, 0, 10, 0, 2, false), dataBatch(t, 6, 0, 3, 2, 2, false)} {
		if _, err := n.AppendBatch(b); err != nil {
			t.Fatalf("new producer: %v", err)
		}
	}
}

func TestTransactionFields(t *testing.T) {
	s, _ := newState()
	mustApply(t, s, dataBatch(t, 9, 0, 0, 10, 2, true), producer.FromClient)
	mustApply(t, s, dataBatch(t, 9, 0, 2, 12, 2, true), producer.FromClient)
	e, _ := s.Entry(9)
	if e.CurrentTxnFirstOffset != 10 {
		t.Fatalf("CurrentTxnFirstOffset = %d, want 10 (the first batch)", e.CurrentTxnFirstOffset)
	}
	done := mustApply(t, s, marker(t, 9, 0, record.ControlAbort, 4, 14), producer.FromCoordinator)
	want := producer.CompletedTxn{ProducerID: 9, FirstOffset: 10, LastOffset: 14, IsAborted: true}
	if done == nil || *done != want {
		t.Fatalf("completed = %+v, want %+v", done, want)
	}
	e, _ = s.Entry(9)
	if e.CurrentTxnFirstOffset != -1 || e.CoordinatorEpoch != 4 || e.LastTimestamp != ts0+14 || e.LastSeq() != 3 {
		t.Fatalf("after marker: %+v last seq %d", *e, e.LastSeq())
	}
	// A marker without an open transaction completes nothing.
	if done := mustApply(t, s, marker(t, 9, 0, record.ControlCommit, 4, 15), producer.FromCoordinator); done != nil {
		t.Fatalf("empty transaction completed: %+v", done)
	}
	mustApply(t, s, dataBatch(t, 9, 0, 4, 16, 1, true), producer.FromClient)
	e, _ = s.Entry(9)
	if e.CurrentTxnFirstOffset != 16 {
		t.Fatalf("next transaction starts at %d, want 16", e.CurrentTxnFirstOffset)
	}
	done = mustApply(t, s, marker(t, 9, 0, record.ControlCommit, 4, 17), producer.FromCoordinator)
	if done == nil || done.IsAborted || done.FirstOffset != 16 {
		t.Fatalf("commit completed %+v", done)
	}
}

func TestSequenceArithmetic(t *testing.T) {
	for _, c := range []struct{ seq, delta, want int32 }{
		{10, 3, 7}, {3, 3, 0}, {0, 1, math.MaxInt32}, {2, 4, math.MaxInt32 - 1}, {-1, 0, math.MaxInt32},
	} {
		if got := producer.DecrementSequence(c.seq, c.delta); got != c.want {
			t.Errorf("DecrementSequence(%d, %d) = %d, want %d", c.seq, c.delta, got, c.want)
		}
	}
	for seq := int32(math.MaxInt32 - 5); seq != 5; seq = record.IncrementSequence(seq, 1) {
		for d := int32(0); d < 8; d++ {
			if back := producer.DecrementSequence(record.IncrementSequence(seq, d), d); back != seq {
				t.Fatalf("Decrement(Increment(%d, %d)) = %d", seq, d, back)
			}
		}
	}
}
