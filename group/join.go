package group

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newMemberJoinTimeout: a new member that waits for its first join
// response longer than this is dropped (Kafka's NewMemberJoinTimeoutMs).
const newMemberJoinTimeout = 5 * time.Minute

// JoinRequest is a JoinGroup request with what the connection adds.
type JoinRequest struct {
	*kmsg.JoinGroupRequest
	ClientID   string
	ClientHost string // as Kafka writes it: "/" + IP
}

// JoinGroup serves JoinGroup (every version). It blocks until the member's
// join phase ends (or ctx ends, when the answer no longer matters). On
// error the response carries the member id (MEMBER_ID_REQUIRED hands one
// out) and generation -1.
func (c *Coordinator) JoinGroup(ctx context.Context, req JoinRequest) (*kmsg.JoinGroupResponse, error) {
	o := c.joinGroup(ctx, req)
	return o.resp, o.err
}

func (c *Coordinator) joinGroup(ctx context.Context, req JoinRequest) *joinOutcome {
	if req.Group == "" {
		return joinError(req.MemberID, kerr.InvalidGroupID)
	}
	if _, err := c.shardFor(req.Group); err != nil {
		return joinError(req.MemberID, err)
	}
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	if session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout {
		return joinError(req.MemberID, kerr.InvalidSessionTimeout)
	}
	rebalance := time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	if req.Version == 0 {
		rebalance = session // v0 has no rebalance timeout
	}
	unknown := req.MemberID == ""
	g, err := c.lookup(req.Group, unknown)
	if err != nil {
		return joinError(req.MemberID, err)
	}
	if g == nil {
		return joinError(req.MemberID, kerr.UnknownMemberID)
	}
	protocols := make([]protocol, len(req.Protocols))
	for i, p := range req.Protocols {
		protocols[i] = protocol{name: p.Name, metadata: p.Metadata}
	}
	j := &joining{req: req, session: session, rebalance: rebalance, protocols: protocols}

	var wait chan joinOutcome
	var direct *joinOutcome
	var store *pendingStore
	switch {
	case !g.acceptJoining(req.MemberID):
		direct = joinError(req.MemberID, kerr.GroupMaxSizeReached)
	case unknown:
		wait, direct, store = g.joinNew(j)
	default:
		wait, direct = g.joinKnown(j)
	}
	if g.state == PreparingRebalance {
		g.tryCompleteJoin()
	}
	g.mu.Unlock()

	if store != nil {
		store.run()
	}
	if direct != nil {
		return direct
	}
	select {
	case r := <-wait:
		return &r
	case <-ctx.Done():
		return joinError(req.MemberID, kerr.RebalanceInProgress)
	}
}

// joining is one JoinGroup being applied.
type joining struct {
	req       JoinRequest
	session   time.Duration
	rebalance time.Duration
	protocols []protocol
}

// acceptJoining applies group.max.size (Kafka's acceptJoiningMember).
func (g *group) acceptJoining(memberID string) bool {
	max := g.c.cfg.MaxSize
	if max <= 0 {
		return true
	}
	m := g.members[memberID]
	switch g.state {
	case CompletingRebalance, Stable:
		return m != nil || len(g.members) < max
	case PreparingRebalance:
		awaiting := 0
		for _, o := range g.members {
			if o.joinWait != nil {
				awaiting++
			}
		}
		return (m != nil && m.joinWait != nil) || awaiting < max
	default:
		return true
	}
}

// newMemberID is client id (or group.instance.id) + "-" + a random UUID.
func newMemberID(prefix string) string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%s-%x-%x-%x-%x-%x", prefix, u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// joinNew handles a join without a member id.
func (g *group) joinNew(j *joining) (chan joinOutcome, *joinOutcome, *pendingStore) {
	if !g.supportsProtocols(j.req.ProtocolType, j.protocols) {
		return nil, joinError("", kerr.InconsistentGroupProtocol), nil
	}
	prefix := j.req.ClientID
	if j.req.InstanceID != nil {
		prefix = *j.req.InstanceID
	}
	id := newMemberID(prefix)
	if j.req.InstanceID != nil {
		if old, ok := g.static[*j.req.InstanceID]; ok {
			return g.replaceStatic(j, old, id)
		}
		return g.addMember(j, id), nil, nil
	}
	if j.req.Version >= 4 {
		// KIP-394: hand out the id, expect the member back with it.
		g.addPending(id, j.session)
		return nil, joinError(id, kerr.MemberIDRequired), nil
	}
	return g.addMember(j, id), nil, nil
}

