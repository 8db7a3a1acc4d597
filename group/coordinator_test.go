package group

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func codeName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	return kerr.ErrorForCode(code).Error()
}

func expectCode(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	w := int16(0)
	if want != nil {
		w = want.Code
	}
	if got != w {
		t.Fatalf("%s: %s, want %s", what, codeName(got), codeName(w))
	}
}

func groupState(c *Coordinator, id string) string {
	d, _ := c.DescribeGroup(id)
	return d.State
}

// stableGroup brings two members through join and sync the way clients
// do: the first forms generation 1 alone; the second's join starts a
// rebalance, which the first learns of by heartbeat and rejoins. It
// returns their ids (leader first) and the generation (2).
func stableGroup(t *testing.T, c *Coordinator, group string) (string, string, int32) {
	t.Helper()
	r1 := recv(t, joinNew(t, c, group, 10*time.Second, "range", "roundrobin"))
	expectCode(t, "join 1", r1.ErrorCode, nil)
	if r1.Generation != 1 || r1.LeaderID != r1.MemberID || len(r1.Members) != 1 {
		t.Fatalf("first join: %+v", r1)
	}
	expectCode(t, "sync 1", recv(t, syncGroup(c, group, r1.MemberID, 1, map[string][]byte{r1.MemberID: []byte("all")})).ErrorCode, nil)
	j2 := joinNew(t, c, group, 10*time.Second, "range")
	waitFor(t, "rebalance", func() bool { return groupState(c, group) == "PreparingRebalance" })
	expectCode(t, "heartbeat during rebalance", heartbeat(c, group, r1.MemberID, 1), kerr.RebalanceInProgress)
	r1 = recv(t, join(c, 5, group, r1.MemberID, nil, 10*time.Second, "range", "roundrobin"))
	r2 := recv(t, j2)
	expectCode(t, "join 1 again", r1.ErrorCode, nil)
	expectCode(t, "join 2", r2.ErrorCode, nil)
	if r1.Generation != 2 || r2.Generation != 2 || r1.LeaderID != r2.LeaderID || *r1.Protocol != "range" || *r1.ProtocolType != "consumer" {
		t.Fatalf("join answers disagree: %+v / %+v", r1, r2)
	}
	leader, follower := r1, r2
	if r2.MemberID == r1.LeaderID {
		leader, follower = r2, r1
	}
	if len(leader.Members) != 2 || len(follower.Members) != 0 {
		t.Fatalf("leader got %d members, follower %d", len(leader.Members), len(follower.Members))
	}
	for _, m := range leader.Members {
		if string(m.ProtocolMetadata) != "meta-range" {
			t.Fatalf("member %s metadata %q", m.MemberID, m.ProtocolMetadata)
		}
	}
	fs := syncGroup(c, group, follower.MemberID, follower.Generation, nil)
	ls := syncGroup(c, group, leader.MemberID, leader.Generation, map[string][]byte{
		leader.MemberID: []byte("A"), follower.MemberID: []byte("B"),
	})
	lr, fr := recv(t, ls), recv(t, fs)
	expectCode(t, "leader sync", lr.ErrorCode, nil)
	expectCode(t, "follower sync", fr.ErrorCode, nil)
	if string(lr.MemberAssignment) != "A" || string(fr.MemberAssignment) != "B" || *fr.Protocol != "range" {
		t.Fatalf("assignments %q %q", lr.MemberAssignment, fr.MemberAssignment)
	}
	if s := groupState(c, group); s != "Stable" {
		t.Fatalf("state %s after sync", s)
	}
	return leader.MemberID, follower.MemberID, leader.Generation
}

