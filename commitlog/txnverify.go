package commitlog

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/producer"
	"github.com/kbroker/kbroker/record"
)

// Transaction verification on the leader's log (Kafka's KIP-890 part 1):
// before the first transactional batch of a transaction is appended, the
// caller starts a verification here, asks the transaction coordinator
// whether the partition is in the transaction, and appends with the guard
// it got. A marker or transactional batch written meanwhile voids the
// guard (package producer), so a stale answer cannot open a transaction
// the coordinator no longer knows: no hanging transaction.

// TxnGuard is producer.Guard, for the rooms above the log.
type TxnGuard = producer.Guard

// NoTxnGuard is producer.NoGuard.
const NoTxnGuard = producer.NoGuard

// StartTxnVerification returns the guard the coordinator's answer for
// producer pid must be appended with, or producer.NoGuard when pid has an
// open transaction here (nothing to verify) or verification is off.
func (l *Log) StartTxnVerification(pid int64, seq int32, epoch int16) (producer.Guard, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.checkUsable(); err != nil {
		return producer.NoGuard, err
	}
	if !l.txnVerification {
		return producer.NoGuard, nil
	}
	return l.producers.StartVerification(pid, seq, epoch, l.now()), nil
}

// checkVerifiedLocked refuses a transactional data batch of a producer
// without an open transaction here unless guard is its pending
// verification's (Kafka's UnifiedLog check for client and coordinator
// appends). Markers are not checked.
func (l *Log) checkVerifiedLocked(b record.Batch, guard producer.Guard) error {
	if !l.txnVerification || !b.IsTransactional() || b.IsControl() {
		return nil
	}
	pid := b.ProducerID()
	if l.producers.HasOngoingTxn(pid) || l.producers.Verified(pid, guard) {
		return nil
	}
	return fmt.Errorf("record was not part of an ongoing transaction (producer %d, epoch %d, in %s): %w",
		pid, b.ProducerEpoch(), l.tp, kerr.InvalidTxnState)
}
