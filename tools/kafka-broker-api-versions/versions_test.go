package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

// zk39 is what a ZooKeeper-mode Kafka 3.9 broker advertises
// (wire-protocol.md §4): key, min, max.
var zk39 = [][3]int16{
	{0, 0, 11}, {1, 0, 17}, {2, 0, 9}, {3, 0, 12}, {4, 0, 7}, {5, 0, 4}, {6, 0, 8}, {7, 0, 3}, {8, 0, 9}, {9, 0, 9},
	{10, 0, 6}, {11, 0, 9}, {12, 0, 4}, {13, 0, 5}, {14, 0, 5}, {15, 0, 5}, {16, 0, 5}, {17, 0, 1}, {18, 0, 4}, {19, 0, 7},
	{20, 0, 6}, {21, 0, 2}, {22, 0, 5}, {23, 0, 4}, {24, 0, 5}, {25, 0, 4}, {26, 0, 4}, {27, 0, 1}, {28, 0, 4}, {29, 0, 3},
	{30, 0, 3}, {31, 0, 3}, {32, 0, 4}, {33, 0, 2}, {34, 0, 2}, {35, 0, 4}, {36, 0, 2}, {37, 0, 3}, {38, 0, 3}, {39, 0, 2},
	{40, 0, 2}, {41, 0, 3}, {42, 0, 2}, {43, 0, 2}, {44, 0, 1}, {45, 0, 0}, {46, 0, 0}, {47, 0, 0}, {48, 0, 1}, {49, 0, 1},
	{50, 0, 0}, {51, 0, 0}, {56, 0, 3}, {57, 0, 1}, {58, 0, 0}, {60, 0, 1}, {61, 0, 0}, {65, 0, 0}, {66, 0, 1}, {67, 0, 0},
	{68, 0, 0}, {69, 0, 0},
}

// kafka392 is the block Kafka 3.9.2's kafka-broker-api-versions.sh printed
// for one broker of a ZooKeeper-mode 3.9 cluster (from a published session
// log), after the "host:port (id: N rack: null) -> " prefix.
const kafka392 = `(
	Produce(0): 0 to 11 [usable: 11],
	Fetch(1): 0 to 17 [usable: 17],
	ListOffsets(2): 0 to 9 [usable: 9],
	Metadata(3): 0 to 12 [usable: 12],
	LeaderAndIsr(4): 0 to 7 [usable: 7],
	StopReplica(5): 0 to 4 [usable: 4],
	UpdateMetadata(6): 0 to 8 [usable: 8],
	ControlledShutdown(7): 0 to 3 [usable: 3],
	OffsetCommit(8): 0 to 9 [usable: 9],
	OffsetFetch(9): 0 to 9 [usable: 9],
	FindCoordinator(10): 0 to 6 [usable: 6],
	JoinGroup(11): 0 to 9 [usable: 9],
	Heartbeat(12): 0 to 4 [usable: 4],
	LeaveGroup(13): 0 to 5 [usable: 5],
	SyncGroup(14): 0 to 5 [usable: 5],
	DescribeGroups(15): 0 to 5 [usable: 5],
	ListGroups(16): 0 to 5 [usable: 5],
	SaslHandshake(17): 0 to 1 [usable: 1],
	ApiVersions(18): 0 to 4 [usable: 4],
	CreateTopics(19): 0 to 7 [usable: 7],
	DeleteTopics(20): 0 to 6 [usable: 6],
	DeleteRecords(21): 0 to 2 [usable: 2],
	InitProducerId(22): 0 to 5 [usable: 5],
	OffsetForLeaderEpoch(23): 0 to 4 [usable: 4],
	AddPartitionsToTxn(24): 0 to 5 [usable: 5],
	AddOffsetsToTxn(25): 0 to 4 [usable: 4],
	EndTxn(26): 0 to 4 [usable: 4],
	WriteTxnMarkers(27): 0 to 1 [usable: 1],
	TxnOffsetCommit(28): 0 to 4 [usable: 4],
	DescribeAcls(29): 0 to 3 [usable: 3],
	CreateAcls(30): 0 to 3 [usable: 3],
	DeleteAcls(31): 0 to 3 [usable: 3],
	DescribeConfigs(32): 0 to 4 [usable: 4],
	AlterConfigs(33): 0 to 2 [usable: 2],
	AlterReplicaLogDirs(34): 0 to 2 [usable: 2],
	DescribeLogDirs(35): 0 to 4 [usable: 4],
	SaslAuthenticate(36): 0 to 2 [usable: 2],
	CreatePartitions(37): 0 to 3 [usable: 3],
	CreateDelegationToken(38): 0 to 3 [usable: 3],
	RenewDelegationToken(39): 0 to 2 [usable: 2],
	ExpireDelegationToken(40): 0 to 2 [usable: 2],
	DescribeDelegationToken(41): 0 to 3 [usable: 3],
	DeleteGroups(42): 0 to 2 [usable: 2],
	ElectLeaders(43): 0 to 2 [usable: 2],
	IncrementalAlterConfigs(44): 0 to 1 [usable: 1],
	AlterPartitionReassignments(45): 0 [usable: 0],
	ListPartitionReassignments(46): 0 [usable: 0],
	OffsetDelete(47): 0 [usable: 0],
	DescribeClientQuotas(48): 0 to 1 [usable: 1],
	AlterClientQuotas(49): 0 to 1 [usable: 1],
	DescribeUserScramCredentials(50): 0 [usable: 0],
	AlterUserScramCredentials(51): 0 [usable: 0],
	DescribeQuorum(55): UNSUPPORTED,
	AlterPartition(56): 0 to 3 [usable: 3],
	UpdateFeatures(57): 0 to 1 [usable: 1],
	Envelope(58): 0 [usable: 0],
	DescribeCluster(60): 0 to 1 [usable: 1],
	DescribeProducers(61): 0 [usable: 0],
	UnregisterBroker(64): UNSUPPORTED,
	DescribeTransactions(65): 0 [usable: 0],
	ListTransactions(66): 0 to 1 [usable: 1],
	AllocateProducerIds(67): 0 [usable: 0],
	ConsumerGroupHeartbeat(68): 0 [usable: 0],
	ConsumerGroupDescribe(69): 0 [usable: 0],
	GetTelemetrySubscriptions(71): UNSUPPORTED,
	PushTelemetry(72): UNSUPPORTED,
	ListClientMetricsResources(74): UNSUPPORTED,
	DescribeTopicPartitions(75): UNSUPPORTED,
	ShareGroupHeartbeat(76): UNSUPPORTED,
	ShareGroupDescribe(77): UNSUPPORTED,
	ShareFetch(78): UNSUPPORTED,
	ShareAcknowledge(79): UNSUPPORTED,
	AddRaftVoter(80): UNSUPPORTED,
	RemoveRaftVoter(81): UNSUPPORTED,
	InitializeShareGroupState(83): UNSUPPORTED,
	ReadShareGroupState(84): UNSUPPORTED,
	WriteShareGroupState(85): UNSUPPORTED,
	DeleteShareGroupState(86): UNSUPPORTED,
	ReadShareGroupStateSummary(87): UNSUPPORTED
)`