func TestJoinSyncHeartbeatRebalance(t *testing.T) {
	l := newMemLog()
	c := newTestCoordinator(t, l, testConfig())
	leader, follower, gen := stableGroup(t, c, "g")
	if gen != 2 {
		t.Fatalf("generation %d, want 2", gen)
	}
	expectCode(t, "heartbeat", heartbeat(c, "g", follower, gen), nil)
	expectCode(t, "stale generation", heartbeat(c, "g", follower, gen-1), kerr.IllegalGeneration)
	expectCode(t, "unknown member", heartbeat(c, "g", "nobody", gen), kerr.UnknownMemberID)
	expectCode(t, "unknown group", heartbeat(c, "other", "nobody", 0), kerr.UnknownMemberID)

	// The stored group metadata: generation 2, both members, assignments.
	var stored *kmsg.GroupMetadataValue
	p, _ := c.PartitionOf("g")
	for _, e := range l.records(p) {
		if r, err := ParseRecord(e.Key, e.Value); err == nil && r.Kind == GroupRecord && r.Group != nil {
			stored = r.Group
		}
	}
	if stored == nil || stored.Generation != 2 || *stored.Protocol != "range" || *stored.Leader != leader || len(stored.Members) != 2 {
		t.Fatalf("stored group %+v", stored)
	}
	for _, m := range stored.Members {
		want := map[string]string{leader: "A", follower: "B"}[m.MemberID]
		if string(m.Assignment) != want || m.ClientHost != "/127.0.0.1" || m.SessionTimeoutMillis != 10000 || string(m.Subscription) != "meta-range" {
			t.Fatalf("stored member %+v", m)
		}
	}

	// A third member: the others learn of the rebalance by heartbeat,
	// rejoin, and a new generation starts with three members.
	j3 := joinNew(t, c, "g", 10*time.Second, "range")
	waitFor(t, "rebalance", func() bool { return groupState(c, "g") == "PreparingRebalance" })
	expectCode(t, "heartbeat during rebalance", heartbeat(c, "g", follower, gen), kerr.RebalanceInProgress)
	r1 := join(c, 5, "g", leader, nil, 10*time.Second, "range", "roundrobin")
	r2 := join(c, 5, "g", follower, nil, 10*time.Second, "range")
	a, b, d := recv(t, r1), recv(t, r2), recv(t, j3)
	for _, r := range []*kmsg.JoinGroupResponse{a, b, d} {
		expectCode(t, "rejoin", r.ErrorCode, nil)
		if r.Generation != 3 {
			t.Fatalf("generation %d after rebalance", r.Generation)
		}
	}
	// Sync from a member with the old generation is refused.
	expectCode(t, "old generation sync", recv(t, syncGroup(c, "g", follower, 2, nil)).ErrorCode, kerr.IllegalGeneration)
}

func TestJoinErrors(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSize = 2
	c := newTestCoordinator(t, newMemLog(), cfg)
	leader, _, gen := stableGroup(t, c, "g")

	// A full group refuses a new member before looking at anything else.
	r := recv(t, join(c, 5, "g", "", nil, 10*time.Second, "range"))
	expectCode(t, "max size", r.ErrorCode, kerr.GroupMaxSizeReached)

	// Wrong protocol type, in a group with room.
	expectCode(t, "solo", recv(t, joinNew(t, c, "solo", 10*time.Second, "range")).ErrorCode, nil)
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version, req.Group, req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 5, "solo", 10000, 10000
	req.ProtocolType = "connect"
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	_, err := c.JoinGroup(context.Background(), JoinRequest{JoinGroupRequest: req})
	expectCode(t, "protocol type", code(err), kerr.InconsistentGroupProtocol)
	// Session timeout outside the broker's bounds.
	r = recv(t, join(c, 5, "g", "", nil, time.Hour, "range"))
	expectCode(t, "session timeout", r.ErrorCode, kerr.InvalidSessionTimeout)
	// An unknown member id.
	r = recv(t, join(c, 5, "solo", "ghost", nil, 10*time.Second, "range"))
	expectCode(t, "unknown member", r.ErrorCode, kerr.UnknownMemberID)
	// Empty group id.
	r = recv(t, join(c, 7, "", "", nil, 10*time.Second, "range"))
	expectCode(t, "empty group id", r.ErrorCode, kerr.InvalidGroupID)
	// None of this disturbed the group.
	expectCode(t, "heartbeat", heartbeat(c, "g", leader, gen), nil)
	// A group on a partition led elsewhere.
	c.Resign(mustPartition(t, c, "g"), -1)
	expectCode(t, "resigned", heartbeat(c, "g", leader, gen), kerr.NotCoordinator)
}

func mustPartition(t *testing.T, c *Coordinator, id string) int32 {
	p, ok := c.PartitionOf(id)
	if !ok {
		t.Fatal("no partition count")
	}
	return p
}

