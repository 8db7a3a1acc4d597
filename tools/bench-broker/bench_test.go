package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func TestCPUTicks(t *testing.T) {
	for _, tc := range []struct {
		stat string
		want int64
		err  bool
	}{
		{"1234 (kbroker) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 9 0 100 0 0\n", 287, false},
		{"42 (a (b) c) R 1 2 3 4 5 6 7 8 9 10 11 12 0 0 0\n", 23, false}, // the name holds spaces and parentheses
		{"42 kbroker S 1\n", 0, true},
		{"42 (x) S 1 2 3\n", 0, true},
		{"42 (x) S 1 2 3 4 5 6 7 8 9 10 u 12\n", 0, true},
	} {
		got, err := cpuTicks([]byte(tc.stat))
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("%q: %d, %v", tc.stat, got, err)
		}
	}
	// Our own process, through /proc.
	if runtime.GOOS == "linux" {
		p := procCPU{pid: os.Getpid(), clkTck: clockTicks(), statDir: "/proc"}
		if _, err := p.read(); err != nil {
			t.Fatal(err)
		}
		if _, err := (procCPU{pid: -1, clkTck: 100, statDir: "/proc"}).read(); err == nil {
			t.Fatal("no error for a missing process")
		}
	}
}

func TestParseToolOutput(t *testing.T) {
	p, err := parseProducer("100 records sent, 20.0 records/sec (0.00 MB/sec), 1.5 ms avg latency, 3.0 ms max latency.\n" +
		"500 records sent, 12345.678901 records/sec (1.18 MB/sec), 2.50 ms avg latency, 9.00 ms max latency, 2 ms 50th, 5 ms 95th, 8 ms 99th, 9 ms 99.9th.\n")
	if err != nil || p.records != 500 || p.perSec != 12345.678901 || p.mbPerSec != 1.18 || p.p99 != 8 || p.maxMs != 9 {
		t.Fatalf("%+v %v", p, err)
	}
	if _, err := parseProducer("100 records sent, 20.0 records/sec (0.00 MB/sec), 1.5 ms avg latency, 3.0 ms max latency.\n"); err == nil {
		t.Fatal("window line taken for the total")
	}
	c, err := parseConsumer("2024-01-01 00:00:00:000, 2024-01-01 00:00:01:000, 0.0954, 0.0954, 1000, 1000.0000, 12, 988, 0.0965, 1012.1457\n")
	if err != nil || c.records != 1000 || c.perSec != 1000 || c.rebalanceMs != 12 || c.fetchPerSec != 1012.1457 {
		t.Fatalf("%+v %v", c, err)
	}
	if _, err := parseConsumer("a, b, c, d, x, f, g, h, i, j\n"); err == nil {
		t.Fatal("bad number accepted")
	}
	if _, err := parseConsumer("nothing\n"); err == nil {
		t.Fatal("no data line accepted")
	}
}

func TestMedian(t *testing.T) {
	ms := func(xs ...float64) []measurement {
		var out []measurement
		for _, x := range xs {
			out = append(out, measurement{perSec: x})
		}
		return out
	}
	rate := func(m measurement) float64 { return m.perSec }
	for _, tc := range []struct {
		in   []measurement
		want float64
	}{{nil, 0}, {ms(5), 5}, {ms(9, 1, 5), 5}, {ms(4, 1, 3, 2), 2.5}} {
		if got := median(tc.in, rate); got != tc.want {
			t.Errorf("median %v = %v, want %v", tc.in, got, tc.want)
		}
	}
	m := measurement{records: 2_000_000, brokerCPU: 3 * time.Second}
	if got := m.cpuPerMillion(); got != 1.5 {
		t.Errorf("cpu per million %v", got)
	}
}

func TestFreePorts(t *testing.T) {
	var out, errb bytes.Buffer
	if code := runContext(t.Context(), []string{"-free-ports", "3"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	seen := map[string]bool{}
	for _, l := range strings.Fields(out.String()) {
		if n, err := strconv.Atoi(l); err != nil || n <= 0 || n > 65535 || seen[l] {
			t.Fatalf("ports %q", out.String())
		}
		seen[l] = true
	}
	if len(seen) != 3 {
		t.Fatalf("ports %q", out.String())
	}
	errb.Reset()
	if code := runContext(t.Context(), []string{"-kbroker", "x:1"}, &out, &errb); code != 2 ||
		!strings.Contains(errb.String(), "-kbroker, -kbroker-pid, -kfake and -kfake-pid are required") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}

// TestBench runs the whole comparison against two in-process kfake
// clusters standing in for kbroker and the kfake server (both "processes"
// are this test's, so the CPU figures mean nothing here; the shape does).
func TestBench(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the two perf tools")
	}
	bin := t.TempDir()
	for _, tool := range []string{"kafka-producer-perf-test", "kafka-consumer-perf-test"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, tool), "../"+tool)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build %s: %v\n%s", tool, err, out)
		}
	}
	_, a := kfaketest.Cluster(t, kfake.NumBrokers(1))
	_, b := kfaketest.Cluster(t, kfake.NumBrokers(1))
	pid := strconv.Itoa(os.Getpid())
	args := []string{"-kbroker", a, "-kbroker-pid", pid, "-kfake", b, "-kfake-pid", pid, "-bin", bin,
		"-records-100", "300", "-records-1k", "100", "-partitions", "1,3", "-rounds", "2"}
	var out, errb bytes.Buffer
	start := time.Now()
	if code := runContext(t.Context(), args, &out, &errb); code != 0 {
		t.Fatalf("exit %d after %v\nstdout:\n%s\nstderr:\n%s", code, time.Since(start), out.String(), errb.String())
	}
	text := out.String()
	for _, want := range []string{
		"kbroker at " + a + ": created 8 topics (bench-p1-100B-r1, bench-p1-1024B-r1, bench-p3-100B-r1, bench-p3-1024B-r1, ...)\n",
		"kfake at " + b + ": created 8 topics (bench-p1-100B-r1, bench-p1-1024B-r1, bench-p3-100B-r1, bench-p3-1024B-r1, ...)\n",
		"\nMedians of 2 rounds. Targets: throughput ratio kbroker/kfake >= 1.00, CPU ratio kbroker/kfake <= 1.00 (broker process CPU per record).\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in\n%s", want, text)
		}
	}
	// One line per run: 2 rounds x 4 cases x 2 phases x 2 brokers.
	runLine := regexp.MustCompile(`(?m)^r[12] (produce|consume)  .* (kbroker|kfake) +\d+ rec/s, broker CPU +\d+\.\d\d s, client CPU`)
	if n := len(runLine.FindAllString(text, -1)); n != 32 {
		t.Errorf("%d run lines in\n%s", n, text)
	}
	row := regexp.MustCompile(`(?m)^(1 partition|3 partitions), (100|1024) B +\d+ +\d+ +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d$`)
	if n := len(row.FindAllString(text, -1)); n != 8 {
		t.Errorf("%d table rows in\n%s", n, text)
	}
	for _, h := range []string{"producer (acks=1)", "consumer"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(h) + ` +kbroker rec/s +kfake rec/s +ratio +kbroker CPU s/M +kfake CPU s/M +CPU ratio$`).MatchString(text) {
			t.Errorf("no %q header in\n%s", h, text)
		}
	}

	// The topics exist now: a second run refuses to reuse them.
	out.Reset()
	errb.Reset()
	if code := runContext(t.Context(), args, &out, &errb); code != 1 || !strings.Contains(errb.String(), "TOPIC_ALREADY_EXISTS") {
		t.Fatalf("second run: exit %d, stderr %s", code, errb.String())
	}
}
