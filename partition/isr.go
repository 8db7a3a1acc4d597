package partition

import (
	"errors"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

// Hooks connect a leader's ISR management to the rest of the broker.
type Hooks struct {
	// LagTimeMax is replica.lag.time.max.ms: a follower that has not been
	// caught up for longer leaves the ISR.
	LagTimeMax int64
	// MinISR is the topic's min.insync.replicas.
	MinISR func() int
	// IsEligible reports whether a broker may join an ISR (ZooKeeper mode:
	// it is alive in the metadata cache).
	IsEligible func(model.BrokerID) bool
	// Submit hands a proposed ISR change to the AlterPartition sender. It
	// is called without the partition's lock and must not block.
	Submit func(*ISRChange)
}

func (h *Hooks) defaults() {
	if h.LagTimeMax <= 0 {
		h.LagTimeMax = 30000
	}
	if h.MinISR == nil {
		h.MinISR = func() int { return 1 }
	}
	if h.IsEligible == nil {
		h.IsEligible = func(model.BrokerID) bool { return true }
	}
	if h.Submit == nil {
		h.Submit = func(*ISRChange) {}
	}
}

// Configure sets the hooks; call it before the partition gets a role.
func (p *Partition) Configure(h Hooks) {
	h.defaults()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hooks = h
}

// ISRChange is an ISR change proposed to the controller (one partition of
// an AlterPartition request). Only one is in flight per partition; while
// it is, the maximal ISR (used for the high watermark and acks=all) is the
// committed ISR plus an added follower, and a shrink does not count yet.
type ISRChange struct {
	TP                  model.TopicPartition
	TopicID             model.TopicID
	Leader              model.BrokerID
	LeaderEpoch         model.LeaderEpoch
	PartitionEpoch      int32
	ISR                 []model.BrokerID
	LeaderRecoveryState int8
	// Added is the follower an expansion adds (-1 for a shrink).
	Added model.BrokerID
}

// ISRChangeResult is the controller's answer for one ISRChange.
type ISRChangeResult struct {
	Err                 error
	LeaderEpoch         model.LeaderEpoch
	PartitionEpoch      int32
	ISR                 []model.BrokerID
	LeaderRecoveryState int8
}

// ISR is the committed ISR (the last one the controller accepted).
func (p *Partition) ISR() []model.BrokerID {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return slices.Clone(p.state.ISR)
}

// MaximalISR is the committed ISR plus a follower whose addition is in
// flight (KIP-497).
func (p *Partition) MaximalISR() []model.BrokerID {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.maximalISRLocked()
}

// ISRChangePending reports whether an ISR change is in flight.
func (p *Partition) ISRChangePending() bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pending != nil
}

func (p *Partition) maximalISRLocked() []model.BrokerID {
	isr := slices.Clone(p.state.ISR)
	if p.pending != nil && p.pending.Added >= 0 && !slices.Contains(isr, p.pending.Added) {
		isr = append(isr, p.pending.Added)
	}
	return isr
}

// caughtUp is Kafka's Replica.isCaughtUp: the follower's log end offset
// equals the leader's, or it was caught up within the lag time.
func (p *Partition) caughtUp(f *follower, leaderLEO, now int64) bool {
	return f.leo == leaderLEO || now-f.lastCaughtUpTime <= p.hooks.LagTimeMax
}

// underMinISRLocked is Kafka 3.7+'s gate on the high watermark: the
// committed ISR is smaller than min(min.insync.replicas, replicas).
func (p *Partition) underMinISRLocked() bool {
	n := len(p.state.Replicas)
	if n == 0 {
		n = 1
	}
	return len(p.state.ISR) < min(p.hooks.MinISR(), n)
}

// maybeIncrementHWLocked moves the leader's high watermark (Kafka's
// maybeIncrementLeaderHW): nothing moves while the committed ISR is under
// the effective min ISR; otherwise the new value is the leader's log end
// offset lowered to the log end offset of every follower in the maximal
// ISR, and of every follower caught up and eligible that is not in it yet.
// A follower that has not fetched in this epoch (-1) holds it. It only
// moves forward.
func (p *Partition) maybeIncrementHWLocked() bool {
	if p.role != RoleLeader || p.underMinISRLocked() {
		return false
	}
	leo := int64(p.log.LogEndOffset())
	hw := leo
	maximal := p.maximalISRLocked()
	now := p.now()
	for id, f := range p.followers {
		if f.leo >= hw {
			continue
		}
		if slices.Contains(maximal, id) || (p.caughtUp(f, leo, now) && p.hooks.IsEligible(id)) {
			hw = f.leo
		}
	}
	if hw > int64(p.log.HighWatermark()) {
		p.log.SetHighWatermark(model.Offset(hw))
		return true
	}
	return false
}

