package partition

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
)

// TxnGuard is the guard of a transaction verification (package producer).
type TxnGuard = commitlog.TxnGuard

// NoTxnGuard is the guard of a batch that was not verified.
const NoTxnGuard = commitlog.NoTxnGuard

// AppendAsLeader appends a producer's (or coordinator's) batch. Only the
// leader accepts it (NOT_LEADER_OR_FOLLOWER otherwise); with acks=all the
// ISR must reach min.insync.replicas first (NOT_ENOUGH_REPLICAS, nothing
// written). guard is that of the transaction verification the batch
// passed, NoTxnGuard if none. The high watermark moves if the ISR allows.
func (p *Partition) AppendAsLeader(records []byte, requiredAcks int16, minISR int, origin record.Origin, guard TxnGuard) (commitlog.AppendInfo, error) {
	p.mu.RLock()
	if p.role != RoleLeader {
		p.mu.RUnlock()
		return commitlog.AppendInfo{}, p.notLeader()
	}
	if requiredAcks == -1 && len(p.state.ISR) < minISR {
		n := len(p.state.ISR)
		p.mu.RUnlock()
		return commitlog.AppendInfo{}, fmt.Errorf("the size of the current ISR %d is insufficient to satisfy the min.isr requirement of %d for partition %s: %w",
			n, minISR, p.tp, kerr.NotEnoughReplicas)
	}
	epoch := p.state.LeaderEpoch
	p.mu.RUnlock()

	info, err := p.log.AppendAsLeaderGuarded(records, epoch, origin, guard)
	if err != nil {
		return info, err
	}
	p.mu.Lock()
	p.maybeIncrementHWLocked()
	p.notifyLocked()
	p.mu.Unlock()
	return info, nil
}

// StartTxnVerification starts the verification of producer pid's first
// transactional batch here (only the leader: NOT_LEADER_OR_FOLLOWER
// otherwise) and returns its guard, NoTxnGuard when none is needed.
func (p *Partition) StartTxnVerification(pid int64, seq int32, epoch int16) (TxnGuard, error) {
	p.mu.RLock()
	leader := p.role == RoleLeader
	p.mu.RUnlock()
	if !leader {
		return NoTxnGuard, p.notLeader()
	}
	return p.log.StartTxnVerification(pid, seq, epoch)
}

// HighWatermark is the offset below which records are committed.
func (p *Partition) HighWatermark() model.Offset { return p.log.HighWatermark() }

// LogEndOffset is the next offset to be written.
func (p *Partition) LogEndOffset() model.Offset { return p.log.LogEndOffset() }

// LastStableOffset is the offset below which every transaction is decided
// (and its marker replicated), at most the high watermark.
func (p *Partition) LastStableOffset() model.Offset { return p.log.LastStableOffset() }

// LogStartOffset is the first readable offset.
func (p *Partition) LogStartOffset() model.Offset { return p.log.LogStartOffset() }

// MaximalISRSize is the size of the maximal ISR (for an acks=all produce
// that completes: below min.insync.replicas it answers
// NOT_ENOUGH_REPLICAS_AFTER_APPEND).
func (p *Partition) MaximalISRSize() int {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return len(p.maximalISRLocked())
}

// AppendAsFollower appends batches fetched from the leader, with their
// offsets, and takes the leader's high watermark (bounded by the local log
// end offset).
func (p *Partition) AppendAsFollower(records []byte, leaderHW model.Offset) (commitlog.AppendInfo, error) {
	p.mu.RLock()
	role := p.role
	p.mu.RUnlock()
	if role != RoleFollower {
		return commitlog.AppendInfo{}, p.notLeader()
	}
	info, err := p.log.AppendAsFollower(records)
	if err != nil {
		return info, err
	}
	p.UpdateFollowerHW(leaderHW)
	return info, nil
}

// UpdateFollowerHW sets a follower's high watermark to min(leader HW, LEO).
func (p *Partition) UpdateFollowerHW(leaderHW model.Offset) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Set even when unchanged: as Kafka's maybeUpdateHighWatermark, it
	// forgets the transactions whose markers are below it.
	p.log.SetHighWatermark(min(leaderHW, p.log.LogEndOffset()))
	p.notifyLocked()
}
