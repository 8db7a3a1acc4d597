package producer

// Transaction verification (Kafka's KIP-890 part 1, on by default since
// 3.6): before the first transactional batch of a transaction is written to
// a partition, the leader asks the transaction coordinator whether the
// partition really is in the producer's transaction. Between the question
// and the append, a marker may close the transaction and a new one begin;
// a Guard ties the coordinator's answer to the verification it answered,
// so that a stale answer cannot let a batch in (the ABA case).
//
// A producer with an open transaction on the partition needs no
// verification (the coordinator knew of the partition when it opened).
// Any transactional batch or marker of the producer ends the verification:
// either the transaction is open now or it is over.

// Guard identifies one verification; NoGuard is Kafka's sentinel guard,
// which verifies nothing.
type Guard uint64

// NoGuard is the guard of a batch that was not verified.
const NoGuard Guard = 0

// Verification is a producer's pending verification on a partition
// (Kafka's VerificationStateEntry).
type Verification struct {
	Guard Guard
	// Timestamp is when it started; it expires with the producers, after
	// producer.id.expiration.ms.
	Timestamp int64
	// LowestSequence is the lowest base sequence verified for the epoch:
	// a client batch with a higher first sequence must wait for it
	// (OUT_OF_ORDER_SEQUENCE_NUMBER, which producers retry).
	LowestSequence int32
	Epoch          int16
}

// HasOngoingTxn reports whether pid has an open transaction here.
func (s *State) HasOngoingTxn(pid int64) bool {
	e, ok := s.producers[pid]
	return ok && e.CurrentTxnFirstOffset >= 0
}

// StartVerification returns the guard the coordinator's answer for pid
// must come back with: NoGuard when pid has an open transaction (nothing
// to verify), else the pending verification's, started now if none is
// pending. The pending one takes the higher epoch, and within an epoch the
// lower sequence.
func (s *State) StartVerification(pid int64, seq int32, epoch int16, now int64) Guard {
	if s.HasOngoingTxn(pid) {
		return NoGuard
	}
	v, ok := s.verifying[pid]
	if !ok {
		if s.verifying == nil {
			s.verifying = map[int64]*Verification{}
		}
		s.nextGuard++
		s.verifying[pid] = &Verification{Guard: s.nextGuard, Timestamp: now, LowestSequence: seq, Epoch: epoch}
		return s.nextGuard
	}
	switch {
	case epoch > v.Epoch:
		v.Epoch, v.LowestSequence = epoch, seq
	case epoch == v.Epoch && seq < v.LowestSequence:
		v.LowestSequence = seq
	}
	return v.Guard
}

// Verified reports whether a batch appended with guard g may open a
// transaction for pid: g must be the pending verification's own guard.
func (s *State) Verified(pid int64, g Guard) bool {
	v, ok := s.verifying[pid]
	return ok && g != NoGuard && v.Guard == g
}

// PendingVerification returns pid's pending verification, if any.
func (s *State) PendingVerification(pid int64) (Verification, bool) {
	v, ok := s.verifying[pid]
	if !ok {
		return Verification{}, false
	}
	return *v, true
}

// endVerification forgets pid's pending verification.
func (s *State) endVerification(pid int64) { delete(s.verifying, pid) }

// removeExpiredVerifications forgets the verifications older than
// producer.id.expiration.ms.
func (s *State) removeExpiredVerifications(now int64) {
	for pid, v := range s.verifying {
		if now-v.Timestamp >= s.expirationMs {
			delete(s.verifying, pid)
		}
	}
}
