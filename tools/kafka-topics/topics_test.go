package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

// topicID reads a topic's id straight from the cluster, to build the
// expected describe lines.
func topicID(t *testing.T, bootstrap, topic string) string {
	t.Helper()
	cl := kfaketest.Client(t, bootstrap)
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil || len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("metadata for %s: %v %+v", topic, err, resp)
	}
	return base64.RawURLEncoding.EncodeToString(resp.Topics[0].TopicID[:])
}

// leadersTo moves every partition's leadership to broker 0, so that kfake's
// replica lists (the leader, then the next brokers) are known.
func leadersTo0(t *testing.T, c *kfake.Cluster, topic string, partitions int32) {
	t.Helper()
	for p := range partitions {
		if err := c.MoveTopicPartition(topic, p, 0); err != nil {
			t.Fatal(err)
		}
	}
}

func expect(t *testing.T, r kfaketest.Result, code int, stdout, stderr string) {
	t.Helper()
	if r.Code != code || r.Stdout != stdout || r.Stderr != stderr {
		t.Fatalf("got code %d\nstdout:\n%q\nstderr:\n%q\nwant code %d\nstdout:\n%q\nstderr:\n%q",
			r.Code, r.Stdout, r.Stderr, code, stdout, stderr)
	}
}

func TestCreateListDescribeAlterDelete(t *testing.T) {
	c, bs := kfaketest.Cluster(t)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--create", "--topic", "orders",
		"--partitions", "3", "--replication-factor", "2", "--config", "retention.ms=1000", "--config", "cleanup.policy = compact"),
		0, "Created topic orders.\n", "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--create", "--topic", "audit"),
		0, "Created topic audit.\n", "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--list"), 0, "audit\norders\n", "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--list", "--topic", "ord.*"), 0, "orders\n", "")

	leadersTo0(t, c, "orders", 3)
	id := topicID(t, bs, "orders")
	// Configs come in java.util.HashMap order: cleanup.policy before
	// retention.ms, whatever order the broker sent them in.
	head := "Topic: orders\tTopicId: " + id + "\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: cleanup.policy=compact,retention.ms=1000\n"
	part := func(p string) string {
		return "\tTopic: orders\tPartition: " + p + "\tLeader: 0\tReplicas: 0,1\tIsr: 0,1\tElr: N/A\tLastKnownElr: N/A\n"
	}
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--topic", "orders"),
		0, head+part("0")+part("1")+part("2"), "")

	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--alter", "--topic", "orders", "--partitions", "5"), 0, "", "")
	leadersTo0(t, c, "orders", 5)
	head5 := strings.Replace(head, "PartitionCount: 3", "PartitionCount: 5", 1)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--topic", "orders"),
		0, head5+part("0")+part("1")+part("2")+part("3")+part("4"), "")

	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--delete", "--topic", "orders"), 0, "", "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--list"), 0, "audit\n", "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--delete", "--topic", "audit"), 0, "", "")
	// Kafka prints the empty join of no names: one empty line.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--list"), 0, "\n", "")
}

func TestCreateVariants(t *testing.T) {
	_, bs := kfaketest.Cluster(t)
	const warning = "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. " +
		"To avoid issues it is best to use either, but not both.\n"
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--create", "--topic", "a.b", "--partitions", "1"),
		0, warning+"Created topic a.b.\n", "")
	// An existing topic: an error, unless --if-not-exists.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--create", "--topic", "a.b"),
		1, warning, "Error while executing topic command : Topic with this name already exists.\n")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--create", "--topic", "a.b", "--if-not-exists"), 0, warning, "")
	// A manual assignment decides the partition count.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--create", "--topic", "manual", "--replica-assignment", "0:1,1:2,2:0"),
		0, "Created topic manual.\n", "")
	r := kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--topic", "manual")
	if r.Code != 0 || !strings.Contains(r.Stdout, "\tPartitionCount: 3\tReplicationFactor: 2\tConfigs: \n") {
		t.Fatalf("describe manual: %+v", r)
	}
	// --alter with an assignment sends only the new partitions' replicas.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--alter", "--topic", "manual", "--partitions", "4",
		"--replica-assignment", "0:1,1:2,2:0,1:0"), 0, "", "")
	r = kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--topic", "manual")
	if r.Code != 0 || !strings.Contains(r.Stdout, "\tPartitionCount: 4\t") || !strings.Contains(r.Stdout, "\tPartition: 3\t") {
		t.Fatalf("describe manual after alter: %+v", r)
	}
	// Shrinking fails with the broker's message.
	r = kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--alter", "--topic", "manual", "--partitions", "2")
	if r.Code != 1 || r.Stdout != "" || !strings.HasPrefix(r.Stderr, "Error while executing topic command : ") || strings.Count(r.Stderr, "\n") != 1 {
		t.Fatalf("shrink: %+v", r)
	}
}

