package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

// runTool adapts run to kfaketest's runner (the tool reads no stdin).
func runTool(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	return run(args, stdout, stderr)
}

var (
	totalRE  = regexp.MustCompile(`^(\d+) records sent, \d+\.\d{6} records/sec \(\d+\.\d{2} MB/sec\), \d+\.\d{2} ms avg latency, \d+\.\d{2} ms max latency, \d+ ms 50th, \d+ ms 95th, \d+ ms 99th, \d+ ms 99\.9th\.$`)
	windowRE = regexp.MustCompile(`^\d+ records sent, \d+\.\d records/sec \(\d+\.\d{2} MB/sec\), \d+\.\d ms avg latency, \d+\.\d ms max latency\.$`)
)

// consumeAll reads every record of the topic's partitions from the start
// until n records arrived.
func consumeAll(t *testing.T, bootstrap, topic string, n int) []*kgo.Record {
	t.Helper()
	cl := kfaketest.Client(t, bootstrap, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records", len(out), n)
		}
		out = append(out, f.Records()...)
	}
	return out
}

// checkTotal asserts that the output ends with the total line for n records
// and that every other line is a window line.
func checkTotal(t *testing.T, stdout string, n string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	last := lines[len(lines)-1]
	m := totalRE.FindStringSubmatch(last)
	if m == nil || m[1] != n {
		t.Fatalf("total line %q (want %s records)\n%s", last, n, stdout)
	}
	for _, l := range lines[:len(lines)-1] {
		if !windowRE.MatchString(l) {
			t.Errorf("not a window line: %q", l)
		}
	}
}

func TestProduceRecordSize(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(3, "perf"))
	r := kfaketest.Run(t, runTool, "", "--topic", "perf", "--num-records", "3000", "--record-size", "100",
		"--throughput", "-1", "--producer-props", "acks=1", "bootstrap.servers="+bs, "linger.ms=1")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("run: %+v", r)
	}
	checkTotal(t, r.Stdout, "3000")
	recs := consumeAll(t, bs, "perf", 3000)
	if len(recs) != 3000 {
		t.Fatalf("%d records", len(recs))
	}
	first := recs[0].Value
	for _, rec := range recs {
		if rec.Key != nil || !bytes.Equal(rec.Value, first) {
			t.Fatalf("record %+v: want a null key and the run's one payload", rec)
		}
	}
	if len(first) != 100 || strings.Trim(string(first), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		t.Fatalf("payload %q", first)
	}
}

// The default acks=all (idempotent) producer, a rate limit, the
// --bootstrap-server option winning over bootstrap.servers, and properties
// from a file.
func TestProduceThrottledWithConfigFile(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "slow"))
	cfg := filepath.Join(t.TempDir(), "producer.properties")
	if err := os.WriteFile(cfg, []byte("bootstrap.servers=127.0.0.1:1\nclient.id=me\nbatch.size=1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := kfaketest.Run(t, runTool, "", "--topic", "slow", "--num-records", "40", "--record-size", "10",
		"--throughput", "2000", "--producer.config", cfg, "--bootstrap-server", bs)
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("run: %+v", r)
	}
	checkTotal(t, r.Stdout, "40")
	if n := len(consumeAll(t, bs, "slow", 40)); n != 40 {
		t.Fatalf("%d records", n)
	}
}

