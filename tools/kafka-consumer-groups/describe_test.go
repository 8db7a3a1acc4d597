package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

// offsetsLine is one line of the default describe table with the widths
// Kafka computes for the given consumer-id and host widths.
func offsetsLine(idW, hostW int, group, topic, partition, current, end, lag, id, host, client string) string {
	return pad(group, 15) + " " + pad(topic, 15) + " " + pad(partition, 10) + " " + pad(current, 15) + " " +
		pad(end, 15) + " " + pad(lag, 15) + " " + pad(id, idW) + " " + pad(host, hostW) + " " + client
}

func offsetsHeader(idW, hostW int) string {
	return offsetsLine(idW, hostW, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID")
}

func TestDescribeOffsets(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(3, "payments"), kfake.SeedTopics(1, "audit"))
	produce(t, bs, "payments", map[int32]int{0: 5, 1: 3, 2: 1})

	m := startMember(t, bs, "billing", "c1", "payments")
	g := waitStable(t, bs, "billing", m)
	commitAs(t, m, map[string]map[int32]int64{"payments": {0: 2, 1: 3}})
	c1 := memberOf(t, g, "c1")
	idW, hostW := max(15, len(c1.MemberID)), max(15, len(c1.ClientHost))
	line := func(p, cur, end, lag string) string {
		return offsetsLine(idW, hostW, "billing", "payments", p, cur, end, lag, c1.MemberID, c1.ClientHost, "c1") + "\n"
	}
	// The partitions of a member come in the order of Java's HashMap of
	// them: 0, 2, 1 for "payments". Partition 2 has no committed offset.
	stable := "\n" + offsetsHeader(idW, hostW) + "\n" + line("0", "2", "5", "3") + line("2", "-", "1", "-") + line("1", "3", "3", "0")
	expect(t, tool(t, bs, "--describe", "--group", "billing"), 0, stable, "")
	expect(t, tool(t, bs, "--describe", "--group", "billing", "--offsets"), 0, stable, "")

	// A group without members: the committed partitions, "-" for the
	// member columns, and Kafka's notice on stderr.
	commitEmpty(t, bs, "idle", map[string]map[int32]int64{"payments": {0: 1}, "audit": {0: 0}})
	idle := "\n" + offsetsHeader(15, 15) + "\n" +
		offsetsLine(15, 15, "idle", "audit", "0", "0", "0", "0", "-", "-", "-") + "\n" +
		offsetsLine(15, 15, "idle", "payments", "0", "1", "5", "4", "-", "-", "-") + "\n"
	const noMembers = "\nConsumer group 'idle' has no active members.\n"
	expect(t, tool(t, bs, "--describe", "--group", "idle"), 0, idle, noMembers)

	// An unknown group: Kafka's error line on stdout, exit status 0.
	const missingGroup = "\nError: Consumer group 'nope' does not exist.\n"
	expect(t, tool(t, bs, "--describe", "--group", "nope"), 0, missingGroup, "")

	// Several groups print in name order, each after a blank line.
	expect(t, tool(t, bs, "--describe", "--group", "nope", "--group", "idle", "--group", "nope"), 0, idle+missingGroup, noMembers)
	expect(t, tool(t, bs, "--describe", "--all-groups"), 0, stable+idle, noMembers)

	// Wide values widen their columns.
	long := "a-consumer-group-with-a-long-name"
	commitEmpty(t, bs, long, map[string]map[int32]int64{"audit": {0: 0}})
	r := tool(t, bs, "--describe", "--group", long)
	wantLong := "\n" + pad("GROUP", len(long)) + " " + pad("TOPIC", 15) + " PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             " +
		"CONSUMER-ID     HOST            CLIENT-ID\n" +
		long + " " + pad("audit", 15) + " 0          0               0               0               -               -               -\n"
	expect(t, r, 0, wantLong, "\nConsumer group '"+long+"' has no active members.\n")
}