// joinKnown handles a join with a member id.
func (g *group) joinKnown(j *joining) (chan joinOutcome, *joinOutcome) {
	id := j.req.MemberID
	if !g.supportsProtocols(j.req.ProtocolType, j.protocols) {
		return nil, joinError(id, kerr.InconsistentGroupProtocol)
	}
	if t, ok := g.pending[id]; ok {
		t.Stop()
		delete(g.pending, id)
		return g.addMember(j, id), nil
	}
	instanceUnknown := j.req.InstanceID != nil && g.static[*j.req.InstanceID] == ""
	switch m := g.members[id]; {
	case g.isStaticFenced(j.req.InstanceID, id):
		return nil, joinError(id, kerr.FencedInstanceID)
	case m == nil || instanceUnknown:
		return nil, joinError(id, kerr.UnknownMemberID)
	default:
		switch g.state {
		case PreparingRebalance:
			return g.updateMember(m, j), nil
		case CompletingRebalance:
			if sameProtocols(m.protocols, j.protocols) {
				return nil, g.joinResponse(m, false)
			}
			return g.updateMember(m, j), nil
		case Stable:
			if g.leader == id || !sameProtocols(m.protocols, j.protocols) {
				return g.updateMember(m, j), nil
			}
			return nil, g.joinResponse(m, false)
		default:
			return nil, joinError(id, kerr.UnknownMemberID)
		}
	}
}

func sameProtocols(a, b []protocol) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].name != b[i].name || !bytes.Equal(a[i].metadata, b[i].metadata) {
			return false
		}
	}
	return true
}

// addPending remembers a member id handed out with MEMBER_ID_REQUIRED
// until the member rejoins or its session timeout passes.
func (g *group) addPending(id string, session time.Duration) {
	g.pending[id] = time.AfterFunc(session, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if _, ok := g.pending[id]; ok && g.state != Dead {
			delete(g.pending, id)
			if g.state == PreparingRebalance {
				g.tryCompleteJoin()
			}
		}
	})
}

// addMember adds a member that awaits its join response and starts (or
// continues) a rebalance.
func (g *group) addMember(j *joining, id string) chan joinOutcome {
	m := &member{id: id, instanceID: j.req.InstanceID, clientID: j.req.ClientID, clientHost: j.req.ClientHost,
		rebalanceTimeout: j.rebalance, sessionTimeout: j.session, protocolType: j.req.ProtocolType,
		protocols: j.protocols, joinWait: make(chan joinOutcome, 1)}
	if g.state == PreparingRebalance && g.generation == 0 {
		g.newMemberAdded = true
	}
	if len(g.members) == 0 {
		g.protocolType = j.req.ProtocolType
	}
	g.members[id] = m
	if g.leader == "" {
		g.leader = id
	}
	if m.instanceID != nil {
		g.static[*m.instanceID] = id
	}
	g.armHeartbeat(m, newMemberJoinTimeout, true)
	g.maybePrepareRebalance()
	return m.joinWait
}

// updateMember takes a known member's new protocols and rebalances.
func (g *group) updateMember(m *member, j *joining) chan joinOutcome {
	m.protocols, m.rebalanceTimeout, m.sessionTimeout = j.protocols, j.rebalance, j.session
	// A second join while the first waits replaces it, as in Kafka: the
	// first gets no answer of its own (its connection is the same or gone).
	m.joinWait = make(chan joinOutcome, 1)
	g.maybePrepareRebalance()
	return m.joinWait
}

// replaceStatic: a static member restarted (same group.instance.id, no
// member id). The old member id is fenced; when the group is Stable and
// the selected protocol would not change, the group is stored with the
// new id and no rebalance happens (KIP-345).
func (g *group) replaceStatic(j *joining, oldID, newID string) (chan joinOutcome, *joinOutcome, *pendingStore) {
	m := g.members[oldID]
	g.answerJoin(m, joinError(oldID, kerr.FencedInstanceID))
	g.answerSync(m, syncResult{err: kerr.FencedInstanceID})
	oldProtocols := m.protocols
	delete(g.members, oldID)
	m.id = newID
	m.clientID, m.clientHost = j.req.ClientID, j.req.ClientHost
	m.protocols, m.rebalanceTimeout, m.sessionTimeout = j.protocols, j.rebalance, j.session
	g.members[newID] = m
	g.static[*j.req.InstanceID] = newID
	wasLeader := g.leader == oldID
	if wasLeader {
		g.leader = newID
	}
	switch g.state {
	case Stable:
		if g.selectProtocol() != g.protocol {
			m.joinWait = make(chan joinOutcome, 1)
			g.maybePrepareRebalance()
			return m.joinWait, nil, nil
		}
		g.armHeartbeat(m, m.sessionTimeout, false)
		gen := g.generation
		out := make(chan joinOutcome, 1)
		st := g.storeGroupLocked(g.currentAssignment())
		st.apply = func(err error) {
			if err != nil {
				// Undo: the old id is the member again.
				if cur := g.members[newID]; cur == m && g.generation == gen {
					delete(g.members, newID)
					m.id, m.protocols = oldID, oldProtocols
					g.members[oldID] = m
					g.static[*j.req.InstanceID] = oldID
					if wasLeader {
						g.leader = oldID
					}
				}
				out <- *joinError("", err)
				return
			}
			r := g.joinResponse(m, g.leader == newID)
			r.resp.SkipAssignment = g.leader == newID
			out <- *r
		}
		return out, nil, st
	case CompletingRebalance:
		m.joinWait = make(chan joinOutcome, 1)
		g.prepareRebalance()
		return m.joinWait, nil, nil
	default: // PreparingRebalance
		m.joinWait = make(chan joinOutcome, 1)
		return m.joinWait, nil, nil
	}
}

