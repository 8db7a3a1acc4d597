package group

import (
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a group's state in the classic protocol.
type State int8

// The states of Kafka's GroupMetadata, with their names as DescribeGroups
// and ListGroups report them.
const (
	Empty State = iota
	PreparingRebalance
	CompletingRebalance
	Stable
	Dead
)

func (s State) String() string {
	switch s {
	case Empty:
		return "Empty"
	case PreparingRebalance:
		return "PreparingRebalance"
	case CompletingRebalance:
		return "CompletingRebalance"
	case Stable:
		return "Stable"
	default:
		return "Dead"
	}
}

// protocol is one assignor a member supports, with its metadata.
type protocol struct {
	name     string
	metadata []byte
}

// member is one member of a group; its fields are guarded by the group's
// lock.
type member struct {
	id               string
	instanceID       *string
	clientID         string
	clientHost       string
	rebalanceTimeout time.Duration
	sessionTimeout   time.Duration
	protocolType     string
	protocols        []protocol
	assignment       []byte

	joinWait chan joinOutcome // set while awaiting the join response
	syncWait chan syncResult  // set while awaiting the sync response

	heartbeat *time.Timer // session expiry
	beat      uint64      // token of the armed heartbeat timer
	isNew     bool        // joined and never answered yet
}

type syncResult struct {
	err        error
	assignment []byte
}

// metadataFor is the member's metadata for a protocol.
func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.name == name {
			return p.metadata
		}
	}
	return nil
}

func hasProtocol(ps []protocol, name string) bool {
	for _, p := range ps {
		if p.name == name {
			return true
		}
	}
	return false
}

// offsetEntry is a committed offset and the log offset of its record (a
// later record replaces an earlier one only).
type offsetEntry struct {
	CommittedOffset
	logOffset int64
}

// topicPartition keys committed offsets.
type topicPartition struct {
	topic     string
	partition int32
}

// group is one consumer group. Every field is guarded by mu.
type group struct {
	c  *Coordinator
	s  *shard
	id string

	mu           sync.Mutex
	state        State
	stateTime    time.Time // when the state last changed (currentStateTimestamp)
	protocolType string    // "" until a member joined
	protocol     string    // the selected protocol; "" when none
	generation   int32
	leader       string
	members      map[string]*member
	static       map[string]string      // group.instance.id → member id
	pending      map[string]*time.Timer // member ids handed out with MEMBER_ID_REQUIRED

	// The join phase: timer completes it; joinToken invalidates an old
	// timer; initialDelay tracks group.initial.rebalance.delay.ms.
	joinTimer      *time.Timer
	joinToken      uint64
	initialPhase   bool
	newMemberAdded bool
	remaining      time.Duration

	// After the join phase: members expected to send SyncGroup, and the
	// timer that removes them when they do not.
	pendingSync map[string]bool
	syncTimer   *time.Timer
	syncToken   uint64

	offsets map[topicPartition]offsetEntry
	// pendingCommits counts offset commits appended and not yet applied.
	pendingCommits int
	// pendingPlain counts, per partition, the plain commits in flight;
	// pendingTxn holds, per producer id, the transactional commits whose
	// transaction has not ended.
	pendingPlain map[topicPartition]int
	pendingTxn   map[int64]map[topicPartition]txnOffset
	nextToken    uint64
}

func newGroup(c *Coordinator, s *shard, id string) *group {
	return &group{c: c, s: s, id: id, state: Empty, stateTime: c.cfg.Now(),
		members: map[string]*member{}, static: map[string]string{}, pending: map[string]*time.Timer{},
		pendingSync: map[string]bool{}, offsets: map[topicPartition]offsetEntry{},
		pendingPlain: map[topicPartition]int{}, pendingTxn: map[int64]map[topicPartition]txnOffset{}}
}

func (g *group) token() uint64 {
	g.nextToken++
	return g.nextToken
}

func (g *group) transition(to State) {
	g.state = to
	g.stateTime = g.c.cfg.Now()
}

// maxRebalanceTimeout is the largest rebalance timeout of the members.
func (g *group) maxRebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// supportsProtocols: an empty group takes any protocol type; otherwise the
// type must match and at least one protocol be supported by every member.
func (g *group) supportsProtocols(protocolType string, protocols []protocol) bool {
	if len(g.members) == 0 {
		return protocolType != "" && len(protocols) > 0
	}
	if g.protocolType != protocolType {
		return false
	}
	for _, p := range protocols {
		all := true
		for _, m := range g.members {
			if !hasProtocol(m.protocols, p.name) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// selectProtocol: among the protocols every member supports, each member
// votes for the first of its own list; the most votes win (ties go to the
// name first in order).
func (g *group) selectProtocol() string {
	var candidates []string
	for _, m := range g.members {
		for _, p := range m.protocols {
			all := true
			for _, o := range g.members {
				if !hasProtocol(o.protocols, p.name) {
					all = false
					break
				}
			}
			if all && !contains(candidates, p.name) {
				candidates = append(candidates, p.name)
			}
		}
		break
	}
	votes := map[string]int{}
	for _, m := range g.members {
		for _, p := range m.protocols {
			if contains(candidates, p.name) {
				votes[p.name]++
				break
			}
		}
	}
	sort.Strings(candidates)
	best, n := "", -1
	for _, c := range candidates {
		if votes[c] > n {
			best, n = c, votes[c]
		}
	}
	return best
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// allJoined: every member awaits its join response and no member id
// handed out with MEMBER_ID_REQUIRED is still expected.
func (g *group) allJoined() bool {
	for _, m := range g.members {
		if m.joinWait == nil {
			return false
		}
	}
	return len(g.pending) == 0
}

// isStaticFenced: a request names a group.instance.id whose current
// member id is another one.
func (g *group) isStaticFenced(instanceID *string, memberID string) bool {
	if instanceID == nil {
		return false
	}
	cur, ok := g.static[*instanceID]
	return ok && cur != memberID
}

// shutdown ends the group on this broker (its partition was unloaded):
// waiting members get err, timers stop.
func (g *group) shutdown(err error) {
	g.stopJoinTimer()
	g.stopSyncTimer()
	for _, m := range g.members {
		g.answerJoin(m, joinError(m.id, err))
		g.answerSync(m, syncResult{err: err})
		if m.heartbeat != nil {
			m.heartbeat.Stop()
		}
	}
	for _, t := range g.pending {
		t.Stop()
	}
	g.state = Dead
}

func (g *group) stopJoinTimer() {
	if g.joinTimer != nil {
		g.joinTimer.Stop()
		g.joinTimer = nil
	}
	g.joinToken = 0
}

// joinOutcome is the answer to a JoinGroup: the response fields, and the
// error whose code the api layer sets (resp then carries only the member
// id, as MEMBER_ID_REQUIRED needs).
type joinOutcome struct {
	resp *kmsg.JoinGroupResponse
	err  error
}

// answerJoin delivers a join response to a waiting member.
func (g *group) answerJoin(m *member, r *joinOutcome) {
	if m.joinWait != nil {
		m.joinWait <- *r
		m.joinWait = nil
	}
}

// answerSync delivers a sync response to a waiting member.
func (g *group) answerSync(m *member, r syncResult) {
	if m.syncWait != nil {
		m.syncWait <- r
		m.syncWait = nil
	}
}

func joinError(memberID string, err error) *joinOutcome {
	r := kmsg.NewPtrJoinGroupResponse()
	r.MemberID = memberID
	r.Generation = -1
	return &joinOutcome{resp: r, err: err}
}