func TestLeaveAndSessionExpiry(t *testing.T) {
	c := newTestCoordinator(t, newMemLog(), testConfig())
	leader, follower, gen := stableGroup(t, c, "g")
	errs, err := c.LeaveGroup("g", []kmsg.LeaveGroupRequestMember{{MemberID: follower}, {MemberID: "ghost"}})
	if err != nil || len(errs) != 2 || errs[0] != nil || !errors.Is(errs[1], kerr.UnknownMemberID) {
		t.Fatalf("leave: %v %v", errs, err)
	}
	// The leader rejoins alone; then stops heartbeating with a short
	// session and is expired: the group ends Empty.
	waitFor(t, "rebalance after leave", func() bool { return groupState(c, "g") == "PreparingRebalance" })
	r := recv(t, join(c, 5, "g", leader, nil, 50*time.Millisecond, "range"))
	expectCode(t, "rejoin", r.ErrorCode, nil)
	if r.Generation != gen+1 || len(r.Members) != 1 {
		t.Fatalf("rejoin: generation %d, %d members", r.Generation, len(r.Members))
	}
	expectCode(t, "sync", recv(t, syncGroup(c, "g", leader, r.Generation, map[string][]byte{leader: []byte("all")})).ErrorCode, nil)
	waitFor(t, "expiry", func() bool { return groupState(c, "g") == "Empty" })
	d, _ := c.DescribeGroup("g")
	if len(d.Members) != 0 || d.ProtocolType != "consumer" {
		t.Fatalf("after expiry: %+v", d)
	}
	errs, _ = c.LeaveGroup("g", []kmsg.LeaveGroupRequestMember{{MemberID: leader}})
	if !errors.Is(errs[0], kerr.UnknownMemberID) {
		t.Fatalf("leave of an expired member: %v", errs)
	}
}

