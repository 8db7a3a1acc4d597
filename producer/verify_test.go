package producer_test

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/record"
)

// applyUpdates runs one batch through Updates, as the log does.
func applyUpdates(s *producer.State, b record.Batch, origin producer.Origin) error {
	u := s.NewUpdates(origin)
	if err := u.Add(b); err != nil {
		return err
	}
	u.Apply()
	s.SetMapEndOffset(b.NextOffset())
	return nil
}

func TestVerificationGuardLifecycle(t *testing.T) {
	s := producer.NewState("t-0", 0, newMemSnaps())
	const pid = 7

	g := s.StartVerification(pid, 0, 1, ts0)
	if g == producer.NoGuard {
		t.Fatal("a producer without an open transaction got no guard")
	}
	if again := s.StartVerification(pid, 3, 1, ts0+1); again != g {
		t.Fatalf("a second verification while one is pending got guard %d, want the pending %d", again, g)
	}
	if !s.Verified(pid, g) || s.Verified(pid, g+1) || s.Verified(pid, producer.NoGuard) || s.Verified(pid+1, g) {
		t.Fatal("Verified accepts only the pending verification's own guard")
	}

	// The first transactional batch opens the transaction and ends the
	// verification: later batches need none.
	if err := applyUpdates(s, dataBatch(t, pid, 1, 0, 0, 2, true), producer.FromClient); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.PendingVerification(pid); ok {
		t.Fatal("the verification is still pending after the transactional batch")
	}
	if s.Verified(pid, g) {
		t.Fatal("a stale guard still verifies after the transaction opened")
	}
	if got := s.StartVerification(pid, 2, 1, ts0+2); got != producer.NoGuard {
		t.Fatalf("a producer with an open transaction got guard %d, want none", got)
	}

	// The marker closes it: a stale guard from before stays refused, and
	// the next transaction needs a new verification with a new guard.
	if err := applyUpdates(s, marker(t, pid, 1, record.ControlAbort, 0, 2), producer.FromCoordinator); err != nil {
		t.Fatal(err)
	}
	if s.HasOngoingTxn(pid) || s.Verified(pid, g) {
		t.Fatal("after the marker the old guard must not verify")
	}
	g2 := s.StartVerification(pid, 2, 1, ts0+3)
	if g2 == producer.NoGuard || g2 == g {
		t.Fatalf("new transaction's guard = %d (old %d): want a new one", g2, g)
	}
}

func TestVerificationMarkerEndsPendingVerification(t *testing.T) {
	// The ABA case: verification started, the coordinator aborts (marker),
	// then the old answer arrives: the guard no longer verifies.
	s := producer.NewState("t-0", 0, newMemSnaps())
	const pid = 9
	g := s.StartVerification(pid, 0, 0, ts0)
	if err := applyUpdates(s, marker(t, pid, 0, record.ControlAbort, 0, 0), producer.FromCoordinator); err != nil {
		t.Fatal(err)
	}
	if s.Verified(pid, g) {
		t.Fatal("a marker written during the verification must void its guard")
	}
}

func TestVerificationLowestSequenceAndEpoch(t *testing.T) {
	s := producer.NewState("t-0", 0, newMemSnaps())
	const pid = 11
	s.StartVerification(pid, 5, 2, ts0)
	s.StartVerification(pid, 3, 2, ts0) // lower sequence, same epoch: taken
	s.StartVerification(pid, 9, 1, ts0) // lower epoch: ignored
	v, _ := s.PendingVerification(pid)
	if v.LowestSequence != 3 || v.Epoch != 2 {
		t.Fatalf("pending = seq %d epoch %d, want 3 and 2", v.LowestSequence, v.Epoch)
	}
	s.StartVerification(pid, 8, 3, ts0) // higher epoch: replaces both
	v, _ = s.PendingVerification(pid)
	if v.LowestSequence != 8 || v.Epoch != 3 {
		t.Fatalf("pending = seq %d epoch %d, want 8 and 3", v.LowestSequence, v.Epoch)
	}

	// A client batch above the lowest sequence being verified waits.
	err := applyUpdates(s, dataBatch(t, pid, 3, 10, 0, 1, true), producer.FromClient)
	if !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("batch above the earliest verified sequence: %v, want OUT_OF_ORDER_SEQUENCE_NUMBER", err)
	}
	if err := applyUpdates(s, dataBatch(t, pid, 3, 8, 0, 1, true), producer.FromClient); err != nil {
		t.Fatalf("batch at the earliest verified sequence: %v", err)
	}
}

func TestVerificationExpires(t *testing.T) {
	s := producer.NewState("t-0", 1000, newMemSnaps())
	const pid = 13
	g := s.StartVerification(pid, 0, 0, ts0)
	s.RemoveExpired(ts0 + 999)
	if !s.Verified(pid, g) {
		t.Fatal("expired before producer.id.expiration.ms")
	}
	s.RemoveExpired(ts0 + 1000)
	if _, ok := s.PendingVerification(pid); ok {
		t.Fatal("the verification outlived producer.id.expiration.ms")
	}
}
