package main

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func expect(t *testing.T, r kfaketest.Result, code int, stdout, stderr string) {
	t.Helper()
	if r.Code != code || r.Stdout != stdout || r.Stderr != stderr {
		t.Fatalf("got code %d\nstdout:\n%q\nstderr:\n%q\nwant code %d\nstdout:\n%q\nstderr:\n%q",
			r.Code, r.Stdout, r.Stderr, code, stdout, stderr)
	}
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "election.json")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// answer is a canned ElectLeaders answer: the control records the request
// and answers with the given partitions (topic, partition, code, message).
type answer struct {
	topic     string
	partition int32
	code      int16
	msg       *string
}

type recorder struct {
	mu   sync.Mutex
	reqs []*kmsg.ElectLeadersRequest
}

func (r *recorder) last(t *testing.T) *kmsg.ElectLeadersRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no ElectLeaders request")
	}
	return r.reqs[len(r.reqs)-1]
}

func control(c *kfake.Cluster, rec *recorder, topLevel int16, answers ...answer) {
	c.ControlKey(int16(kmsg.ElectLeaders), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		req := kr.(*kmsg.ElectLeadersRequest)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, req)
		rec.mu.Unlock()
		resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
		resp.ErrorCode = topLevel
		for _, a := range answers {
			if n := len(resp.Topics); n == 0 || resp.Topics[n-1].Topic != a.topic {
				rt := kmsg.NewElectLeadersResponseTopic()
				rt.Topic = a.topic
				resp.Topics = append(resp.Topics, rt)
			}
			p := kmsg.NewElectLeadersResponseTopicPartition()
			p.Partition, p.ErrorCode, p.ErrorMessage = a.partition, a.code, a.msg
			rt := &resp.Topics[len(resp.Topics)-1]
			rt.Partitions = append(rt.Partitions, p)
		}
		return resp, nil, true
	})
}

func TestElectOnePartition(t *testing.T) {
	c, bs := kfaketest.Cluster(t, kfake.SeedTopics(3, "orders"))
	before := c.LeaderFor("orders", 1)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "preferred", "--topic", "orders", "--partition", "1"),
		0, "Successfully completed leader election (PREFERRED) for partitions orders-1\n", "")
	if after := c.LeaderFor("orders", 1); after == before {
		t.Fatalf("kfake did not move the leader of orders-1 (still %d)", after)
	}
}

// TestAllPartitionsInJavaOrder: --all-topic-partitions sends a null topic
// list, and the partitions are printed in the order of Java's HashSet over
// TopicPartition (orders-2, orders-1, orders-0 for one-letter-bucket
// neighbours), not sorted.
func TestAllPartitionsInJavaOrder(t *testing.T) {
	c, bs := kfaketest.Cluster(t, kfake.SeedTopics(3, "t"))
	rec := &recorder{}
	c.ControlKey(int16(kmsg.ElectLeaders), func(kr kmsg.Request) (kmsg.Response, error, bool) {
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, kr.(*kmsg.ElectLeadersRequest))
		rec.mu.Unlock()
		return nil, nil, false // observe only: kfake elects
	})
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "PREFERRED", "--all-topic-partitions"),
		0, "Successfully completed leader election (PREFERRED) for partitions t-2, t-1, t-0\n", "")
	req := rec.last(t)
	if req.Topics != nil || req.ElectionType != 0 || req.TimeoutMillis != 30000 {
		t.Fatalf("request: topics %v type %d timeout %d", req.Topics, req.ElectionType, req.TimeoutMillis)
	}
}

// TestMixedResults: elected, not needed and failed partitions, each group
// in Java's order; failures print the Java exception and fail the run.
func TestMixedResults(t *testing.T) {
	c, bs := kfaketest.Cluster(t)
	rec := &recorder{}
	msg := "Failed to elect leader for partition b-0 under strategy PreferredReplicaPartitionLeaderElectionStrategy"
	control(c, rec, 0,
		answer{topic: "a", partition: 0},
		answer{topic: "a", partition: 1, code: kerr.ElectionNotNeeded.Code},
		answer{topic: "a", partition: 2},
		answer{topic: "b", partition: 0, code: kerr.PreferredLeaderNotAvailable.Code, msg: &msg},
		answer{topic: "b", partition: 1, code: kerr.UnknownTopicOrPartition.Code},
		answer{topic: "b", partition: 2, code: kerr.RequestTimedOut.Code},
	)
	path := writeFile(t, `{"partitions": [{"topic": "a", "partition": 0}, {"topic": "a", "partition": 1}, {"topic": "a", "partition": 2},
		{"topic": "b", "partition": 0}, {"topic": "b", "partition": 1}, {"topic": "b", "partition": 2}]}`)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "PREFERRED", "--path-to-json-file", path),
		1, "Successfully completed leader election (PREFERRED) for partitions a-2, a-0\n"+
			"Valid replica already elected for partitions a-1\n"+
			"Error completing leader election (PREFERRED) for partition: b-2: org.apache.kafka.common.errors.TimeoutException: The request timed out.\n"+
			"Error completing leader election (PREFERRED) for partition: b-1: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.\n"+
			"Error completing leader election (PREFERRED) for partition: b-0: org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: "+msg+"\n",
		"3 replica(s) could not be elected\n")
	req := rec.last(t)
	if len(req.Topics) != 2 || req.Topics[0].Topic != "a" || len(req.Topics[0].Partitions) != 3 || len(req.Topics[1].Partitions) != 3 {
		t.Fatalf("request topics %+v", req.Topics)
	}
}