func TestListAndDescribeFilters(t *testing.T) {
	c, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "__consumer_offsets", "zeta", "alpha"))
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--list"), 0, "__consumer_offsets\nalpha\nzeta\n", "")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--list", "--exclude-internal"), 0, "alpha\nzeta\n", "")
	// Commas in --topic separate alternatives.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--list", "--topic", "zeta,alpha"), 0, "alpha\nzeta\n", "")

	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--create", "--topic", "strict",
		"--partitions", "2", "--replication-factor", "2", "--config", "min.insync.replicas=2"), 0, "Created topic strict.\n", "")
	leadersTo0(t, c, "strict", 2)
	id := topicID(t, bs, "strict")
	p0 := "\tTopic: strict\tPartition: 0\tLeader: 0\tReplicas: 0,1\tIsr: 0,1\tElr: N/A\tLastKnownElr: N/A\n"
	p1 := strings.Replace(p0, "Partition: 0", "Partition: 1", 1)
	// Report options print the matching partitions without the topic line.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--topic", "strict", "--at-min-isr-partitions"), 0, p0+p1, "")
	for _, opt := range []string{"--under-replicated-partitions", "--unavailable-partitions", "--under-min-isr-partitions"} {
		expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", opt), 0, "", "")
	}
	// --topics-with-overrides: topic lines only, and only for overridden topics.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--topics-with-overrides"),
		0, "Topic: strict\tTopicId: "+id+"\tPartitionCount: 2\tReplicationFactor: 2\tConfigs: min.insync.replicas=2\n", "")
	// --topic-id selects by id.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--topic-id", id, "--under-replicated-partitions"), 0, "", "")
	r := kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--topic-id", id)
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "Topic: strict\tTopicId: "+id+"\t") {
		t.Fatalf("describe by id: %+v", r)
	}
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--topic-id", "AAAAAAAAAAAAAAAAAAAAAQ"),
		1, "", "TopicId 'AAAAAAAAAAAAAAAAAAAAAQ' does not exist as expected\n")

	// Describing everything names every topic once, each followed by its partitions.
	r = kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--describe", "--exclude-internal")
	var heads []string
	for _, line := range strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n") {
		if strings.HasPrefix(line, "Topic: ") {
			heads = append(heads, strings.Fields(line)[1])
		}
	}
	if r.Code != 0 || len(heads) != 3 || strings.Count(r.Stdout, "\tPartition: ") != 4 || strings.Contains(r.Stdout, "__consumer_offsets") {
		t.Fatalf("describe all: %+v", r)
	}
}

