package partition

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
)

// Role is what this broker does for the partition.
type Role int8

const (
	// RoleNone: not a replica (any more), or not told yet.
	RoleNone Role = iota
	// RoleLeader serves produce and fetch.
	RoleLeader
	// RoleFollower replicates from the leader.
	RoleFollower
)

func (r Role) String() string {
	switch r {
	case RoleLeader:
		return "leader"
	case RoleFollower:
		return "follower"
	}
	return "none"
}

// State is the partition state of a LeaderAndIsr request.
type State struct {
	model.LeaderAndISR
	Replicas []model.BrokerID
	Adding   []model.BrokerID
	Removing []model.BrokerID
	IsNew    bool
}

// follower is the leader's view of one follower.
type follower struct {
	leo                int64 // -1 until it fetches in this leader epoch
	logStart           int64
	lastFetchLeaderLEO int64
	lastFetchTime      int64
	lastCaughtUpTime   int64
}

// Partition is one local replica.
type Partition struct {
	tp      model.TopicPartition
	topicID model.TopicID
	localID model.BrokerID
	log     *commitlog.Log
	now     func() int64

	mu                     sync.RWMutex
	role                   Role                         // guarded by mu
	state                  State                        // guarded by mu
	followers              map[model.BrokerID]*follower // guarded by mu; leader only
	leaderEpochStartOffset int64                        // guarded by mu
	changed                chan struct{}                // guarded by mu
	hooks                  Hooks                        // guarded by mu
	pending                *ISRChange                   // guarded by mu; the ISR change in flight
}

// New makes a partition around its log; it has no role until the
// controller gives it one.
func New(tp model.TopicPartition, localID model.BrokerID, log *commitlog.Log, now func() int64) *Partition {
	if now == nil {
		now = func() int64 { return time.Now().UnixMilli() }
	}
	p := &Partition{tp: tp, localID: localID, log: log, now: now, changed: make(chan struct{})}
	p.hooks.defaults()
	return p
}

// TopicPartition names the partition.
func (p *Partition) TopicPartition() model.TopicPartition { return p.tp }

// Log is the partition's log.
func (p *Partition) Log() *commitlog.Log { return p.log }

// Role is the current role.
func (p *Partition) Role() Role {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.role
}

// State is the last state the controller sent.
func (p *Partition) State() State {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.state
}

// LeaderEpoch is the current leader epoch (-1 before any LeaderAndIsr).
func (p *Partition) LeaderEpoch() model.LeaderEpoch {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.role == RoleNone && p.state.Replicas == nil {
		return model.NoLeaderEpoch
	}
	return p.state.LeaderEpoch
}

// Changed returns a channel closed at the next change of the log end
// offset, the high watermark or the role.
func (p *Partition) Changed() <-chan struct{} {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.changed
}

// notifyLocked wakes the waiters of Changed.
func (p *Partition) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// Notify wakes the waiters (after an append made outside the lock).
func (p *Partition) Notify() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notifyLocked()
}

// MakeLeader applies a LeaderAndIsr that names this broker leader. It is
// applied only when the leader epoch is newer than the current one (or the
// partition has no role yet). On a new epoch the epoch's start offset (the
// log end offset) enters the leader-epoch cache and every follower's
// tracking is reset. It reports whether the state changed.
func (p *Partition) MakeLeader(s State) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	newEpoch := p.role == RoleNone || s.LeaderEpoch > p.state.LeaderEpoch
	if !newEpoch && p.role == RoleLeader {
		return false, nil
	}
	p.role = RoleLeader
	p.state = s
	p.pending = nil
	leo := int64(p.log.LogEndOffset())
	if err := p.log.AssignLeaderEpoch(s.LeaderEpoch, model.Offset(leo)); err != nil {
		return false, err
	}
	p.leaderEpochStartOffset = leo
	now := p.now()
	p.followers = map[model.BrokerID]*follower{}
	for _, r := range s.Replicas {
		if r == p.localID {
			continue
		}
		f := &follower{leo: -1, logStart: -1}
		if slices.Contains(s.ISR, r) {
			f.lastCaughtUpTime = now
		}
		p.followers[r] = f
	}
	p.maybeIncrementHWLocked()
	p.notifyLocked()
	return true, nil
}

// MakeFollower applies a LeaderAndIsr that names another broker leader (or
// none). It reports whether the leader or its epoch changed, i.e. whether
// fetching must (re)start.
func (p *Partition) MakeFollower(s State) (bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	changed := p.role != RoleFollower || s.LeaderEpoch > p.state.LeaderEpoch || s.Leader != p.state.Leader
	p.role = RoleFollower
	p.state = s
	p.followers = nil
	p.pending = nil
	p.notifyLocked()
	return changed, nil
}

// Stop drops the role (StopReplica); the log stays unless the caller
// deletes it.
func (p *Partition) Stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.role = RoleNone
	p.followers = nil
	p.pending = nil
	p.notifyLocked()
}

// checkLeaderEpoch is Kafka's fencing of requests that carry the client's
// current leader epoch: -1 skips the check; older is FENCED_LEADER_EPOCH,
// newer UNKNOWN_LEADER_EPOCH.
func (p *Partition) checkLeaderEpochLocked(current int32) error {
	if current < 0 {
		return nil
	}
	switch {
	case current < int32(p.state.LeaderEpoch):
		return fmt.Errorf("%s: request epoch %d is older than the leader epoch %d: %w", p.tp, current, p.state.LeaderEpoch, kerr.FencedLeaderEpoch)
	case current > int32(p.state.LeaderEpoch):
		return fmt.Errorf("%s: request epoch %d is newer than the leader epoch %d: %w", p.tp, current, p.state.LeaderEpoch, kerr.UnknownLeaderEpoch)
	}
	return nil
}

func (p *Partition) notLeader() error {
	return fmt.Errorf("this broker is not the leader for %s: %w", p.tp, kerr.NotLeaderForPartition)
}

// Logs gives partitions their logs: the broker's log directories.
type Logs interface {
	GetOrCreateLog(tp model.TopicPartition, id model.TopicID) (*commitlog.Log, error)
	DeleteLog(tp model.TopicPartition) error
}

// Open creates the partition's log if needed (writing partition.metadata
// with the topic id) and returns the partition, without a role.
func Open(logs Logs, tp model.TopicPartition, id model.TopicID, localID model.BrokerID, now func() int64) (*Partition, error) {
	l, err := logs.GetOrCreateLog(tp, id)
	if err != nil {
		return nil, err
	}
	p := New(tp, localID, l, now)
	p.topicID = id
	return p, nil
}
