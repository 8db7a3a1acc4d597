package main

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func TestDeleteGroups(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "audit"))
	for _, g := range []string{"idle", "idle2", "idle3"} {
		commitEmpty(t, bs, g, map[string]map[int32]int64{"audit": {0: 0}})
	}
	m := startMember(t, bs, "billing", "c1", "audit")
	waitStable(t, bs, "billing", m)

	expect(t, tool(t, bs, "--delete", "--group", "idle"), 0, "Deletion of requested consumer groups ('idle') was successful.\n", "")
	expect(t, tool(t, bs, "--describe", "--group", "idle"), 0, "\nError: Consumer group 'idle' does not exist.\n", "")

	// Failures are listed (in Java's HashMap order), the exit status stays 0.
	expect(t, tool(t, bs, "--delete", "--group", "billing", "--group", "idle2", "--group", "nope"), 0,
		"\nError: Deletion of some consumer groups failed:\n"+
			"* Group 'nope' could not be deleted due to: org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist.\n"+
			"* Group 'billing' could not be deleted due to: org.apache.kafka.common.errors.GroupNotEmptyException: The group is not empty.\n"+
			"\nThese consumer groups were deleted successfully: 'idle2'\n", "")
	expect(t, tool(t, bs, "--list"), 0, "idle3\nbilling\n", "")

	m.Close() // the last member leaves: billing is empty now
	eventually(t, "billing to be empty", func() bool {
		return tool(t, bs, "--list", "--state", "empty").Stdout == "GROUP                     STATE               \n"+
			"idle3                     Empty               \n"+
			"billing                   Empty               \n"
	})
	expect(t, tool(t, bs, "--delete", "--all-groups"), 0, "Deletion of requested consumer groups ('idle3', 'billing') was successful.\n", "")
	expect(t, tool(t, bs, "--delete", "--all-groups"), 0, "Deletion of requested consumer groups ('') was successful.\n", "")
}

const deleteOffsetsHeader = "\nTOPIC                          PARTITION       STATUS         \n"

func deleteOffsetsRow(topic, partition, status string) string {
	return pad(topic, 30) + " " + pad(partition, 15) + " " + pad(status, 15) + "\n"
}

func TestDeleteOffsets(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(12, "payments"), kfake.SeedTopics(1, "audit"))
	commitEmpty(t, bs, "idle", map[string]map[int32]int64{"payments": {0: 0, 1: 0, 2: 0, 10: 0}, "audit": {0: 0}})

	// Rows sorted by topic and partition as text: 10 before 2.
	expect(t, tool(t, bs, "--delete-offsets", "--group", "idle", "--topic", "payments:2,10,0"), 0,
		"Request succeed for deleting offsets with topic payments:2,10,0 group idle\n"+deleteOffsetsHeader+
			deleteOffsetsRow("payments", "0", "Successful")+deleteOffsetsRow("payments", "10", "Successful")+
			deleteOffsetsRow("payments", "2", "Successful"), "")
	if got := committedOf(t, bs, "idle"); got != "audit-0=0,payments-1=0" {
		t.Fatalf("after delete: %s", got)
	}

	// A whole topic, and one that does not exist.
	expect(t, tool(t, bs, "--delete-offsets", "--group", "idle", "--topic", "nope", "--topic", "audit"), 0,
		"Request succeed for deleting offsets with topic nope, audit group idle\n"+deleteOffsetsHeader+
			deleteOffsetsRow("audit", "0", "Successful")+
			deleteOffsetsRow("nope", "Not Provided", "Error: :org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition."), "")
	if got := committedOf(t, bs, "idle"); got != "payments-1=0" {
		t.Fatalf("after delete: %s", got)
	}

	// A group that does not exist.
	expect(t, tool(t, bs, "--delete-offsets", "--group", "nope", "--topic", "payments:1"), 0,
		"\nError: 'nope' does not exist.\n"+deleteOffsetsHeader+
			deleteOffsetsRow("payments", "1", "Error: :org.apache.kafka.common.errors.GroupIdNotFoundException: The group id does not exist."), "")

	// A group still consuming the topic.
	m := startMember(t, bs, "billing", "c1", "audit")
	waitStable(t, bs, "billing", m)
	commitAs(t, m, map[string]map[int32]int64{"audit": {0: 0}})
	expect(t, tool(t, bs, "--delete-offsets", "--group", "billing", "--topic", "audit"), 0,
		"\nError: Encounter some partition level error, see the follow-up details:\n"+deleteOffsetsHeader+
			deleteOffsetsRow("audit", "0", "Error: :org.apache.kafka.common.errors.GroupSubscribedToTopicException: "+
				"Deleting offsets of a topic is forbidden while the consumer group is actively subscribed to it."), "")
	if got := committedOf(t, bs, "billing"); got != "audit-0=0" {
		t.Fatalf("billing: %s", got)
	}
}