// TestDescribeUnknownPartition describes a member assigned a partition that
// does not exist: its end offset and lag are unknown ("-").
func TestDescribeUnknownPartition(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "audit"))
	produce(t, bs, "audit", map[int32]int{0: 2})
	cl := kfaketest.Client(t, bs)
	id := rawJoin(t, cl, "odd", "audit")
	assignment := kmsg.NewConsumerMemberAssignment()
	for _, topic := range []string{"audit", "ghost"} {
		at := kmsg.NewConsumerMemberAssignmentTopic()
		at.Topic = topic
		at.Partitions = []int32{0}
		assignment.Topics = append(assignment.Topics, at)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group = "odd"
	sync.MemberID = id
	sync.Generation = 1
	sa := kmsg.NewSyncGroupRequestGroupAssignment()
	sa.MemberID = id
	sa.MemberAssignment = assignment.AppendTo(nil)
	sync.GroupAssignment = append(sync.GroupAssignment, sa)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if resp, err := sync.RequestWith(ctx, cl); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("sync: %v %+v", err, resp)
	}
	ds, err := admin(t, bs).DescribeGroups(ctx, "odd")
	if err != nil || ds["odd"].State != "Stable" {
		t.Fatalf("describe: %v %+v", err, ds)
	}
	host := ds["odd"].Members[0].ClientHost
	idW, hostW := max(15, len(id)), max(15, len(host))
	line := func(topic, end string) string {
		return offsetsLine(idW, hostW, "odd", topic, "0", "-", end, "-", id, host, "kgo") + "\n"
	}
	// The rows of one member: Java's HashMap order of audit-0 and ghost-0.
	expect(t, tool(t, bs, "--describe", "--group", "odd"), 0, "\n"+offsetsHeader(idW, hostW)+"\n"+line("audit", "2")+line("ghost", "-"), "")
	expect(t, tool(t, bs, "--describe", "--group", "odd", "--members", "--verbose"), 0,
		"\n"+pad("GROUP", 15)+" "+pad("CONSUMER-ID", idW)+" "+pad("HOST", hostW)+" CLIENT-ID       #PARTITIONS     ASSIGNMENT\n"+
			pad("odd", 15)+" "+pad(id, idW)+" "+pad(host, hostW)+" kgo             2               audit(0), ghost(0)\n", "")
}

// rawJoin joins group as a consumer-protocol member that asks for topics
// (JoinGroup twice: the first answer assigns the member id) and returns the
// member id. The member is alone, so it leads generation 1.
func rawJoin(t *testing.T, cl *kgo.Client, group string, topics ...string) string {
	t.Helper()
	return rawJoinAs(t, cl, group, "consumer", topics...)
}

// rawJoinAs is rawJoin with another protocol type ("connect", ...).
func rawJoinAs(t *testing.T, cl *kgo.Client, group, protocolType string, topics ...string) string {
	t.Helper()
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group = group
	join.SessionTimeoutMillis = 30000
	join.RebalanceTimeoutMillis = 30000
	join.ProtocolType = protocolType
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Topics = topics
	proto := kmsg.NewJoinGroupRequestProtocol()
	proto.Name = "range"
	proto.Metadata = meta.AppendTo(nil)
	join.Protocols = append(join.Protocols, proto)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 2 {
		resp, err := join.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		join.MemberID = resp.MemberID
	}
	return join.MemberID
}