func TestUncleanAndNotNeeded(t *testing.T) {
	c, bs := kfaketest.Cluster(t)
	rec := &recorder{}
	control(c, rec, 0, answer{topic: "x", partition: 4, code: kerr.ElectionNotNeeded.Code})
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "Unclean", "--topic", "x", "--partition", "4"),
		0, "Valid replica already elected for partitions x-4\n", "")
	if req := rec.last(t); req.ElectionType != 1 || len(req.Topics) != 1 || req.Topics[0].Topic != "x" || req.Topics[0].Partitions[0] != 4 {
		t.Fatalf("request %+v", req)
	}
	control(c, rec, 0, answer{topic: "x", partition: 4, code: kerr.EligibleLeadersNotAvailable.Code})
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "unclean", "--topic", "x", "--partition", "4"),
		1, "Error completing leader election (UNCLEAN) for partition: x-4: org.apache.kafka.common.errors.EligibleLeadersNotAvailableException: Eligible topic partition leaders are not available.\n",
		"1 replica(s) could not be elected\n")
}

func TestTopLevelErrors(t *testing.T) {
	c, bs := kfaketest.Cluster(t)
	rec := &recorder{}
	control(c, rec, kerr.ClusterAuthorizationFailed.Code)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "preferred", "--all-topic-partitions"),
		1, "Not authorized to perform leader election\n", "Not authorized to perform leader election\n")
	control(c, rec, kerr.UnknownServerError.Code)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "preferred", "--all-topic-partitions"),
		1, "", "java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.UnknownServerException: The server experienced an unexpected error when processing the request.\n")
}

func TestUnreachable(t *testing.T) {
	cfg := writeFile(t, "default.api.timeout.ms=300\n")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", "127.0.0.1:1", "--admin.config", cfg, "--election-type", "preferred", "--all-topic-partitions"),
		1, "Timeout waiting for election results\n", "Timeout waiting for election results\n")
}

func TestEmptyFileListSendsNothing(t *testing.T) {
	c, bs := kfaketest.Cluster(t)
	rec := &recorder{}
	control(c, rec, 0)
	path := writeFile(t, `{"version":1,"partitions":[]}`)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "preferred", "--path-to-json-file", path), 0, "", "")
	if req := rec.last(t); req.Topics == nil || len(req.Topics) != 0 {
		t.Fatalf("an empty list must not become null (all partitions): %+v", req.Topics)
	}
}

