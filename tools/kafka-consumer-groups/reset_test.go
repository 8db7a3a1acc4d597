package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

const resetHeader = "\nGROUP                          TOPIC                          PARTITION  NEW-OFFSET     \n"

func resetRow(group, topic, partition, offset string) string {
	return pad(group, 30) + " " + pad(topic, 30) + " " + pad(partition, 10) + " " + pad(offset, 15) + "\n"
}

func TestResetOffsets(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(3, "payments"))
	produce(t, bs, "payments", map[int32]int{0: 5, 1: 3, 2: 1})
	commitEmpty(t, bs, "idle", map[string]map[int32]int64{"payments": {0: 2, 1: 1}})
	rows := func(group string, offsets ...string) string { // partitions 0, 2, 1: Java's HashMap order
		return resetRow(group, "payments", "0", offsets[0]) + resetRow(group, "payments", "2", offsets[1]) + resetRow(group, "payments", "1", offsets[2])
	}

	// Without --execute nothing is committed, and without --dry-run Kafka warns.
	expect(t, tool(t, bs, "--reset-offsets", "--group", "idle", "--topic", "payments", "--to-earliest"), 0,
		resetHeader+rows("idle", "0", "0", "0"), dryRunWarning+"\n")
	expect(t, tool(t, bs, "--reset-offsets", "--group", "idle", "--topic", "payments", "--to-latest", "--dry-run"), 0,
		resetHeader+rows("idle", "5", "1", "3"), "")
	if got := committedOf(t, bs, "idle"); got != "payments-0=2,payments-1=1" {
		t.Fatalf("dry run committed: %s", got)
	}

	expect(t, tool(t, bs, "--reset-offsets", "--group", "idle", "--topic", "payments", "--to-latest", "--execute"), 0,
		resetHeader+rows("idle", "5", "1", "3"), "")
	if got := committedOf(t, bs, "idle"); got != "payments-0=5,payments-1=3,payments-2=1" {
		t.Fatalf("to-latest: %s", got)
	}

	// Offsets beyond a partition's range are moved into it, with a warning.
	expect(t, tool(t, bs, "--reset-offsets", "--group", "idle", "--topic", "payments:0,1", "--to-offset", "4", "--execute"), 0,
		resetHeader+resetRow("idle", "payments", "0", "4")+resetRow("idle", "payments", "1", "3"),
		"WARN New offset (4) is higher than latest offset for topic partition payments-1. Value will be set to 3\n")
	expect(t, tool(t, bs, "--reset-offsets", "--group", "idle", "--all-topics", "--shift-by", "-2", "--execute"), 0,
		resetHeader+rows("idle", "2", "0", "1"),
		"WARN New offset (-1) is lower than earliest offset for topic partition payments-2. Value will be set to 0\n")
	if got := committedOf(t, bs, "idle"); got != "payments-0=2,payments-1=1,payments-2=0" {
		t.Fatalf("shift-by: %s", got)
	}
	expect(t, tool(t, bs, "--reset-offsets", "--group", "idle", "--topic", "payments", "--shift-by", "1", "--dry-run"), 0,
		resetHeader+rows("idle", "3", "1", "2"), "")

	// --to-current: the committed offset, else the end.
	commitEmpty(t, bs, "partial", map[string]map[int32]int64{"payments": {0: 1}})
	expect(t, tool(t, bs, "--reset-offsets", "--group", "partial", "--topic", "payments", "--to-current", "--dry-run"), 0,
		resetHeader+rows("partial", "1", "1", "3"), "")
	expect(t, tool(t, bs, "--reset-offsets", "--group", "fresh", "--topic", "payments", "--to-current", "--dry-run"), 0,
		resetHeader+rows("fresh", "5", "1", "3"), "")

	// CSV: topic,partition,offset for one group; the group first for more.
	expect(t, tool(t, bs, "--reset-offsets", "--group", "idle", "--topic", "payments", "--to-earliest", "--dry-run", "--export"), 0,
		"payments,0,0\npayments,2,0\npayments,1,0\n\n", "")
	expect(t, tool(t, bs, "--reset-offsets", "--group", "partial", "--group", "idle", "--topic", "payments:1", "--to-latest", "--dry-run", "--export"), 0,
		"idle,payments,1,3\npartial,payments,1,3\n\n", "")

	// A plan from a file (as --export writes it).
	dir := t.TempDir()
	single := filepath.Join(dir, "single.csv")
	if err := os.WriteFile(single, []byte("payments,1,2\npayments,0,9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, tool(t, bs, "--reset-offsets", "--group", "idle", "--from-file", single, "--execute"), 0,
		resetHeader+resetRow("idle", "payments", "0", "5")+resetRow("idle", "payments", "1", "2"),
		"WARN New offset (9) is higher than latest offset for topic partition payments-0. Value will be set to 5\n")
	if got := committedOf(t, bs, "idle"); got != "payments-0=5,payments-1=2,payments-2=0" {
		t.Fatalf("from-file: %s", got)
	}
	multi := filepath.Join(dir, "multi.csv")
	if err := os.WriteFile(multi, []byte("partial,payments,2,0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, tool(t, bs, "--reset-offsets", "--group", "partial", "--group", "idle", "--from-file", multi, "--dry-run"), 0,
		"\nError: No reset plan for group idle found\n"+resetHeader+resetRow("partial", "payments", "2", "0"), "")

	// An active group is left alone.
	m := startMember(t, bs, "billing", "c1", "payments")
	waitStable(t, bs, "billing", m)
	expect(t, tool(t, bs, "--reset-offsets", "--group", "billing", "--topic", "payments", "--to-earliest", "--execute"), 0,
		"\nError: Assignments can only be reset if the group 'billing' is inactive, but the current state is Stable.\n"+resetHeader, "")
}

func TestResetOffsetsByTime(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "events", "recent"))
	cl := kfaketest.Client(t, bs)
	now := time.Now()
	for i, ms := range []int64{1000, 2000, 3000} {
		kfaketest.Produce(t, cl, &kgo.Record{Topic: "events", Value: []byte("x"), Timestamp: time.UnixMilli(ms)},
			&kgo.Record{Topic: "recent", Value: []byte("x"), Timestamp: now.Add(time.Duration(i-3) * time.Hour)})
	}
	one := func(offset string) string { return resetHeader + resetRow("g", "events", "0", offset) }
	reset := func(args ...string) kfaketest.Result {
		return tool(t, bs, append([]string{"--reset-offsets", "--group", "g", "--topic", "events", "--dry-run"}, args...)...)
	}
	recent := func(duration, offset string) {
		t.Helper()
		expect(t, tool(t, bs, "--reset-offsets", "--group", "g", "--topic", "recent", "--dry-run", "--by-duration", duration), 0,
			resetHeader+resetRow("g", "recent", "0", offset), "")
	}
	expect(t, reset("--to-datetime", "1970-01-01T00:00:02.000"), 0, one("1"), "")
	expect(t, reset("--to-datetime", "1970-01-01T01:00:01.500+01:00"), 0, one("1"), "")
	expect(t, reset("--to-datetime", "1969-12-31T23:00:03.000-01"), 0, one("2"), "")
	const empty = "\nWarn: Partition 0 from topic events is empty. Falling back to latest known offset.\n"
	expect(t, reset("--to-datetime", "2100-01-01T00:00:00.000Z"), 0, empty+one("3"), "")
	// Records 3, 2 and 1 hours old.
	recent("P1DT1M", "0")
	recent("PT2H30M", "1")
	recent("pt5400.5s", "2")
	expect(t, reset("--by-duration", "PT0S"), 0, empty+one("3"), "")

	const failed = "Error: Executing consumer group command failed due to "
	expect(t, reset("--to-datetime", "1970-13-01T00:00:00.000"), 1, "", failed+"java.text.ParseException: Unparseable date: \"1970-13-01T00:00:00.000Z\"\n")
	expect(t, reset("--to-datetime", "1970-01-01"), 1, "",
		failed+"java.text.ParseException: Error parsing timestamp. It does not contain a 'T' according to ISO8601 format\n")
	expect(t, reset("--by-duration", "1 day"), 1, "", failed+"Text cannot be parsed to a Duration\n")
}