func TestErrors(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "present"))
	dir := t.TempDir()
	fast := filepath.Join(dir, "fast.properties")
	if err := os.WriteFile(fast, []byte("default.api.timeout.ms=300\nssl.truststore.location=/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		stdout string
		stderr string
	}{
		{"no bootstrap", []string{"--list"}, "", "--bootstrap-server must be specified\n"},
		{"no action", []string{"--bootstrap-server", bs}, "",
			"Command must include exactly one action: --list, --describe, --create, --alter or --delete\n"},
		{"two actions", []string{"--bootstrap-server", bs, "--list", "--describe"}, "",
			"Command must include exactly one action: --list, --describe, --create, --alter or --delete\n"},
		{"unknown option", []string{"--bootstrap-server", bs, "--list", "--frobnicate"}, "",
			"Error while executing topic command : frobnicate is not a recognized option\n"},
		{"missing argument", []string{"--bootstrap-server"}, "",
			"Error while executing topic command : Option bootstrap-server requires an argument\n"},
		{"create without topic", []string{"--bootstrap-server", bs, "--create"}, "", "Missing required argument \"[topic]\"\n"},
		{"alter without partitions", []string{"--bootstrap-server", bs, "--alter", "--topic", "present"}, "",
			"Missing required argument \"[partitions]\"\n"},
		{"alter with config", []string{"--bootstrap-server", bs, "--alter", "--topic", "present", "--partitions", "2", "--config", "a=b"}, "",
			"Option combination \"[bootstrap-server, config]\" can't be used with option \"[alter]\" (To alter topic configurations, the kafka-configs tool can be used.)\n"},
		{"partitions with list", []string{"--bootstrap-server", bs, "--list", "--partitions", "2"}, "",
			"Option \"[partitions]\" can't be used with option \"[list]\"\n"},
		{"assignment with partitions", []string{"--bootstrap-server", bs, "--create", "--topic", "x", "--partitions", "2", "--replica-assignment", "0"}, "",
			"Option \"[replica-assignment]\" can't be used with option \"[partitions]\"\n"},
		{"if-not-exists with delete", []string{"--bootstrap-server", bs, "--delete", "--topic", "x", "--if-not-exists"}, "",
			"Option \"[if-not-exists]\" can't be used with option \"[delete]\"\n"},
		{"describe unknown", []string{"--bootstrap-server", bs, "--describe", "--topic", "nope"}, "", "Topic 'nope' does not exist as expected\n"},
		{"describe unknown if-exists", []string{"--bootstrap-server", bs, "--describe", "--topic", "nope", "--if-exists"}, "", ""},
		{"delete unknown", []string{"--bootstrap-server", bs, "--delete", "--topic", "nope"}, "", "Topic 'nope' does not exist as expected\n"},
		{"alter unknown", []string{"--bootstrap-server", bs, "--alter", "--topic", "nope", "--partitions", "3"}, "", "Topic 'nope' does not exist as expected\n"},
		{"bad config format", []string{"--bootstrap-server", bs, "--create", "--topic", "x", "--config", "retention.ms"}, "",
			"requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\".\n"},
		{"unknown config", []string{"--bootstrap-server", bs, "--create", "--topic", "x", "--config", "retention.msec=1"}, "",
			"Error while executing topic command : Unknown topic config name: retention.msec\n"},
		{"zero replication factor", []string{"--bootstrap-server", bs, "--create", "--topic", "x", "--replication-factor", "0"}, "",
			"The replication factor must be between 1 and 32767 inclusive\n"},
		{"zero partitions", []string{"--bootstrap-server", bs, "--create", "--topic", "x", "--partitions", "0"}, "",
			"The partitions must be greater than 0\n"},
		{"partitions not a number", []string{"--bootstrap-server", bs, "--create", "--topic", "x", "--partitions", "many"}, "",
			"Error while executing topic command : Cannot parse argument 'many' of option partitions\n"},
		{"duplicate replicas", []string{"--bootstrap-server", bs, "--create", "--topic", "x", "--replica-assignment", "1:1,0:2"}, "",
			"Error while executing topic command : Partition replica lists may not contain duplicate entries: 1\n"},
		{"uneven replicas", []string{"--bootstrap-server", bs, "--create", "--topic", "x", "--replica-assignment", "0:1,2"}, "",
			"Error while executing topic command : Partition 1 has different replication factor: [2]\n"},
		{"assignment not a number", []string{"--bootstrap-server", bs, "--create", "--topic", "x", "--replica-assignment", "0:b"}, "",
			"Error while executing topic command : For input string: \"b\"\n"},
		{"bad topic id", []string{"--bootstrap-server", bs, "--describe", "--topic-id", "abc"}, "",
			"Input string `abc` decoded as 2 bytes, which is not equal to the expected 16 bytes of a base64-encoded UUID\n"},
		{"bootstrap without port", []string{"--bootstrap-server", "localhost", "--list"}, "",
			"Error while executing topic command : Invalid url in bootstrap.servers: localhost\n"},
		{"missing command config", []string{"--bootstrap-server", bs, "--list", "--command-config", filepath.Join(dir, "absent")}, "",
			"Error while executing topic command : " + filepath.Join(dir, "absent") + " (No such file or directory)\n"},
		{"unreachable", []string{"--bootstrap-server", "127.0.0.1:1", "--list", "--command-config", fast}, "",
			"kafka-topics: note: ignoring client properties this tool does not support: ssl.truststore.location\n" +
				"Error while executing topic command : Timed out waiting for a node assignment. Call: listTopics"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := kfaketest.Run(t, run, "", tc.args...)
			code := 1
			if tc.stderr == "" {
				code = 0
			}
			if tc.name == "unreachable" { // the cause that follows depends on the OS
				if r.Code != 1 || !strings.HasPrefix(r.Stderr, tc.stderr) || strings.Count(r.Stderr, "\n") != 2 {
					t.Fatalf("got %+v", r)
				}
				return
			}
			expect(t, r, code, tc.stdout, tc.stderr)
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	r := kfaketest.Run(t, run, "")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "Create, delete, describe, or change a topic.\nOption ") ||
		!strings.Contains(r.Stderr, "--bootstrap-server <String: server to") {
		t.Fatalf("no args: %+v", r)
	}
	r = kfaketest.Run(t, run, "", "--help")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "This tool helps to create, delete, describe, or change a topic.\n") {
		t.Fatalf("--help: %+v", r)
	}
	expect(t, kfaketest.Run(t, run, "", "--version"), 0, "3.9.0\n", "")
}

func TestParseReplicaAssignment(t *testing.T) {
	got, err := parseReplicaAssignment(" 1 : 2 ,2:3,")
	if err != nil || len(got) != 2 || got[0][0] != 1 || got[0][1] != 2 || got[1][0] != 2 || got[1][1] != 3 {
		t.Fatalf("got %v %v", got, err)
	}
}