func TestMatchesKafka392Output(t *testing.T) {
	var keys []kmsg.ApiVersionsResponseApiKey
	for _, k := range zk39 {
		keys = append(keys, kmsg.ApiVersionsResponseApiKey{ApiKey: k[0], MinVersion: k[1], MaxVersion: k[2]})
	}
	if got := nodeAPIVersions(keys); got != kafka392 {
		t.Fatalf("got\n%s\nwant\n%s", got, kafka392)
	}
}

func TestUsableEdgeCases(t *testing.T) {
	got := nodeAPIVersions([]kmsg.ApiVersionsResponseApiKey{
		{ApiKey: 0, MinVersion: 3, MaxVersion: 13}, // newer than the client: usable is the client's newest
		{ApiKey: 1, MinVersion: 18, MaxVersion: 19},
		{ApiKey: 99, MinVersion: 0, MaxVersion: 2},
	})
	for _, want := range []string{
		"\tProduce(0): 3 to 13 [usable: 11],\n",
		"\tFetch(1): 18 to 19 [unusable: node too new],\n",
		"\tListOffsets(2): UNSUPPORTED,\n",
		"\tUNKNOWN(99): 0 to 2\n)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

var apiLine = regexp.MustCompile(`^\t(\w+|UNKNOWN)\(\d+\): (UNSUPPORTED|\d+( to \d+)?( \[usable: \d+\]| \[unusable: node too (new|old)\])?),?$`)

func TestAgainstKfake(t *testing.T) {
	c, bs := kfaketest.Cluster(t)
	r := kfaketest.Run(t, run, "", "--bootstrap-server", bs)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("got %+v", r)
	}
	// kfake's table differs from Kafka's: check the shape, not the numbers.
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	addrs := c.ListenAddrs()
	heads := 0
	for i, l := range lines {
		switch {
		case strings.HasSuffix(l, " -> ("):
			want := addrs[heads] + " (id: " + string(rune('0'+heads)) + " rack: krack) -> (" // kfake puts every broker in rack "krack"
			if l != want {
				t.Fatalf("line %d: %q, want %q", i, l, want)
			}
			heads++
		case l == ")":
			if !strings.HasSuffix(lines[i-1], "]") && !strings.HasSuffix(lines[i-1], "UNSUPPORTED") && !strings.Contains(lines[i-1], "UNKNOWN") {
				t.Fatalf("last API line ends with a comma: %q", lines[i-1])
			}
		case !apiLine.MatchString(l):
			t.Fatalf("line %d does not look like an API line: %q", i, l)
		}
	}
	if heads != 3 || !strings.Contains(r.Stdout, "\tApiVersions(18): 0 to ") || !strings.Contains(r.Stdout, "\tLeaderAndIsr(4): UNSUPPORTED,\n") {
		t.Fatalf("output:\n%s", r.Stdout)
	}
}

func TestErrors(t *testing.T) {
	r := kfaketest.Run(t, run, "", "--bootstrap-server", "127.0.0.1:1", "--command-config", "/nonexistent/x")
	if r.Code != 1 || r.Stderr != "/nonexistent/x (No such file or directory)\n" {
		t.Fatalf("missing config: %+v", r)
	}
	r = kfaketest.Run(t, run, "", "--command-config", "/x")
	if r.Code != 1 || r.Stderr != "Missing required argument \"[bootstrap-server]\"\n" {
		t.Fatalf("no bootstrap: %+v", r)
	}
	r = kfaketest.Run(t, run, "", "--bootstrap-server", "127.0.0.1:1,127.0.0.1:2", "--command-config", writeProps(t, "request.timeout.ms=300\n"))
	if r.Code != 1 || r.Stderr != "Request METADATA failed on brokers [127.0.0.1:1 (id: -1 rack: null), 127.0.0.1:2 (id: -1 rack: null)]\n" {
		t.Fatalf("unreachable: %+v", r)
	}
	r = kfaketest.Run(t, run, "")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, helpMsg+"\nOption ") {
		t.Fatalf("no args: %+v", r)
	}
}

func writeProps(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "client.properties")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