func TestStaticMemberRestartWithoutRebalance(t *testing.T) {
	c := newTestCoordinator(t, newMemLog(), testConfig())
	inst := "host-1"
	r := recv(t, join(c, 5, "g", "", &inst, 10*time.Second, "range"))
	expectCode(t, "static join", r.ErrorCode, nil) // no MEMBER_ID_REQUIRED for static members
	old := r.MemberID
	expectCode(t, "sync", recv(t, syncGroup(c, "g", old, r.Generation, map[string][]byte{old: []byte("x")})).ErrorCode, nil)
	gen := r.Generation

	// Restart: same instance id, no member id.
	r2 := recv(t, join(c, 5, "g", "", &inst, 10*time.Second, "range"))
	expectCode(t, "static rejoin", r2.ErrorCode, nil)
	if r2.Generation != gen || r2.MemberID == old || groupState(c, "g") != "Stable" {
		t.Fatalf("rejoin: generation %d (was %d), member %s, state %s", r2.Generation, gen, r2.MemberID, groupState(c, "g"))
	}
	// The new id syncs to the old assignment; the old id is fenced.
	sr := recv(t, syncGroup(c, "g", r2.MemberID, gen, nil))
	if sr.ErrorCode != 0 || string(sr.MemberAssignment) != "x" {
		t.Fatalf("sync after restart: %s %q", codeName(sr.ErrorCode), sr.MemberAssignment)
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version, hb.Group, hb.MemberID, hb.Generation, hb.InstanceID = 4, "g", old, gen, &inst
	expectCode(t, "old id", code(c.Heartbeat(hb)), kerr.FencedInstanceID)
}

func TestCommitFetchAndReload(t *testing.T) {
	l := newMemLog()
	clock := &fakeClock{now: time.UnixMilli(1_700_000_000_000)}
	cfg := testConfig()
	cfg.Now = clock.Now
	c := newTestCoordinator(t, l, cfg)
	leader, _, gen := stableGroup(t, c, "g")

	errs := c.CommitOffsets(context.Background(), CommitRequest{Group: "g", MemberID: leader, Generation: gen, RetentionMs: -1,
		Offsets: []CommitOffset{
			{Topic: "t", Partition: 0, Offset: 10, LeaderEpoch: 3, Metadata: "m", Timestamp: -1},
			{Topic: "t", Partition: 1, Offset: 20, LeaderEpoch: -1, Metadata: string(make([]byte, 4097)), Timestamp: -1},
		}})
	if errs[0] != nil || !errors.Is(errs[1], kerr.OffsetMetadataTooLarge) {
		t.Fatalf("commit errors %v", errs)
	}
	errs = c.CommitOffsets(context.Background(), CommitRequest{Group: "g", MemberID: leader, Generation: gen - 1, RetentionMs: -1,
		Offsets: []CommitOffset{{Topic: "t", Partition: 0, Offset: 99, Timestamp: -1}}})
	if !errors.Is(errs[0], kerr.IllegalGeneration) {
		t.Fatalf("stale commit: %v", errs)
	}
	// A consumer outside group management commits to a new group.
	errs = c.CommitOffsets(context.Background(), CommitRequest{Group: "simple", Generation: -1, RetentionMs: -1,
		Offsets: []CommitOffset{{Topic: "t", Partition: 2, Offset: 5, LeaderEpoch: -1, Timestamp: -1}}})
	if errs[0] != nil {
		t.Fatalf("simple commit: %v", errs)
	}
	got, err := c.FetchOffsets("g", false, []TopicPartitions{{Topic: "t", Partitions: []int32{0, 1}}})
	if err != nil || len(got) != 2 || got[0].Offset != 10 || got[0].LeaderEpoch != 3 || got[0].Metadata != "m" ||
		got[1].Offset != -1 || got[1].LeaderEpoch != -1 || got[1].Err != nil {
		t.Fatalf("fetch: %+v (%v)", got, err)
	}
	got, _ = c.FetchOffsets("nobody", false, []TopicPartitions{{Topic: "t", Partitions: []int32{0}}})
	if len(got) != 1 || got[0].Offset != -1 {
		t.Fatalf("fetch of an unknown group: %+v", got)
	}

	// A new coordinator over the same log (the partition moved here).
	c2 := newTestCoordinator(t, l, cfg)
	all, err := c2.FetchOffsets("g", false, nil)
	if err != nil || len(all) != 1 || all[0].Offset != 10 || all[0].Metadata != "m" {
		t.Fatalf("reloaded offsets: %+v (%v)", all, err)
	}
	d, _ := c2.DescribeGroup("g")
	if d.State != "Stable" || len(d.Members) != 2 || d.Protocol != "range" {
		t.Fatalf("reloaded group: %+v", d)
	}
	simple, _ := c2.FetchOffsets("simple", false, nil)
	if len(simple) != 1 || simple[0].Offset != 5 {
		t.Fatalf("reloaded simple offsets: %+v", simple)
	}

	// Expiry: the simple group's offset expires 7 days after its commit,
	// and the group with it; the stable group's subscribed... offsets
	// (members' metadata is not consumer protocol here) stay.
	clock.add(7*24*time.Hour + time.Second)
	if n := c2.ExpireOffsets(); n != 1 {
		t.Fatalf("expired %d offsets, want 1", n)
	}
	if groupState(c2, "simple") != "Dead" {
		t.Fatalf("simple group: %s", groupState(c2, "simple"))
	}
	p := mustPartition(t, c2, "simple")
	recs := l.records(p)
	last := recs[len(recs)-1]
	if r, err := ParseRecord(last.Key, last.Value); err != nil || r.Kind != OffsetRecord || r.Offset != nil || r.GroupID != "simple" {
		t.Fatalf("last record of partition %d: %+v (%v), want the offset tombstone", p, r, err)
	}
}

func TestDeleteGroupsAndOffsets(t *testing.T) {
	c := newTestCoordinator(t, newMemLog(), testConfig())
	_, _, _ = stableGroup(t, c, "busy")
	if err := c.DeleteGroup("busy"); !errors.Is(err, kerr.NonEmptyGroup) {
		t.Fatalf("delete busy: %v", err)
	}
	if err := c.DeleteGroup("nobody"); !errors.Is(err, kerr.GroupIDNotFound) {
		t.Fatalf("delete unknown: %v", err)
	}
	c.CommitOffsets(context.Background(), CommitRequest{Group: "idle", Generation: -1, RetentionMs: -1,
		Offsets: []CommitOffset{{Topic: "t", Partition: 0, Offset: 1, Timestamp: -1}, {Topic: "t", Partition: 1, Offset: 2, Timestamp: -1}}})
	res, err := c.DeleteOffsets("idle", []TopicPartitions{{Topic: "t", Partitions: []int32{0}}})
	if err != nil || res["t"][0] != nil {
		t.Fatalf("delete offsets: %v %v", res, err)
	}
	left, _ := c.FetchOffsets("idle", false, nil)
	if len(left) != 1 || left[0].Partition != 1 {
		t.Fatalf("left %+v", left)
	}
	if err := c.DeleteGroup("idle"); err != nil {
		t.Fatal(err)
	}
	if groupState(c, "idle") != "Dead" {
		t.Fatal("deleted group still listed")
	}
	groups, err := c.ListGroups(nil)
	if err != nil || len(groups) != 1 || groups[0].ID != "busy" || groups[0].State != "Stable" || groups[0].ProtocolType != "consumer" {
		t.Fatalf("list: %+v (%v)", groups, err)
	}
	if groups, _ := c.ListGroups([]string{"Empty"}); len(groups) != 0 {
		t.Fatalf("list Empty: %+v", groups)
	}
}

func TestAppendFailureDuringSync(t *testing.T) {
	l := newMemLog()
	c := newTestCoordinator(t, l, testConfig())
	r := recv(t, joinNew(t, c, "g", 10*time.Second, "range"))
	l.mu.Lock()
	l.fail = kerr.NotLeaderForPartition
	l.mu.Unlock()
	sr := recv(t, syncGroup(c, "g", r.MemberID, r.Generation, map[string][]byte{r.MemberID: []byte("a")}))
	expectCode(t, "sync with a failing log", sr.ErrorCode, kerr.NotCoordinator)
}