func TestDescribeMembersAndState(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(3, "payments"), kfake.SeedTopics(1, "audit"))

	m := startMember(t, bs, "billing", "c1", "payments", "audit")
	g := waitStable(t, bs, "billing", m)
	c1 := memberOf(t, g, "c1")
	idW, hostW := max(15, len(c1.MemberID)), max(15, len(c1.ClientHost))
	membersLine := func(group, id, host, client, n string) string {
		return pad(group, 15) + " " + pad(id, idW) + " " + pad(host, hostW) + " " + pad(client, 15) + " " + pad(n, 15) + " "
	}
	header := membersLine("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS")
	mine := membersLine("billing", c1.MemberID, c1.ClientHost, "c1", "4")
	expect(t, tool(t, bs, "--describe", "--group", "billing", "--members"), 0, "\n"+header+"\n"+mine+"\n", "")
	expect(t, tool(t, bs, "--describe", "--group", "billing", "--members", "--verbose"), 0,
		"\n"+header+"ASSIGNMENT\n"+mine+"audit(0), payments(0,1,2)\n", "")

	coordinator := g.Coordinator.Host + ":" + strconv.Itoa(int(g.Coordinator.Port)) + "  (" + strconv.Itoa(int(g.Coordinator.NodeID)) + ")"
	stateLine := func(group, coord, strategy, state, n string) string {
		return pad(group, 25) + " " + pad(coord, 25) + " " + pad(strategy, 20) + " " + pad(state, 15) + " " + n
	}
	expect(t, tool(t, bs, "--describe", "--group", "billing", "--state"), 0,
		"\n"+stateLine("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")+"\n"+
			stateLine("billing", coordinator, "range", "Stable", "1")+"\n", "")

	// A second member: one line each, in the broker's order.
	m2 := startMember(t, bs, "billing", "c2", "payments", "audit")
	g = waitStable(t, bs, "billing", m, m2)
	c1, c2 := memberOf(t, g, "c1"), memberOf(t, g, "c2")
	hostW = max(15, len(c1.ClientHost), len(c2.ClientHost))
	a1, _ := c1.Assigned.AsConsumer()
	a2, _ := c2.Assigned.AsConsumer()
	count := func(a *kmsg.ConsumerMemberAssignment) string {
		n := 0
		for _, t := range a.Topics {
			n += len(t.Partitions)
		}
		return strconv.Itoa(n)
	}
	r := tool(t, bs, "--describe", "--group", "billing", "--members")
	want := []string{"", "", membersLine("GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS"),
		membersLine("billing", c1.MemberID, c1.ClientHost, "c1", count(a1)), membersLine("billing", c2.MemberID, c2.ClientHost, "c2", count(a2))}
	if r.Code != 0 || r.Stderr != "" || strings.Join(sortedLines(r.Stdout), "\n") != strings.Join(sortedLines(strings.Join(want, "\n")), "\n") ||
		!strings.HasPrefix(r.Stdout, "\n"+want[2]+"\n") {
		t.Fatalf("two members: %+v\nwant lines %q", r, want)
	}

	// Dead and empty groups: Kafka still prints the members header.
	expect(t, tool(t, bs, "--describe", "--group", "nope", "--members"), 0,
		"\nError: Consumer group 'nope' does not exist.\n\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     \n", "")
	commitEmpty(t, bs, "idle", map[string]map[int32]int64{"audit": {0: 0}})
	expect(t, tool(t, bs, "--describe", "--group", "idle", "--members", "--verbose"), 0,
		"\nGROUP           CONSUMER-ID     HOST            CLIENT-ID       #PARTITIONS     ASSIGNMENT\n",
		"\nConsumer group 'idle' has no active members.\n")
	idleCoordinator := ""
	ds, err := admin(t, bs).DescribeGroups(context.Background(), "idle")
	if err != nil {
		t.Fatal(err)
	}
	idleCoordinator = ds["idle"].Coordinator.Host + ":" + strconv.Itoa(int(ds["idle"].Coordinator.Port)) +
		"  (" + strconv.Itoa(int(ds["idle"].Coordinator.NodeID)) + ")"
	expect(t, tool(t, bs, "--describe", "--group", "idle", "--state"), 0,
		"\n"+stateLine("GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS")+"\n"+
			stateLine("idle", idleCoordinator, "", "Empty", "0")+"\n",
		"\nConsumer group 'idle' has no active members.\n")
	expect(t, tool(t, bs, "--describe", "--group", "nope", "--state"), 0, "\nError: Consumer group 'nope' does not exist.\n", "")
}

func TestDescribeStaticMember(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "audit"))
	m := kfaketest.Client(t, bs, kgoStatic("billing", "c1", "instance-1", "audit")...)
	g := waitStable(t, bs, "billing", m)
	c1 := memberOf(t, g, "c1")
	idW, hostW := max(15, len(c1.MemberID)), max(15, len(c1.ClientHost))
	line := func(group, id, instance, host, client, n string) string {
		return pad(group, 15) + " " + pad(id, idW) + " " + pad(instance, 17) + " " + pad(host, hostW) + " " + pad(client, 15) + " " + pad(n, 15) + " "
	}
	expect(t, tool(t, bs, "--describe", "--group", "billing", "--members"), 0,
		"\n"+line("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS")+"\n"+
			line("billing", c1.MemberID, "instance-1", c1.ClientHost, "c1", "1")+"\n", "")
}

// TestDescribeRebalancing holds a group in CompletingRebalance: a member
// that joined but never syncs.
func TestDescribeRebalancing(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "audit"))
	id := rawJoin(t, kfaketest.Client(t, bs), "moving", "audit")
	const warning = "\nWarning: Consumer group 'moving' is rebalancing.\n"
	expect(t, tool(t, bs, "--describe", "--group", "moving"), 0, "", warning)
	r := tool(t, bs, "--describe", "--group", "moving", "--state")
	if r.Code != 0 || r.Stderr != warning || !strings.Contains(r.Stdout, " CompletingRebalance 1\n") {
		t.Fatalf("state: %+v", r)
	}
	r = tool(t, bs, "--describe", "--group", "moving", "--members")
	if r.Code != 0 || r.Stderr != warning || !strings.Contains(r.Stdout, id) || !strings.HasSuffix(r.Stdout, " 0               \n") {
		t.Fatalf("members: %+v", r)
	}
}