func TestArguments(t *testing.T) {
	bs := "127.0.0.1:1" // never reached
	r := kfaketest.Run(t, run, "")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, helpMsg+"\n") || !strings.Contains(r.Stderr, "--election-type <ElectionType: election") {
		t.Fatalf("no arguments: %+v", r)
	}
	if r := kfaketest.Run(t, run, "", "--help"); r.Code != 1 || !strings.Contains(r.Stderr, "--all-topic-partitions") {
		t.Fatalf("help: %+v", r)
	}
	expect(t, kfaketest.Run(t, run, "", "--version"), 0, "3.9.0\n", "")
	file := writeFile(t, `{"partitions":[{"topic":"t","partition":0}]}`)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--topic", "t"}, "Missing required option(s): bootstrap-server, election-type"},
		{[]string{"--bootstrap-server", bs, "--topic", "t", "--partition", "0"}, "Missing required option(s): election-type"},
		{[]string{"--election-type", "preferred", "--all-topic-partitions"}, "Missing required option(s): bootstrap-server"},
		{[]string{"--bootstrap-server", bs, "--election-type", "preferred"},
			"One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file"},
		{[]string{"--bootstrap-server", bs, "--election-type", "preferred", "--all-topic-partitions", "--path-to-json-file", file},
			"One and only one of the following options is required: topic, all-topic-partitions, path-to-json-file"},
		{[]string{"--bootstrap-server", bs, "--election-type", "preferred", "--topic", "t"}, "Missing required option(s): partition"},
		{[]string{"--bootstrap-server", bs, "--election-type", "preferred", "--all-topic-partitions", "--partition", "1"},
			"Option partition is only allowed if topic is used"},
		{[]string{"--bootstrap-server", bs, "--election-type", "fastest", "--all-topic-partitions"},
			"Cannot parse argument 'fastest' of option election-type"},
		{[]string{"--bootstrap-server", bs, "--election-type", "preferred", "--topic", "t", "--partition", "x"},
			"Cannot parse argument 'x' of option partition"},
		{[]string{"--bootstrap-server", bs, "--election-type", "preferred", "--all-topic-partitions", "--bogus"}, "bogus is not a recognized option"},
		{[]string{"--bootstrap-server", bs, "--election-type", "preferred", "--all-topic-partitions", "--admin.config", "/nonexistent/admin.properties"},
			"/nonexistent/admin.properties (No such file or directory)"},
	} {
		r := kfaketest.Run(t, run, "", tc.args...)
		if r.Code != 1 || r.Stdout != "" || r.Stderr != tc.msg+"\n" {
			t.Errorf("%q: code %d stdout %q stderr %q, want %q", tc.args, r.Code, r.Stdout, r.Stderr, tc.msg)
		}
	}
}

func TestJSONFile(t *testing.T) {
	bs := "127.0.0.1:1" // never reached: every case fails before connecting
	for _, tc := range []struct {
		body string
		msg  string
	}{
		{"", "Replica election data is empty"},
		{"   \n", "Replica election data is empty"},
		{`{"partitions": [`, "Replica election data is empty"},
		{`{"version": 1}`, `Replica election data is missing "partitions" field`},
		{`[1]`, "com.fasterxml.jackson.databind.JsonMappingException: Expected JSON object, received [1]"},
		{`{"partitions": {}}`, "com.fasterxml.jackson.databind.JsonMappingException: Expected JSON array, received {}"},
		{`{"partitions": [{"partition": 0}]}`, "com.fasterxml.jackson.databind.JsonMappingException: No such field exists: `topic`"},
		{`{"partitions": [{"topic": "t"}]}`, "com.fasterxml.jackson.databind.JsonMappingException: No such field exists: `partition`"},
		{`{"partitions": [{"topic": 7, "partition": 0}]}`, "com.fasterxml.jackson.databind.JsonMappingException: Expected `String` value, received 7"},
		{`{"partitions": [{"topic": "t", "partition": "0"}]}`, "com.fasterxml.jackson.databind.JsonMappingException: Expected `Int` value, received \"0\""},
		{`{"partitions": [{"topic": "t", "partition": 1.5}]}`, "com.fasterxml.jackson.databind.JsonMappingException: Expected `Int` value, received 1.5"},
		{`{"partitions": [{"topic": "t", "partition": 0}, {"topic": "u", "partition": 1}, {"topic": "t", "partition": 2},
			{"topic": "t", "partition": 0}, {"topic": "t", "partition": 2}, {"topic": "t", "partition": 0}]}`,
			"Replica election data contains duplicate partitions: [t-2, t-0]"},
	} {
		path := writeFile(t, tc.body)
		r := kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "preferred", "--path-to-json-file", path)
		if r.Code != 1 || r.Stdout != "" || r.Stderr != tc.msg+"\n" {
			t.Errorf("%q: code %d stdout %q stderr %q, want %q", tc.body, r.Code, r.Stdout, r.Stderr, tc.msg)
		}
	}
	missing := filepath.Join(t.TempDir(), "nope.json")
	r := kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--election-type", "preferred", "--path-to-json-file", missing)
	if r.Code != 1 || r.Stderr != "java.nio.file.NoSuchFileException: "+missing+"\n" {
		t.Errorf("missing file: %+v", r)
	}
}

func TestJavaHashSetOrder(t *testing.T) {
	// TopicPartition("t", p).hashCode() = 31*(31+p) + "t".hashCode() (116).
	if h := (topicPartition{"t", 0}).javaHash(); h != 1077 {
		t.Fatalf("hash(t-0) = %d", h)
	}
	tps := []topicPartition{{"t", 0}, {"t", 1}, {"t", 2}}
	var got []string
	for _, i := range hashSetOrder(tps) {
		got = append(got, tps[i].String())
	}
	if strings.Join(got, ",") != "t-2,t-1,t-0" {
		t.Fatalf("order %v", got)
	}
}
