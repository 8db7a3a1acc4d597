package main

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func expect(t *testing.T, r kfaketest.Result, code int, stdout, stderr string) {
	t.Helper()
	if r.Code != code || r.Stdout != stdout || r.Stderr != stderr {
		t.Fatalf("got code %d\nstdout:\n%q\nstderr:\n%q\nwant code %d\nstdout:\n%q\nstderr:\n%q",
			r.Code, r.Stdout, r.Stderr, code, stdout, stderr)
	}
}

func ts(ms int64) time.Time { return time.UnixMilli(ms) }

// seed writes three records with known keys, timestamps and headers to
// partition p of topic.
func seed(t *testing.T, bs, topic string, p int32) {
	t.Helper()
	cl := kfaketest.Client(t, bs, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	kfaketest.Produce(t, cl,
		&kgo.Record{Topic: topic, Partition: p, Key: []byte("k0"), Value: []byte("v0"), Timestamp: ts(1700000000000),
			Headers: []kgo.RecordHeader{{Key: "h1", Value: []byte("x")}, {Key: "h2", Value: nil}}},
		&kgo.Record{Topic: topic, Partition: p, Key: nil, Value: []byte("v1"), Timestamp: ts(1700000000001)},
		&kgo.Record{Topic: topic, Partition: p, Key: []byte("k2"), Value: nil, Timestamp: ts(1700000000002)},
	)
}

func TestConsumeFormats(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "events"))
	seed(t, bs, "events", 0)

	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "events", "--from-beginning", "--max-messages", "3"),
		0, "v0\nv1\nnull\n", "Processed a total of 3 messages\n")

	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "events", "--from-beginning", "--max-messages", "3",
		"--property", "print.key=true", "--property", "print.timestamp=true", "--property", "print.partition=true",
		"--property", "print.offset=true", "--property", "print.headers=true"),
		0, "CreateTime:1700000000000\tPartition:0\tOffset:0\th1:x,h2:null\tk0\tv0\n"+
			"CreateTime:1700000000001\tPartition:0\tOffset:1\tNO_HEADERS\tnull\tv1\n"+
			"CreateTime:1700000000002\tPartition:0\tOffset:2\tNO_HEADERS\tk2\tnull\n",
		"Processed a total of 3 messages\n")

	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "events", "--from-beginning", "--max-messages", "2",
		"--property", "print.key=true", "--property", "key.separator= => ", "--property", "print.value=false",
		"--property", "null.literal=<none>", "--property", "line.separator=;"),
		0, "k0;<none>;", "Processed a total of 2 messages\n")

	// --timeout-ms ends the wait for more records.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "events", "--from-beginning", "--timeout-ms", "300",
		"--property", "print.offset=true"),
		0, "Offset:0\tv0\nOffset:1\tv1\nOffset:2\tnull\n", "Processed a total of 3 messages\n")

	// Without --from-beginning reading starts at the end.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "events", "--timeout-ms", "300"),
		0, "", "Processed a total of 0 messages\n")
}

func TestConsumePartitionAndOffset(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(3, "multi"))
	seed(t, bs, "multi", 2)
	seed(t, bs, "multi", 0)
	args := []string{"--bootstrap-server", bs, "--topic", "multi", "--partition", "2", "--property", "print.partition=true",
		"--property", "print.offset=true", "--timeout-ms", "300"}
	expect(t, kfaketest.Run(t, run, "", append(args, "--offset", "1")...),
		0, "Partition:2\tOffset:1\tv1\nPartition:2\tOffset:2\tnull\n", "Processed a total of 2 messages\n")
	expect(t, kfaketest.Run(t, run, "", append(args, "--offset", "earliest", "--max-messages", "1")...),
		0, "Partition:2\tOffset:0\tv0\n", "Processed a total of 1 messages\n")
	expect(t, kfaketest.Run(t, run, "", append(args, "--from-beginning", "--max-messages", "1")...),
		0, "Partition:2\tOffset:0\tv0\n", "Processed a total of 1 messages\n")
	expect(t, kfaketest.Run(t, run, "", append(args, "--offset", "latest")...), 0, "", "Processed a total of 0 messages\n")
	expect(t, kfaketest.Run(t, run, "", args...), 0, "", "Processed a total of 0 messages\n")

	// All partitions: six records, each partition's in order.
	r := kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "multi", "--from-beginning", "--max-messages", "6",
		"--property", "print.partition=true", "--property", "print.offset=true")
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	var p0, p2 []string
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "Partition:0\t"):
			p0 = append(p0, l)
		case strings.HasPrefix(l, "Partition:2\t"):
			p2 = append(p2, l)
		}
	}
	if r.Code != 0 || r.Stderr != "Processed a total of 6 messages\n" ||
		strings.Join(p0, "|") != "Partition:0\tOffset:0\tv0|Partition:0\tOffset:1\tv1|Partition:0\tOffset:2\tnull" ||
		strings.Join(p2, "|") != "Partition:2\tOffset:0\tv0|Partition:2\tOffset:1\tv1|Partition:2\tOffset:2\tnull" {
		t.Fatalf("all partitions: %+v", r)
	}
}