// joinResponse is the answer for the current generation; the leader
// (when withMembers) gets the members and their metadata.
func (g *group) joinResponse(m *member, withMembers bool) *joinOutcome {
	r := kmsg.NewPtrJoinGroupResponse()
	r.Generation = g.generation
	pt, proto := g.protocolType, g.protocol
	r.ProtocolType, r.Protocol = &pt, &proto
	r.LeaderID = g.leader
	r.MemberID = m.id
	if withMembers || g.leader == m.id {
		for _, o := range g.sortedMembers() {
			rm := kmsg.NewJoinGroupResponseMember()
			rm.MemberID, rm.InstanceID, rm.ProtocolMetadata = o.id, o.instanceID, o.metadataFor(g.protocol)
			r.Members = append(r.Members, rm)
		}
	}
	return &joinOutcome{resp: r}
}

// maybePrepareRebalance starts a rebalance when the group can have one.
func (g *group) maybePrepareRebalance() {
	switch g.state {
	case Stable, CompletingRebalance, Empty:
		g.prepareRebalance()
	}
}

// prepareRebalance moves the group to PreparingRebalance and arms the
// timer that ends the join phase: group.initial.rebalance.delay.ms for an
// Empty group (extended while members keep arriving, within the
// rebalance timeout), else the rebalance timeout.
func (g *group) prepareRebalance() {
	if g.state == CompletingRebalance {
		g.resetAssignments(kerr.RebalanceInProgress)
	}
	g.stopSyncTimer()
	wasEmpty := g.state == Empty
	g.transition(PreparingRebalance)
	if wasEmpty {
		delay := g.c.cfg.InitialRebalanceDelay
		g.initialPhase = true
		g.newMemberAdded = false
		g.remaining = max(g.maxRebalanceTimeout()-delay, 0)
		g.armJoinTimer(delay)
		return
	}
	g.initialPhase = false
	g.armJoinTimer(g.maxRebalanceTimeout())
}

func (g *group) armJoinTimer(d time.Duration) {
	if g.joinTimer != nil {
		g.joinTimer.Stop()
	}
	tok := g.token()
	g.joinToken = tok
	g.joinTimer = time.AfterFunc(d, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.joinToken != tok || g.state != PreparingRebalance {
			return
		}
		g.joinTimerFired()
	})
}

func (g *group) joinTimerFired() {
	if g.initialPhase && g.newMemberAdded && g.remaining > 0 {
		g.newMemberAdded = false
		delay := min(g.c.cfg.InitialRebalanceDelay, g.remaining)
		g.remaining = max(g.remaining-g.c.cfg.InitialRebalanceDelay, 0)
		g.armJoinTimer(delay)
		return
	}
	g.completeJoin()
}

// tryCompleteJoin ends the join phase early once every member rejoined
// (not during the initial delay).
func (g *group) tryCompleteJoin() {
	if g.state == PreparingRebalance && !g.initialPhase && g.allJoined() {
		g.completeJoin()
	}
}

// completeJoin ends the join phase (Kafka's onCompleteJoin): dynamic
// members that did not rejoin are dropped, the next generation starts and
// every joined member gets its response.
func (g *group) completeJoin() {
	g.stopJoinTimer()
	g.initialPhase = false
	for _, m := range g.members {
		if m.joinWait == nil && m.instanceID == nil {
			g.removeMember(m)
		}
	}
	if len(g.members) > 0 && !g.electJoinedLeader() {
		// Only static members that have not rejoined: wait for them
		// (or their session expiry) for another rebalance timeout.
		g.armJoinTimer(g.maxRebalanceTimeout())
		return
	}
	g.generation++
	if len(g.members) == 0 {
		g.protocol = ""
		g.transition(Empty)
		go g.storeEmptyAsync()
		return
	}
	g.protocol = g.selectProtocol()
	g.transition(CompletingRebalance)
	g.pendingSync = map[string]bool{}
	for _, m := range g.members {
		if m.joinWait != nil {
			g.answerJoin(m, g.joinResponse(m, false))
		}
		g.armHeartbeat(m, m.sessionTimeout, false)
		g.pendingSync[m.id] = true
	}
	g.armSyncTimer()
}

// electJoinedLeader keeps the leader if it rejoined, else makes any
// rejoined member the leader; false when no member rejoined.
func (g *group) electJoinedLeader() bool {
	if l := g.members[g.leader]; l != nil && l.joinWait != nil {
		return true
	}
	for _, m := range g.sortedMembers() {
		if m.joinWait != nil {
			g.leader = m.id
			return true
		}
	}
	return false
}