// maybeExpandISRLocked proposes adding a follower that fetched (Kafka's
// maybeExpandIsr): no change in flight, not in the ISR, eligible, and its
// log end offset has reached both the high watermark and the start of the
// current leader epoch.
func (p *Partition) maybeExpandISRLocked(id model.BrokerID, f *follower) *ISRChange {
	if p.pending != nil || slices.Contains(p.state.ISR, id) || !p.hooks.IsEligible(id) {
		return nil
	}
	if f.leo < int64(p.log.HighWatermark()) || f.leo < p.leaderEpochStartOffset {
		return nil
	}
	isr := append(slices.Clone(p.state.ISR), id)
	return p.proposeLocked(isr, id)
}

// OutOfSync lists the ISR followers that are not caught up now.
func (p *Partition) outOfSyncLocked(now int64) []model.BrokerID {
	leo := int64(p.log.LogEndOffset())
	var out []model.BrokerID
	for _, id := range p.state.ISR {
		if id == p.localID {
			continue
		}
		f, ok := p.followers[id]
		if !ok || !p.caughtUp(f, leo, now) {
			out = append(out, id)
		}
	}
	return out
}

// MaybeShrinkISR proposes removing the ISR followers that have not been
// caught up for replica.lag.time.max.ms (Kafka's isr-expiration task). It
// returns the removed followers (nil when nothing changed).
func (p *Partition) MaybeShrinkISR() []model.BrokerID {
	p.mu.Lock()
	if p.role != RoleLeader || p.pending != nil {
		p.mu.Unlock()
		return nil
	}
	out := p.outOfSyncLocked(p.now())
	if len(out) == 0 {
		p.mu.Unlock()
		return nil
	}
	isr := slices.DeleteFunc(slices.Clone(p.state.ISR), func(b model.BrokerID) bool { return slices.Contains(out, b) })
	ch := p.proposeLocked(isr, model.NoLeader)
	submit := p.hooks.Submit
	p.mu.Unlock()
	submit(ch)
	return out
}

func (p *Partition) proposeLocked(isr []model.BrokerID, added model.BrokerID) *ISRChange {
	ch := &ISRChange{
		TP: p.tp, TopicID: p.topicID, Leader: p.localID,
		LeaderEpoch: p.state.LeaderEpoch, PartitionEpoch: p.state.PartitionEpoch,
		ISR: isr, LeaderRecoveryState: 0, Added: added,
	}
	p.pending = ch
	return ch
}

// Resubmit reports whether ch is still the change in flight (the sender
// retries it after a failure that does not settle it).
func (p *Partition) Resubmit(ch *ISRChange) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pending == ch
}

// ISRChangeDone applies the controller's answer to ch (Kafka's
// handleAlterPartitionUpdate and handleAlterPartitionError). It reports
// whether the sender should submit ch again.
//   - success in the current leader epoch with a partition epoch not older:
//     the ISR, partition epoch and recovery state are committed and the
//     high watermark may move;
//   - OPERATION_NOT_ATTEMPTED, INELIGIBLE_REPLICA: the proposal is
//     dropped (back to the committed ISR);
//   - FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION, UNKNOWN_TOPIC_OR_PARTITION,
//     UNKNOWN_TOPIC_ID, INVALID_REQUEST: it stays pending until the next
//     LeaderAndIsr;
//   - anything else: retry.
func (p *Partition) ISRChangeDone(ch *ISRChange, r ISRChangeResult) (retry bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending != ch || p.role != RoleLeader {
		return false
	}
	var ke *kerr.Error
	switch {
	case r.Err == nil:
		if r.LeaderEpoch != p.state.LeaderEpoch || r.PartitionEpoch < p.state.PartitionEpoch {
			return false
		}
		p.state.ISR = slices.Clone(r.ISR)
		p.state.PartitionEpoch = r.PartitionEpoch
		p.state.LeaderRecoveryState = r.LeaderRecoveryState
		p.pending = nil
		p.maybeIncrementHWLocked()
		p.notifyLocked()
		return false
	case errors.As(r.Err, &ke) && (ke == kerr.OperationNotAttempted || ke == kerr.IneligibleReplica):
		p.pending = nil
		p.notifyLocked()
		return false
	case errors.As(r.Err, &ke) && (ke == kerr.FencedLeaderEpoch || ke == kerr.InvalidUpdateVersion ||
		ke == kerr.UnknownTopicOrPartition || ke == kerr.UnknownTopicID || ke == kerr.InvalidRequest):
		return false
	}
	return true
}
