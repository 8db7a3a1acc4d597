package commitlog_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/record"
)

// newVerifyingLog opens an empty log with transaction verification on.
func newVerifyingLog(t *testing.T, on bool) *commitlog.Log {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "foo-0")
	return openLog(t, dir, commitlog.Options{Config: commitlog.DefaultConfig(), Now: newFakeClock(baseTime).Now,
		HadCleanShutdown: true, TxnVerification: on})
}

func TestTxnVerificationGuardsFirstTransactionalBatch(t *testing.T) {
	l := newVerifyingLog(t, true)
	const pid, epoch = 5, 0

	// Unverified: refused, nothing written.
	_, err := l.AppendAsLeader(idemBatch(t, pid, epoch, 0, 2, true, baseTime), 0, record.FromClient)
	if !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("unverified transactional batch: %v, want INVALID_TXN_STATE", err)
	}
	if l.LogEndOffset() != 0 {
		t.Fatalf("LEO %d after a refused batch", l.LogEndOffset())
	}

	// Verified: the guard lets the first batch in; later batches of the
	// open transaction need none.
	g, err := l.StartTxnVerification(pid, 0, epoch)
	if err != nil || g == producer.NoGuard {
		t.Fatalf("StartTxnVerification = %d, %v", g, err)
	}
	if _, err := l.AppendAsLeaderGuarded(idemBatch(t, pid, epoch, 0, 2, true, baseTime), 0, record.FromClient, g); err != nil {
		t.Fatalf("verified batch: %v", err)
	}
	if g2, _ := l.StartTxnVerification(pid, 2, epoch); g2 != producer.NoGuard {
		t.Fatalf("open transaction: guard %d, want none", g2)
	}
	if _, err := l.AppendAsLeader(idemBatch(t, pid, epoch, 2, 1, true, baseTime), 0, record.FromClient); err != nil {
		t.Fatalf("second batch of the open transaction: %v", err)
	}

	// The marker ends it; the old guard does not open the next one.
	if _, err := l.AppendAsLeader(marker(t, pid, epoch, record.ControlAbort, 0), 0, record.FromCoordinator); err != nil {
		t.Fatal(err)
	}
	_, err = l.AppendAsLeaderGuarded(idemBatch(t, pid, epoch, 3, 1, true, baseTime), 0, record.FromClient, g)
	if !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("stale guard after the marker: %v, want INVALID_TXN_STATE", err)
	}
	if got := l.LogEndOffset(); got != model.Offset(4) {
		t.Fatalf("LEO %d, want 4 (2 + 1 records + marker)", got)
	}
}

func TestTxnVerificationVoidedByMarkerDuringVerification(t *testing.T) {
	l := newVerifyingLog(t, true)
	const pid, epoch = 6, 0
	g, _ := l.StartTxnVerification(pid, 0, epoch)
	// The coordinator aborts (a marker for a transaction with no data
	// here) while the answer is on its way.
	if _, err := l.AppendAsLeader(marker(t, pid, epoch, record.ControlAbort, 0), 0, record.FromCoordinator); err != nil {
		t.Fatal(err)
	}
	_, err := l.AppendAsLeaderGuarded(idemBatch(t, pid, epoch, 0, 1, true, baseTime), 0, record.FromClient, g)
	if !errors.Is(err, kerr.InvalidTxnState) {
		t.Fatalf("guard voided by a marker: %v, want INVALID_TXN_STATE", err)
	}
}

func TestTxnVerificationOff(t *testing.T) {
	l := newVerifyingLog(t, false)
	g, err := l.StartTxnVerification(7, 0, 0)
	if err != nil || g != producer.NoGuard {
		t.Fatalf("verification off: guard %d, %v; want none", g, err)
	}
	if _, err := l.AppendAsLeader(idemBatch(t, 7, 0, 0, 1, true, baseTime), 0, record.FromClient); err != nil {
		t.Fatalf("verification off: %v", err)
	}
}

func TestTxnVerificationSkipsNonTransactionalAndFollowers(t *testing.T) {
	l := newVerifyingLog(t, true)
	if _, err := l.AppendAsLeader(idemBatch(t, 8, 0, 0, 1, false, baseTime), 0, record.FromClient); err != nil {
		t.Fatalf("idempotent batch: %v", err)
	}
	// A follower copies what the leader verified.
	fb := idemBatch(t, 9, 0, 0, 1, true, baseTime)
	record.Batch(fb).SetLastOffset(1)
	if _, err := l.AppendAsFollower(fb); err != nil {
		t.Fatalf("follower append of a transactional batch: %v", err)
	}
}
