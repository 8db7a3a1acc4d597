package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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

const fullHeader = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, " +
	"rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"

var (
	date = `\d{4}-\d\d-\d\d \d\d:\d\d:\d\d:\d{3}`
	num  = `(?:\d+\.\d{4}|NaN|Infinity)`
	// dataRE captures MB, nMsg, rebalance ms and fetch ms.
	dataRE = regexp.MustCompile(`^` + date + `, ` + date + `, (\d+\.\d{4}), ` + num + `, (\d+), ` + num + `, (\d+), (-?\d+), ` + num + `, ` + num + `$`)
)

// seed writes n records with 3-byte keys and 97-byte values (100 bytes a
// record) round-robin over the topic's partitions.
func seed(t *testing.T, bs, topic string, n int) {
	t.Helper()
	cl := kfaketest.Client(t, bs, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	var rs []*kgo.Record
	for i := range n {
		rs = append(rs, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "%03d", i%1000), Value: make([]byte, 97)})
	}
	kfaketest.Produce(t, cl, rs...)
}

// dataLine checks one summary line and returns its message count and MB.
func dataLine(t *testing.T, line string) (msgs int64, mb string) {
	t.Helper()
	m := dataRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("not a data line: %q", line)
	}
	msgs, _ = strconv.ParseInt(m[2], 10, 64)
	return msgs, m[1]
}

func TestConsumeAll(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(4, "perf"))
	seed(t, bs, "perf", 1000)
	r := kfaketest.Run(t, runTool, "", "--bootstrap-server", bs, "--topic", "perf", "--messages", "1000")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("run: %+v", r)
	}
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if len(lines) != 2 || lines[0] != fullHeader {
		t.Fatalf("stdout:\n%s", r.Stdout)
	}
	if msgs, mb := dataLine(t, lines[1]); msgs != 1000 || mb != "0.0954" { // 100,000 bytes
		t.Fatalf("line %q", lines[1])
	}

	// --hide-header, an ignored --group, a properties file, fewer messages
	// than the topic holds (the count may pass --messages by one poll).
	cfg := filepath.Join(t.TempDir(), "consumer.properties")
	if err := os.WriteFile(cfg, []byte("fetch.max.wait.ms=100\nmax.poll.records=10\ngroup.id=g\nclient.id=me\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = kfaketest.Run(t, runTool, "", "--bootstrap-server", bs, "--topic", "perf", "--messages", "25",
		"--hide-header", "--group", "perf-group", "--consumer.config", cfg, "--fetch-size", "4096")
	want := "kafka-consumer-perf-test: note: --group perf-group is ignored: partitions are assigned directly, without a consumer group\n" +
		"kafka-consumer-perf-test: note: ignoring client properties this tool does not support: group.id\n"
	if r.Code != 0 || r.Stderr != want {
		t.Fatalf("run: %+v", r)
	}
	lines = strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("stdout:\n%s", r.Stdout)
	}
	if msgs, _ := dataLine(t, lines[0]); msgs < 25 || msgs > 1000 {
		t.Fatalf("line %q", lines[0])
	}
}

func TestConsumeTimeout(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(2, "short"))
	seed(t, bs, "short", 10)
	r := kfaketest.Run(t, runTool, "", "--bootstrap-server", bs, "--topic", "short", "--messages", "20", "--timeout", "300", "--hide-header")
	warning := "WARNING: Exiting before consuming the expected number of messages: timeout (300 ms) exceeded. " +
		"You can use the --timeout option to increase the timeout.\n"
	if r.Code != 0 || r.Stderr != warning {
		t.Fatalf("run: %+v", r)
	}
	if msgs, mb := dataLine(t, strings.TrimSuffix(r.Stdout, "\n")); msgs != 10 || mb != "0.0010" {
		t.Fatalf("line %q", r.Stdout)
	}
	// From the end there is nothing to read.
	r = kfaketest.Run(t, runTool, "", "--bootstrap-server", bs, "--topic", "short", "--messages", "1", "--timeout", "200",
		"--hide-header", "--from-latest")
	if r.Code != 0 || r.Stderr != strings.ReplaceAll(warning, "300", "200") {
		t.Fatalf("from latest: %+v", r)
	}
	if msgs, _ := dataLine(t, strings.TrimSuffix(r.Stdout, "\n")); msgs != 0 {
		t.Fatalf("line %q", r.Stdout)
	}
	// A topic that does not exist.
	r = kfaketest.Run(t, runTool, "", "--bootstrap-server", bs, "--topic", "missing", "--messages", "1", "--timeout", "200")
	if r.Code != 1 || !strings.HasPrefix(r.Stderr, "kafka-consumer-perf-test: topic missing not found within --timeout 200 ms (") || r.Stdout != "" {
		t.Fatalf("missing topic: %+v", r)
	}
}