func TestIncludeAndDeserializers(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "metrics.a", "metrics.b", "other"))
	cl := kfaketest.Client(t, bs)
	num := func(n int32) []byte { return binary.BigEndian.AppendUint32(nil, uint32(n)) }
	kfaketest.Produce(t, cl,
		&kgo.Record{Topic: "metrics.a", Key: num(-7), Value: []byte("a\x00b")},
		&kgo.Record{Topic: "other", Value: []byte("not me")},
	)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--include", "metrics\\..*", "--from-beginning", "--max-messages", "1",
		"--key-deserializer", "org.apache.kafka.common.serialization.IntegerDeserializer",
		"--value-deserializer", "org.apache.kafka.common.serialization.BytesDeserializer", "--property", "print.key=true"),
		0, "-7\ta\\x00b\n", "Processed a total of 1 messages\n")
	// A record the deserializer cannot read stops the tool, after the count.
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "other", "--from-beginning", "--max-messages", "1",
		"--value-deserializer", "org.apache.kafka.common.serialization.LongDeserializer"),
		1, "", "Processed a total of 1 messages\nERROR Unknown error when running consumer: Size of data received by LongDeserializer is not 8\n")
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "other", "--from-beginning", "--max-messages", "1",
		"--value-deserializer", "org.apache.kafka.common.serialization.LongDeserializer", "--skip-message-on-error"),
		0, "", "ERROR Error processing message, skipping this message: Size of data received by LongDeserializer is not 8\nProcessed a total of 1 messages\n")
}

func TestUnknownTopicWaits(t *testing.T) {
	_, bs := kfaketest.Cluster(t)
	expect(t, kfaketest.Run(t, run, "", "--bootstrap-server", bs, "--topic", "ghost", "--timeout-ms", "300"),
		0, "", "WARN [Consumer clientId=console-consumer] Error while fetching metadata : {ghost=UNKNOWN_TOPIC_OR_PARTITION}\n"+
			"Processed a total of 0 messages\n")
}

func TestConsumerErrors(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "t"))
	dir := t.TempDir()
	cfg := filepath.Join(dir, "consumer.properties")
	if err := os.WriteFile(cfg, []byte("group.id=from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no topic", []string{"--bootstrap-server", bs}, "Exactly one of --include/--topic is required. \n"},
		{"topic and include", []string{"--bootstrap-server", bs, "--topic", "t", "--include", "t"}, "Exactly one of --include/--topic is required. \n"},
		{"no bootstrap", []string{"--topic", "t"}, "Missing required argument \"[bootstrap-server]\"\n"},
		{"offset without partition", []string{"--bootstrap-server", bs, "--topic", "t", "--offset", "3"},
			"The partition is required when offset is specified.\n"},
		{"partition without topic", []string{"--bootstrap-server", bs, "--include", "t", "--partition", "0"},
			"The topic is required when partition is specified.\n"},
		{"offset and from-beginning", []string{"--bootstrap-server", bs, "--topic", "t", "--partition", "0", "--offset", "1", "--from-beginning"},
			"Options from-beginning and offset cannot be specified together.\n"},
		{"bad offset", []string{"--bootstrap-server", bs, "--topic", "t", "--partition", "0", "--offset", "-5"},
			"The provided offset value '-5' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.\n"},
		{"bad partition", []string{"--bootstrap-server", bs, "--topic", "t", "--partition", "x"},
			"Cannot parse argument 'x' of option partition\n"},
		{"reset conflict", []string{"--bootstrap-server", bs, "--topic", "t", "--from-beginning", "--consumer-property", "auto.offset.reset=latest"},
			"Can't simultaneously specify --from-beginning and 'auto.offset.reset=latest', please remove one option\n"},
		{"auto commit value", []string{"--bootstrap-server", bs, "--topic", "t", "--group", "g", "--consumer-property", "enable.auto.commit=yes"},
			"Invalid value yes for configuration enable.auto.commit: Expected value to be either true or false\n"},
		{"assignor", []string{"--bootstrap-server", bs, "--topic", "t", "--group", "g", "--consumer-property", "partition.assignment.strategy=Fair"},
			"Invalid value Fair for configuration partition.assignment.strategy: Class Fair could not be found.\n"},
		{"session timeout", []string{"--bootstrap-server", bs, "--topic", "t", "--group", "g", "--consumer-property", "session.timeout.ms=soon"},
			"Invalid value soon for configuration session.timeout.ms: Not a number of type INT\n"},
		{"groups differ", []string{"--bootstrap-server", bs, "--topic", "t", "--group", "g", "--consumer.config", cfg},
			"The group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: 'from-file', 'g'\n"},
		{"group and partition", []string{"--bootstrap-server", bs, "--topic", "t", "--group", "g", "--partition", "0"},
			"Options group and partition cannot be specified together.\n"},
		{"formatter", []string{"--bootstrap-server", bs, "--topic", "t", "--formatter", "kafka.tools.LoggingMessageFormatter"},
			"kafka-console-consumer: formatter kafka.tools.LoggingMessageFormatter is not supported; only org.apache.kafka.tools.consumer.DefaultMessageFormatter is available\n"},
		{"isolation", []string{"--bootstrap-server", bs, "--topic", "t", "--isolation-level", "serializable"},
			"Invalid value serializable for configuration isolation.level: String must be one of: read_committed, read_uncommitted\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, kfaketest.Run(t, run, "", tc.args...), 1, "", tc.stderr)
		})
	}

	r := kfaketest.Run(t, run, "", "--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--consumer-property", "default.api.timeout.ms=300")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "kafka-console-consumer: no broker of 127.0.0.1:1 answered: ") ||
		!strings.HasSuffix(r.Stderr, "\nProcessed a total of 0 messages\n") || strings.Count(r.Stderr, "\n") != 2 {
		t.Fatalf("unreachable: %+v", r)
	}
	r = kfaketest.Run(t, run, "")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, helpMsg+"\nOption ") {
		t.Fatalf("no args: %+v", r)
	}
	expect(t, kfaketest.Run(t, run, "", "--version"), 0, "3.9.0\n", "")
}
