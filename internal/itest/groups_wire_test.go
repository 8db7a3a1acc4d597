package itest

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestGroupsProtocolEdges sends group requests by hand and checks the error
// code Kafka answers each misuse with.
func TestGroupsProtocolEdges(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"group.max.size": "2", "group.initial.rebalance.delay.ms": "0"})
	adm := newAdmin(t, c)
	createTopic(t, c, adm, "edges", 2, 1, nil)
	const groupID = "edges-group"
	var coord int32
	eventually(t, waitLong, "a coordinator", func() error {
		id, err := coordinatorOf(c.Broker(0).Addr(), groupID)
		coord = id
		return err
	})
	w := mustDial(t, c.BrokerByID(coord).Addr())
	defer w.Close()
	call := func(req kmsg.Request) kmsg.Response {
		t.Helper()
		resp, err := w.roundTrip(req)
		if err != nil {
			t.Fatalf("%T: %v", req, err)
		}
		return resp
	}
	expect := func(what string, got int16, want *kerr.Error) {
		t.Helper()
		w := int16(0)
		if want != nil {
			w = want.Code
		}
		if got != w {
			t.Errorf("%s: error %v, want %v", what, kerr.ErrorForCode(got), kerr.ErrorForCode(w))
		}
	}
	join := func(version int16, member, protocolType string) *kmsg.JoinGroupResponse {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Version, req.Group, req.MemberID, req.ProtocolType = version, groupID, member, protocolType
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 30000, 30000
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 1}}}
		return call(req).(*kmsg.JoinGroupResponse)
	}

	// KIP-394: a first join without member id gets one with
	// MEMBER_ID_REQUIRED (once the coordinator has loaded the partition:
	// until its LeaderAndIsr arrives it answers NOT_COORDINATOR, then
	// COORDINATOR_LOAD_IN_PROGRESS, and clients retry).
	var r *kmsg.JoinGroupResponse
	eventually(t, waitLong, "the coordinator ready", func() error {
		r = join(7, "", "consumer")
		if r.ErrorCode == kerr.NotCoordinator.Code || r.ErrorCode == kerr.CoordinatorLoadInProgress.Code {
			return kerr.ErrorForCode(r.ErrorCode)
		}
		return nil
	})
	expect("first join", r.ErrorCode, kerr.MemberIDRequired)
	if r.MemberID == "" || r.Generation != -1 || r.Protocol != nil || r.ProtocolType != nil {
		t.Fatalf("MEMBER_ID_REQUIRED answer: %+v", r)
	}
	r = join(7, r.MemberID, "consumer")
	expect("join with the id", r.ErrorCode, nil)
	if r.Generation != 1 || r.LeaderID != r.MemberID || r.ProtocolType == nil || *r.ProtocolType != "consumer" || *r.Protocol != "range" {
		t.Fatalf("join answer: %+v", r)
	}
	me, gen := r.MemberID, r.Generation
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Version, sync.Group, sync.MemberID, sync.Generation = 5, groupID, me, gen
	sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: me, MemberAssignment: []byte{7}}}
	sr := call(sync).(*kmsg.SyncGroupResponse)
	if sr.ErrorCode != 0 || string(sr.MemberAssignment) != "\x07" || sr.Protocol == nil || *sr.Protocol != "range" {
		t.Fatalf("sync: %+v", sr)
	}

	hb := func(member string, generation int32) int16 {
		req := kmsg.NewPtrHeartbeatRequest()
		req.Version, req.Group, req.MemberID, req.Generation = 4, groupID, member, generation
		return call(req).(*kmsg.HeartbeatResponse).ErrorCode
	}
	expect("heartbeat", hb(me, gen), nil)
	expect("unknown member", hb("nobody", gen), kerr.UnknownMemberID)
	expect("stale generation", hb(me, gen-1), kerr.IllegalGeneration)
	expect("wrong protocol type", join(7, "", "connect").ErrorCode, kerr.InconsistentGroupProtocol)
	sync.Generation = gen + 5
	expect("sync of another generation", call(sync).(*kmsg.SyncGroupResponse).ErrorCode, kerr.IllegalGeneration)

	// A second member: the rebalance shows in the first one's heartbeat.
	r2 := join(4, "", "consumer")
	expect("second member's first join", r2.ErrorCode, kerr.MemberIDRequired)
	w2 := mustDial(t, c.BrokerByID(coord).Addr())
	defer w2.Close()
	req2 := kmsg.NewPtrJoinGroupRequest()
	req2.Version, req2.Group, req2.MemberID, req2.ProtocolType = 4, groupID, r2.MemberID, "consumer"
	req2.SessionTimeoutMillis, req2.RebalanceTimeoutMillis = 30000, 30000
	req2.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 2}}}
	corr, err := w2.send(req2) // answered when the join phase ends
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLong, "rebalance", func() error {
		if code := hb(me, gen); code != kerr.RebalanceInProgress.Code {
			return fmt.Errorf("heartbeat: %v", kerr.ErrorForCode(code))
		}
		return nil
	})
	r = join(4, me, "consumer")
	expect("rejoin", r.ErrorCode, nil)
	body, err := w2.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	resp2, err := decodeResponse(req2, corr, body)
	if err != nil || resp2.(*kmsg.JoinGroupResponse).ErrorCode != 0 || resp2.(*kmsg.JoinGroupResponse).Generation != 2 {
		t.Fatalf("second member's join: %+v (%v)", resp2, err)
	}

	// The group is full (group.max.size=2): a third member is refused.
	expect("third member", join(4, "", "consumer").ErrorCode, kerr.GroupMaxSizeReached)

	// Offsets: unknown topic, unknown partitions, group deletion of a
	// group with members.
	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Version, commit.Group, commit.Generation, commit.MemberID = 8, groupID, 2, me
	commit.Topics = []kmsg.OffsetCommitRequestTopic{
		{Topic: "edges", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 5, LeaderEpoch: -1}}},
		{Topic: "no-such-topic", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 1, LeaderEpoch: -1}}},
	}
	cr := call(commit).(*kmsg.OffsetCommitResponse)
	expect("commit during CompletingRebalance", cr.Topics[0].Partitions[0].ErrorCode, kerr.RebalanceInProgress)
	expect("commit to an unknown topic", cr.Topics[1].Partitions[0].ErrorCode, kerr.UnknownTopicOrPartition)

	fetch := kmsg.NewPtrOffsetFetchRequest()
	fetch.Version = 8
	fetch.Groups = []kmsg.OffsetFetchRequestGroup{{Group: groupID, Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "edges", Partitions: []int32{0, 1}}}}}
	fr := call(fetch).(*kmsg.OffsetFetchResponse)
	if len(fr.Groups) != 1 || fr.Groups[0].ErrorCode != 0 || len(fr.Groups[0].Topics) != 1 {
		t.Fatalf("offset fetch: %+v", fr)
	}
	for _, p := range fr.Groups[0].Topics[0].Partitions {
		if p.Offset != -1 || p.LeaderEpoch != -1 || p.Metadata == nil || *p.Metadata != "" || p.ErrorCode != 0 {
			t.Errorf("uncommitted partition %d: %+v", p.Partition, p)
		}
	}
	// An unknown group that this coordinator owns (same partition).
	unknown := ""
	for i := 0; unknown == ""; i++ {
		if id := fmt.Sprintf("never-existed-%d", i); javaPartition(id, 50) == javaPartition(groupID, 50) {
			unknown = id
		}
	}
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Version, del.Groups = 2, []string{groupID, unknown}
	dr := call(del).(*kmsg.DeleteGroupsResponse)
	expect("delete a group with members", dr.Groups[0].ErrorCode, kerr.NonEmptyGroup)
	expect("delete an unknown group", dr.Groups[1].ErrorCode, kerr.GroupIDNotFound)

	// Another broker is not the coordinator.
	for _, b := range c.Brokers() {
		if b.ID() == coord {
			continue
		}
		req := kmsg.NewPtrHeartbeatRequest()
		req.Version, req.Group, req.MemberID, req.Generation = 4, groupID, me, 2
		resp, err := oneRequest(b.Addr(), req)
		if err != nil {
			t.Fatal(err)
		}
		expect(fmt.Sprintf("heartbeat on broker %d", b.ID()), resp.(*kmsg.HeartbeatResponse).ErrorCode, kerr.NotCoordinator)
		break
	}

	// LeaveGroup v3+: per-member answers.
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Version, leave.Group = 5, groupID
	leave.Members = []kmsg.LeaveGroupRequestMember{{MemberID: me}, {MemberID: "ghost"}}
	lr := call(leave).(*kmsg.LeaveGroupResponse)
	if lr.ErrorCode != 0 || len(lr.Members) != 2 || lr.Members[0].ErrorCode != 0 || lr.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("leave: %+v", lr)
	}
}
