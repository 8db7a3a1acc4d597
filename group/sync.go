package group

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup serves SyncGroup (every version): the leader hands out the
// assignments, which are stored before every member gets its own. The
// answer carries the member's assignment and (for v5+) the group's
// protocol type and name.
func (c *Coordinator) SyncGroup(ctx context.Context, req *kmsg.SyncGroupRequest) (*kmsg.SyncGroupResponse, error) {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	resp.MemberAssignment = []byte{}
	if req.Group == "" {
		return resp, kerr.InvalidGroupID
	}
	g, err := c.lookup(req.Group, false)
	if err != nil {
		return resp, err
	}
	if g == nil {
		return resp, kerr.UnknownMemberID
	}
	wait, store, err := g.sync(req)
	g.mu.Unlock()
	if err != nil {
		return resp, err
	}
	if store != nil {
		store.run()
	}
	var r syncResult
	select {
	case r = <-wait:
	case <-ctx.Done():
		return resp, kerr.RebalanceInProgress
	}
	if r.err != nil {
		return resp, r.err
	}
	if r.assignment != nil {
		resp.MemberAssignment = r.assignment
	}
	g.mu.Lock()
	pt, proto := g.protocolType, g.protocol
	g.mu.Unlock()
	resp.ProtocolType, resp.Protocol = &pt, &proto
	return resp, nil
}

// sync applies a SyncGroup under the group lock; the result comes on the
// returned channel (after store, when there is one, has run).
func (g *group) sync(req *kmsg.SyncGroupRequest) (chan syncResult, *pendingStore, error) {
	m := g.members[req.MemberID]
	switch {
	case g.isStaticFenced(req.InstanceID, req.MemberID):
		return nil, nil, kerr.FencedInstanceID
	case m == nil:
		return nil, nil, kerr.UnknownMemberID
	case req.Generation != g.generation:
		return nil, nil, kerr.IllegalGeneration
	case req.ProtocolType != nil && *req.ProtocolType != g.protocolType,
		req.Protocol != nil && *req.Protocol != g.protocol:
		return nil, nil, kerr.InconsistentGroupProtocol
	}
	switch g.state {
	case Empty:
		return nil, nil, kerr.UnknownMemberID
	case PreparingRebalance:
		return nil, nil, kerr.RebalanceInProgress
	case Stable:
		delete(g.pendingSync, m.id)
		g.armHeartbeat(m, m.sessionTimeout, false)
		ch := make(chan syncResult, 1)
		ch <- syncResult{assignment: m.assignment}
		return ch, nil, nil
	}
	// CompletingRebalance.
	m.syncWait = make(chan syncResult, 1)
	wait := m.syncWait
	delete(g.pendingSync, m.id)
	if g.leader != m.id {
		return wait, nil, nil
	}
	assignment := map[string][]byte{}
	for _, a := range req.GroupAssignment {
		if g.members[a.MemberID] != nil {
			assignment[a.MemberID] = a.MemberAssignment
		}
	}
	for id := range g.members {
		if assignment[id] == nil {
			assignment[id] = []byte{}
		}
	}
	gen := g.generation
	st := g.storeGroupLocked(assignment)
	st.apply = func(err error) {
		if g.state != CompletingRebalance || g.generation != gen {
			return // another rebalance began meanwhile
		}
		if err != nil {
			g.resetAssignments(err)
			g.maybePrepareRebalance()
			return
		}
		for id, a := range assignment {
			if o := g.members[id]; o != nil {
				o.assignment = a
			}
		}
		for _, o := range g.members {
			if o.syncWait != nil {
				g.answerSync(o, syncResult{assignment: o.assignment})
				g.armHeartbeat(o, o.sessionTimeout, false)
			}
		}
		g.stopSyncTimer()
		g.transition(Stable)
	}
	return wait, st, nil
}

// resetAssignments clears the assignments and answers the members waiting
// for SyncGroup with err.
func (g *group) resetAssignments(err error) {
	for _, m := range g.members {
		m.assignment = nil
		g.answerSync(m, syncResult{err: err})
	}
}

// currentAssignment is every member's assignment, for storing the group.
func (g *group) currentAssignment() map[string][]byte {
	out := make(map[string][]byte, len(g.members))
	for id, m := range g.members {
		out[id] = m.assignment
	}
	return out
}

// armSyncTimer: members that do not send SyncGroup within the rebalance
// timeout after the join phase are removed and the group rebalances
// (Kafka's pending-sync expiry).
func (g *group) armSyncTimer() {
	g.stopSyncTimer()
	tok := g.token()
	g.syncToken = tok
	gen := g.generation
	g.syncTimer = time.AfterFunc(g.maxRebalanceTimeout(), func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.syncToken != tok || g.generation != gen || (g.state != CompletingRebalance && g.state != Stable) {
			return
		}
		g.syncTimer = nil
		if len(g.pendingSync) == 0 {
			return
		}
		for id := range g.pendingSync {
			if m := g.members[id]; m != nil {
				g.removeMember(m)
			}
		}
		g.pendingSync = map[string]bool{}
		g.maybePrepareRebalance()
	})
}

func (g *group) stopSyncTimer() {
	if g.syncTimer != nil {
		g.syncTimer.Stop()
		g.syncTimer = nil
	}
	g.syncToken = 0
}
