package main

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func TestList(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "audit"))
	expect(t, tool(t, bs, "--list"), 0, "", "")
	expect(t, tool(t, bs, "--list", "--state"), 0, "GROUP                     STATE               \n", "")

	m := startMember(t, bs, "billing", "c1", "audit")
	waitStable(t, bs, "billing", m)
	commitEmpty(t, bs, "idle", map[string]map[int32]int64{"audit": {0: 0}})
	// A Kafka Connect group is not a consumer group.
	rawJoinAs(t, kfaketest.Client(t, bs), "workers", "connect")

	// Java's HashMap order of the names: idle before billing.
	expect(t, tool(t, bs, "--list"), 0, "idle\nbilling\n", "")
	expect(t, tool(t, bs, "--list", "--state"), 0,
		"GROUP                     STATE               \n"+
			"idle                      Empty               \n"+
			"billing                   Stable              \n", "")
	expect(t, tool(t, bs, "--list", "--state", "stable"), 0,
		"GROUP                     STATE               \n"+
			"billing                   Stable              \n", "")
	expect(t, tool(t, bs, "--list", "--state", "Empty, STABLE"), 0,
		"GROUP                     STATE               \n"+
			"idle                      Empty               \n"+
			"billing                   Stable              \n", "")
	expect(t, tool(t, bs, "--list", "--type"), 0,
		"GROUP                     TYPE                \n"+
			"idle                      Classic             \n"+
			"billing                   Classic             \n", "")
	expect(t, tool(t, bs, "--list", "--type", "consumer", "--state"), 0,
		"GROUP                     TYPE                 STATE               \n", "")
	expect(t, tool(t, bs, "--list", "--type", "Classic", "--state", "Empty"), 0,
		"GROUP                     TYPE                 STATE               \n"+
			"idle                      Classic              Empty               \n", "")

	// The GROUP column is ten wider than the longest name.
	long := "a-consumer-group-with-a-long-name"
	commitEmpty(t, bs, long, map[string]map[int32]int64{"audit": {0: 0}})
	expect(t, tool(t, bs, "--list", "--state", "empty"), 0,
		pad("GROUP", len(long)+10)+" STATE               \n"+
			pad("idle", len(long)+10)+" Empty               \n"+
			pad(long, len(long)+10)+" Empty               \n", "")

	expect(t, tool(t, bs, "--list", "--state", "bogus"), 1, "",
		"Invalid state list 'bogus'. Valid states are: PreparingRebalance, CompletingRebalance, Stable, Dead, Empty, Assigning, Reconciling\n")
	expect(t, tool(t, bs, "--list", "--type", "Classic,streams"), 1, "",
		"Invalid types list 'Classic,streams'. Valid types are: Consumer, Classic, Share\n")

	// Describing the Connect group fails as in Kafka.
	expect(t, tool(t, bs, "--describe", "--group", "workers"), 1, "",
		"Error: Executing consumer group command failed due to java.lang.IllegalArgumentException: GroupId workers is not a consumer group (connect).\n")
}