func TestResetOffsetsErrors(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(3, "payments"))
	commitEmpty(t, bs, "idle", map[string]map[int32]int64{"payments": {0: 0}})
	base := []string{"--reset-offsets", "--group", "idle", "--dry-run"}
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no scope", []string{"--to-earliest"}, "One of the reset scopes should be defined: --all-topics, --topic.\n"},
		{"no scenario", []string{"--topic", "payments"}, "Option '[reset-offsets]' requires one of the following scenarios: " +
			"[[to-offset], [to-current], [to-datetime], [from-file], [by-duration], [to-earliest], [to-latest], [shift-by]]\n"},
		{"unknown topic", []string{"--topic", "nope", "--to-earliest"}, "Error: Executing consumer group command failed due to " +
			"java.util.concurrent.ExecutionException: org.apache.kafka.common.errors.UnknownTopicOrPartitionException: This server does not host this topic-partition.\n"},
		{"unknown partition", []string{"--topic", "payments:9", "--to-latest"}, "Error getting ending offset of topic partition: payments-9\n"},
		{"bad partition", []string{"--topic", "payments:x", "--to-latest"}, "Invalid partition 'x' specified in topic arg 'payments:x''\n"},
		{"bad topic arg", []string{"--topic", "a:b:c", "--to-latest"}, "Invalid topic arg 'a:b:c', expected topic name and partitions\n"},
		{"shift without commit", []string{"--topic", "payments", "--shift-by", "1"},
			"Cannot shift offset for partition payments-1 since there is no current committed offset\n"},
		{"missing file", []string{"--from-file", "/nonexistent/plan.csv"},
			"Error: Executing consumer group command failed due to java.nio.file.NoSuchFileException: /nonexistent/plan.csv\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, tool(t, bs, append(base, tc.args...)...), 1, "", tc.stderr)
		})
	}
}