func TestProducePayloadFile(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(2, "pf"))
	file := filepath.Join(t.TempDir(), "payloads")
	if err := os.WriteFile(file, []byte("alpha|beta|gamma||"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := kfaketest.Run(t, runTool, "", "--topic", "pf", "--num-records", "200", "--payload-file", file,
		"--payload-delimiter", "|", "--throughput", "-1", "--bootstrap-server", bs, "--producer-props", "acks=1", "unknown.prop=1")
	if r.Code != 0 {
		t.Fatalf("run: %+v", r)
	}
	if r.Stderr != "kafka-producer-perf-test: note: ignoring client properties this tool does not support: unknown.prop\n" {
		t.Errorf("stderr %q", r.Stderr)
	}
	head := "Reading payloads from: " + file + "\nNumber of messages read: 3\n"
	if !strings.HasPrefix(r.Stdout, head) {
		t.Fatalf("stdout %q", r.Stdout)
	}
	checkTotal(t, strings.TrimPrefix(r.Stdout, head), "200")
	for _, rec := range consumeAll(t, bs, "pf", 200) {
		switch string(rec.Value) {
		case "alpha", "beta", "gamma":
		default:
			t.Fatalf("value %q", rec.Value)
		}
	}
}

func TestProduceArgumentErrors(t *testing.T) {
	base := []string{"--topic", "t", "--num-records", "1", "--throughput", "-1", "--bootstrap-server", "127.0.0.1:1"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--num-records", "1", "--throughput", "-1", "--record-size", "1"}, "argument --topic is required"},
		{append(base, "--record-size", "1", "--payload-file", "x"), "argument --payload-file: not allowed with argument --record-size"},
		{base, "one of the arguments --record-size --payload-file is required"},
		{append(base, "--record-size", "1", "--print-metrics"), "--print-metrics is not supported by this tool"},
		{append(base, "--record-size", "1", "--transactional-id", "x"), "--transactional-id is not supported by this tool"},
		{[]string{"--topic", "t", "--num-records", "1", "--throughput", "0", "--record-size", "1"}, "argument --throughput: 0 would send nothing; use a positive rate or -1 for no limit"},
		{[]string{"--topic", "t", "--num-records", "1", "--throughput", "x", "--record-size", "1"}, "argument --throughput: could not convert 'x' to Double"},
		{[]string{"--topic", "t", "--num-records", "1", "--throughput", "-1", "--record-size", "1"}, "no brokers: give --bootstrap-server or bootstrap.servers in --producer-props or --producer.config"},
		{append(base, "--record-size", "1", "--producer-props"), "argument --producer-props: expected at least one argument"},
		{append(base, "--record-size", "1", "--producer-props", "--topic", "u"), "argument --producer-props: expected at least one argument"},
		{append(base, "--record-size", "1", "--nope"), "nope is not a recognized option"},
	} {
		r := kfaketest.Run(t, runTool, "", tc.args...)
		if want := "kafka-producer-perf-test: error: " + tc.want + "\n"; r.Code != 1 || r.Stderr != want || r.Stdout != "" {
			t.Errorf("%q: %+v, want %q", tc.args, r, want)
		}
	}
	// Errors in the producer properties are the Java client's messages.
	for _, tc := range []struct {
		props []string
		want  string
	}{
		{[]string{"acks=2"}, "Invalid value 2 for configuration acks: String must be one of: all, -1, 0, 1"},
		{[]string{"acks=1", "enable.idempotence=true"}, "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence."},
		{[]string{"linger.ms=x"}, "Invalid value x for configuration linger.ms: Not a number of type LONG"},
		{[]string{"compression.type=brotli"}, "Invalid value brotli for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd"},
		{[]string{"max.request.size=50"}, "The message is 94 bytes when serialized which is larger than 50, which is the value of the max.request.size configuration."},
	} {
		args := append(append([]string{}, base...), "--record-size", "1", "--producer-props")
		args = append(args, tc.props...)
		r := kfaketest.Run(t, runTool, "", args...)
		if r.Code != 1 || r.Stderr != tc.want+"\n" {
			t.Errorf("%q: %+v, want %q", tc.props, r, tc.want)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}} {
		r := kfaketest.Run(t, runTool, "", args...)
		if r.Code != 0 || !strings.HasPrefix(r.Stdout, "This tool is used to verify the producer performance.\n") ||
			!strings.Contains(r.Stdout, "--num-records <Long: NUM-RECORDS>") {
			t.Errorf("%q: %+v", args, r)
		}
	}
	if r := kfaketest.Run(t, runTool, "", "--version"); r.Code != 0 || r.Stdout != "3.9.0\n" {
		t.Errorf("version: %+v", r)
	}
}

func TestExpandPropsArgs(t *testing.T) {
	got, err := expandPropsArgs([]string{"--topic", "t", "--producer-props", "a=1", "b=2", "--num-records", "5",
		"-producer-props=c=3", "d=4", "--producer-", "e=5", "--", "--producer-props", "x"})
	if err != nil {
		t.Fatal(err)
	}
	want := "--topic t --producer-props a=1 --producer-props b=2 --num-records 5 --producer-props c=3 --producer-props d=4 " +
		"--producer-props e=5 -- --producer-props x"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %q\nwant %q", strings.Join(got, " "), want)
	}
	// "--producer" alone is ambiguous (producer.config): left to the parser.
	got, _ = expandPropsArgs([]string{"--producer", "f"})
	if strings.Join(got, " ") != "--producer f" {
		t.Errorf("ambiguous prefix: %q", got)
	}
}

func TestStatsLines(t *testing.T) {
	var out bytes.Buffer
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := newStats(&out, 4, 5*time.Second, t0)
	s.completed(2*time.Millisecond, 100, t0.Add(time.Second), nil)
	s.completed(4*time.Millisecond, 100, t0.Add(2*time.Second), nil)
	s.completed(time.Millisecond, 100, t0.Add(2*time.Second), context.Canceled)
	s.completed(6*time.Millisecond, 100, t0.Add(5*time.Second), nil) // closes the first window
	if want := "3 records sent, 0.6 records/sec (0.00 MB/sec), 4.0 ms avg latency, 6.0 ms max latency.\n"; out.String() != want {
		t.Fatalf("window %q, want %q", out.String(), want)
	}
	out.Reset()
	tot := s.finish(t0.Add(10 * time.Second))
	if want := "3 records sent, 0.300000 records/sec (0.00 MB/sec), 4.00 ms avg latency, 6.00 ms max latency, " +
		"4 ms 50th, 6 ms 95th, 6 ms 99th, 6 ms 99.9th.\n"; out.String() != want {
		t.Fatalf("total %q, want %q", out.String(), want)
	}
	if tot.Failed != 1 || tot.FirstErr != context.Canceled || tot.Count != 3 || tot.Bytes != 300 {
		t.Fatalf("total %+v", tot)
	}
	// Nothing sent: Java's spelling of 0/0.
	out.Reset()
	newStats(&out, 0, time.Second, t0).finish(t0)
	if want := "0 records sent, NaN records/sec (NaN MB/sec), NaN ms avg latency, 0.00 ms max latency, " +
		"0 ms 50th, 0 ms 95th, 0 ms 99th, 0 ms 99.9th.\n"; out.String() != want {
		t.Fatalf("empty total %q", out.String())
	}
	if e := newStats(io.Discard, 1_000_001, time.Second, t0).sampleEvery; e != 3 {
		t.Errorf("sampleEvery %d", e)
	}
}
