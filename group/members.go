package group

import (
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat serves Heartbeat (every version); nil means no error.
func (c *Coordinator) Heartbeat(req *kmsg.HeartbeatRequest) error { return c.heartbeat(req) }

func (c *Coordinator) heartbeat(req *kmsg.HeartbeatRequest) error {
	if req.Group == "" {
		return kerr.InvalidGroupID
	}
	g, err := c.lookup(req.Group, false)
	if err != nil {
		return err
	}
	if g == nil {
		return kerr.UnknownMemberID
	}
	defer g.mu.Unlock()
	m := g.members[req.MemberID]
	switch {
	case g.isStaticFenced(req.InstanceID, req.MemberID):
		return kerr.FencedInstanceID
	case m == nil:
		return kerr.UnknownMemberID
	case req.Generation != g.generation:
		return kerr.IllegalGeneration
	}
	switch g.state {
	case Empty:
		return kerr.UnknownMemberID
	case PreparingRebalance:
		g.armHeartbeat(m, m.sessionTimeout, false)
		return kerr.RebalanceInProgress
	default: // CompletingRebalance, Stable
		g.armHeartbeat(m, m.sessionTimeout, false)
		return nil
	}
}

// LeaveGroup serves LeaveGroup: one member (v0-v2, as the only element
// of leaving) or a batch of members, by member id or by group.instance.id
// (v3+). It returns an error per member, or a group-level error.
func (c *Coordinator) LeaveGroup(groupID string, leaving []kmsg.LeaveGroupRequestMember) ([]error, error) {
	return c.leave(groupID, leaving)
}

func (c *Coordinator) leave(groupID string, leaving []kmsg.LeaveGroupRequestMember) ([]error, error) {
	if groupID == "" {
		return nil, kerr.InvalidGroupID
	}
	g, err := c.lookup(groupID, false)
	if err != nil {
		return nil, err
	}
	errs := make([]error, len(leaving))
	if g == nil {
		for i := range errs {
			errs[i] = kerr.UnknownMemberID
		}
		return errs, nil
	}
	defer g.mu.Unlock()
	for i, l := range leaving {
		switch {
		case l.MemberID == "":
			// Removal by group.instance.id (an administrator's tool).
			var id string
			if l.InstanceID != nil {
				id = g.static[*l.InstanceID]
			}
			if m := g.members[id]; m != nil && id != "" {
				g.removeMemberAndUpdate(m)
			} else {
				errs[i] = kerr.UnknownMemberID
			}
		case g.pending[l.MemberID] != nil:
			g.pending[l.MemberID].Stop()
			delete(g.pending, l.MemberID)
			if g.state == PreparingRebalance {
				g.tryCompleteJoin()
			}
		case g.isStaticFenced(l.InstanceID, l.MemberID):
			errs[i] = kerr.FencedInstanceID
		case g.members[l.MemberID] != nil:
			g.removeMemberAndUpdate(g.members[l.MemberID])
		default:
			errs[i] = kerr.UnknownMemberID
		}
	}
	return errs, nil
}

// armHeartbeat (re)starts a member's session expiry.
func (g *group) armHeartbeat(m *member, d time.Duration, isNew bool) {
	if m.heartbeat != nil {
		m.heartbeat.Stop()
	}
	tok := g.token()
	m.beat = tok
	m.isNew = isNew
	m.heartbeat = time.AfterFunc(d, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if m.beat != tok || g.state == Dead || g.members[m.id] != m {
			return
		}
		// A member waiting for its join or sync answer is kept alive,
		// except a new member that never got its first join answer.
		if (m.joinWait != nil && !m.isNew) || m.syncWait != nil {
			g.armHeartbeat(m, m.sessionTimeout, false)
			return
		}
		g.c.lg.Info().Str("group", g.id).Str("member", m.id).Msg("member session expired")
		g.removeMemberAndUpdate(m)
	})
}

// removeMember drops a member: its waiting requests get
// UNKNOWN_MEMBER_ID; a new leader is picked when it led.
func (g *group) removeMember(m *member) {
	g.answerJoin(m, joinError(m.id, kerr.UnknownMemberID))
	g.answerSync(m, syncResult{err: kerr.UnknownMemberID})
	if m.heartbeat != nil {
		m.heartbeat.Stop()
	}
	m.beat = 0
	delete(g.members, m.id)
	delete(g.pendingSync, m.id)
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if ms := g.sortedMembers(); len(ms) > 0 {
			g.leader = ms[0].id
		}
	}
}

// removeMemberAndUpdate drops a member and moves the group on: a
// rebalance for a Stable or CompletingRebalance group, a possible end of
// the join phase for a PreparingRebalance one.
func (g *group) removeMemberAndUpdate(m *member) {
	g.removeMember(m)
	switch g.state {
	case Stable, CompletingRebalance:
		g.maybePrepareRebalance()
	case PreparingRebalance:
		g.tryCompleteJoin()
	}
}

// sortedMembers lists the members by member id (a stable order for
// responses and stored metadata).
func (g *group) sortedMembers() []*member {
	out := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}