func TestDetailedStats(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(3, "d"))
	seed(t, bs, "d", 300)
	r := kfaketest.Run(t, runTool, "", "--bootstrap-server", bs, "--topic", "d", "--messages", "300",
		"--show-detailed-stats", "--reporting-interval", "1", "--date-format", "HH:mm:ss")
	if r.Code != 0 || r.Stderr != "" {
		t.Fatalf("run: %+v", r)
	}
	lines := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
	if lines[0] != "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec" {
		t.Fatalf("header %q", lines[0])
	}
	// How many interval lines there are depends on timing; their shape and
	// the running totals do not.
	line := regexp.MustCompile(`^\d\d:\d\d:\d\d, 0, \d+\.\d{4}, ` + num + `, (\d+), ` + num + `, \d+, -?\d+, ` + num + `, ` + num + `$`)
	prev := int64(0)
	for _, l := range lines[1:] {
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("detailed line %q", l)
		}
		n, _ := strconv.ParseInt(m[1], 10, 64)
		if n < prev || n > 300 {
			t.Fatalf("running total %d after %d", n, prev)
		}
		prev = n
	}
}

func TestArgumentErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--topic", "t", "--messages", "1"}, `Missing required argument "[bootstrap-server]"`},
		{[]string{"--bootstrap-server", "127.0.0.1:1", "--messages", "1"}, `Missing required argument "[topic]"`},
		{[]string{"--bootstrap-server", "127.0.0.1:1", "--topic", "t"}, `Missing required argument "[messages]"`},
		{[]string{"--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--messages", "x"}, "Cannot parse argument 'x' of option messages"},
		{[]string{"--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--messages", "1", "--print-metrics"}, "kafka-consumer-perf-test: --print-metrics is not supported by this tool"},
		{[]string{"--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--messages", "1", "--date-format", "yyyy-QQ"}, "Illegal pattern character 'Q'"},
		{[]string{"--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--messages", "1", "--timeout", "0"}, "kafka-consumer-perf-test: --timeout must be positive"},
		{[]string{"--nope"}, "nope is not a recognized option"},
	} {
		r := kfaketest.Run(t, runTool, "", tc.args...)
		if r.Code != 1 || r.Stderr != tc.want+"\n" || r.Stdout != "" {
			t.Errorf("%q: %+v, want %q", tc.args, r, tc.want)
		}
	}
	for _, args := range [][]string{nil, {"--help"}} {
		r := kfaketest.Run(t, runTool, "", args...)
		if r.Code != 1 || !strings.HasPrefix(r.Stderr, helpMsg+"\nOption") || !strings.Contains(r.Stderr, "--messages <Long: count>") {
			t.Errorf("%q: %+v", args, r)
		}
	}
	if r := kfaketest.Run(t, runTool, "", "--version"); r.Code != 0 || r.Stdout != "3.9.0\n" {
		t.Errorf("version: %+v", r)
	}
}

func TestDateFormat(t *testing.T) {
	at := time.Date(2024, 3, 5, 14, 7, 9, 45*int(time.Millisecond), time.FixedZone("XYZ", -(5*3600+30*60)))
	for _, tc := range []struct{ pattern, want string }{
		{defaultDateFormat, "2024-03-05 14:07:09:045"},
		{"yy/M/d h:mm a", "24/3/5 2:07 PM"},
		{"EEE, MMM d ''yy 'at' HH'h' z Z", "Tue, Mar 5 '24 at 14h XYZ -0530"},
		{"EEEE MMMM S SS", "Tuesday March 45 45"},
	} {
		f, err := newDateFormat(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := f.format(at); got != tc.want {
			t.Errorf("%q: %q, want %q", tc.pattern, got, tc.want)
		}
	}
	if _, err := newDateFormat("'open"); err == nil || err.Error() != "Unterminated quote" {
		t.Errorf("quote: %v", err)
	}
}
