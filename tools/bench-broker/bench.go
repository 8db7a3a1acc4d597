package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const toolName = "bench-broker"

// run is the whole program; see the package comment. It returns 0 when
// every run completed (whatever the ratios), 1 when one failed, 2 on a bad
// flag, 130 after SIGINT or SIGTERM.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// target is one broker under test.
type target struct {
	name string // "kbroker", "kfake"
	addr string
	cpu  procCPU
}

// benchCase is one row of the table.
type benchCase struct {
	partitions int
	size       int
	records    int64
}

// topic is the case's topic in a round (each round writes a fresh one).
func (c benchCase) topic(round int) string {
	return fmt.Sprintf("bench-p%d-%dB-r%d", c.partitions, c.size, round)
}

func (c benchCase) String() string {
	p := "partitions"
	if c.partitions == 1 {
		p = "partition"
	}
	return fmt.Sprintf("%d %s, %d B", c.partitions, p, c.size)
}

// config is the parsed command line.
type config struct {
	targets     []target
	cases       []benchCase
	acks        string
	rounds      int
	producerBin string
	consumerBin string
	runTimeout  time.Duration
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(toolName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	freePorts := fs.Int("free-ports", 0, "print this many free TCP ports on 127.0.0.1, one per line, and exit")
	kbAddr := fs.String("kbroker", "", "kbroker's address, host:port")
	kbPid := fs.Int("kbroker-pid", 0, "kbroker's process id (its CPU time is measured)")
	kfAddr := fs.String("kfake", "", "the kfake server's address, host:port")
	kfPid := fs.Int("kfake-pid", 0, "the kfake server's process id")
	bin := fs.String("bin", "", "directory holding kafka-producer-perf-test and kafka-consumer-perf-test (default: this program's directory)")
	small := fs.Int64("records-100", 2_000_000, "records per run with 100-byte values")
	large := fs.Int64("records-1k", 500_000, "records per run with 1 KiB values")
	parts := fs.String("partitions", "1,16", "partition counts, comma-separated")
	acks := fs.String("acks", "1", "the producer's acks")
	rounds := fs.Int("rounds", 3, "runs of every case against every broker; the table shows medians")
	clkTck := fs.Int64("clk-tck", 0, "clock ticks per second of /proc/<pid>/stat (default: getconf CLK_TCK)")
	runTimeout := fs.Duration("run-timeout", 10*time.Minute, "the longest one perf-tool run may take")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *freePorts > 0 {
		ports, err := pickFreePorts(*freePorts)
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", toolName, err)
			return 1
		}
		for _, p := range ports {
			fmt.Fprintln(stdout, p)
		}
		return 0
	}
	if *kbAddr == "" || *kfAddr == "" || *kbPid <= 0 || *kfPid <= 0 {
		fmt.Fprintf(stderr, "%s: -kbroker, -kbroker-pid, -kfake and -kfake-pid are required\n", toolName)
		return 2
	}
	if *small <= 0 || *large <= 0 || *rounds <= 0 {
		fmt.Fprintf(stderr, "%s: record counts and -rounds must be positive\n", toolName)
		return 2
	}
	if *clkTck <= 0 {
		*clkTck = clockTicks()
	}
	if *bin == "" {
		exe, err := os.Executable()
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", toolName, err)
			return 1
		}
		*bin = filepath.Dir(exe)
	}
	cfg := config{
		targets: []target{
			{name: "kbroker", addr: *kbAddr, cpu: procCPU{pid: *kbPid, clkTck: *clkTck, statDir: "/proc"}},
			{name: "kfake", addr: *kfAddr, cpu: procCPU{pid: *kfPid, clkTck: *clkTck, statDir: "/proc"}},
		},
		acks:        *acks,
		rounds:      *rounds,
		producerBin: filepath.Join(*bin, "kafka-producer-perf-test"),
		consumerBin: filepath.Join(*bin, "kafka-consumer-perf-test"),
		runTimeout:  *runTimeout,
	}
	for _, p := range strings.Split(*parts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			fmt.Fprintf(stderr, "%s: -partitions: bad count %q\n", toolName, p)
			return 2
		}
		cfg.cases = append(cfg.cases, benchCase{n, 100, *small}, benchCase{n, 1024, *large})
	}
	if err := bench(ctx, cfg, stdout); err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "%s: interrupted\n", toolName)
			return 130
		}
		fmt.Fprintf(stderr, "%s: %v\n", toolName, err)
		return 1
	}
	return 0
}

// pickFreePorts asks the kernel for n ports that are free right now (they
// could be taken again before they are used; the callers use them at once).
func pickFreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// measurement is one perf-tool run against one broker.
type measurement struct {
	records   int64
	perSec    float64
	brokerCPU time.Duration
	clientCPU time.Duration
	wall      time.Duration
	detail    string
}

// cpuPerMillion is the broker's CPU seconds per million records.
func (m measurement) cpuPerMillion() float64 {
	if m.records == 0 {
		return 0
	}
	return m.brokerCPU.Seconds() / float64(m.records) * 1e6
}

// results holds every measurement: [phase][case][target], one per round.
type results map[string]map[benchCase]map[string][]measurement

func (r results) put(phase string, c benchCase, target string, m measurement) {
	if r[phase] == nil {
		r[phase] = map[benchCase]map[string][]measurement{}
	}
	if r[phase][c] == nil {
		r[phase][c] = map[string][]measurement{}
	}
	r[phase][c][target] = append(r[phase][c][target], m)
}

// median is the middle value (the mean of the two middle ones for an even
// count) of f over ms.
func median(ms []measurement, f func(measurement) float64) float64 {
	if len(ms) == 0 {
		return 0
	}
	xs := make([]float64, len(ms))
	for i, m := range ms {
		xs[i] = f(m)
	}
	slices.Sort(xs)
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}

func bench(ctx context.Context, cfg config, out io.Writer) error {
	for _, bin := range []string{cfg.producerBin, cfg.consumerBin} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("perf tool missing: %w", err)
		}
	}
	fmt.Fprintf(out, "bench-broker: %d CPUs, acks=%s, %d rounds, clock ticks %d/s\n",
		runtime.NumCPU(), cfg.acks, cfg.rounds, cfg.targets[0].cpu.clkTck)
	for _, t := range cfg.targets {
		if err := prepare(ctx, t, cfg.cases, cfg.rounds, out); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	res := results{}
	for round := 1; round <= cfg.rounds; round++ {
		for i, c := range cfg.cases {
			// Alternate which broker goes first, so neither always runs on
			// a machine still busy with the other's writeback.
			order := cfg.targets
			if (i+round)%2 == 0 {
				order = []target{cfg.targets[1], cfg.targets[0]}
			}
			for _, t := range order {
				m, err := measure(ctx, cfg, t, cfg.producerBin, produceArgs(cfg, t, c, round), c.records, parseProduce)
				if err != nil {
					return fmt.Errorf("produce %s to %s: %w", c, t.name, err)
				}
				res.put("produce", c, t.name, m)
				fmt.Fprintf(out, "r%d produce  %-22s %-8s %s\n", round, c, t.name, m.detail)
			}
			for _, t := range order {
				m, err := measure(ctx, cfg, t, cfg.consumerBin, consumeArgs(t, c, round), c.records, parseConsume)
				if err != nil {
					return fmt.Errorf("consume %s from %s: %w", c, t.name, err)
				}
				res.put("consume", c, t.name, m)
				fmt.Fprintf(out, "r%d consume  %-22s %-8s %s\n", round, c, t.name, m.detail)
			}
		}
	}
	printTable(out, cfg, res)
	return nil
}

func produceArgs(cfg config, t target, c benchCase, round int) []string {
	return []string{"--topic", c.topic(round), "--num-records", strconv.FormatInt(c.records, 10),
		"--record-size", strconv.Itoa(c.size), "--throughput", "-1", "--bootstrap-server", t.addr,
		"--producer-props", "acks=" + cfg.acks}
}

func consumeArgs(t target, c benchCase, round int) []string {
	return []string{"--bootstrap-server", t.addr, "--topic", c.topic(round), "--messages", strconv.FormatInt(c.records, 10),
		"--timeout", "30000", "--hide-header"}
}

func parseProduce(stdout string) (int64, float64, string, error) {
	p, err := parseProducer(stdout)
	if err != nil {
		return 0, 0, "", err
	}
	return p.records, p.perSec, fmt.Sprintf("%.2f MB/s, latency avg %.1f ms, p50 %d ms, p99 %d ms, max %.0f ms",
		p.mbPerSec, p.avgMs, p.p50, p.p99, p.maxMs), nil
}

func parseConsume(stdout string) (int64, float64, string, error) {
	c, err := parseConsumer(stdout)
	if err != nil {
		return 0, 0, "", err
	}
	return c.records, c.perSec, fmt.Sprintf("%.2f MB/s, assignment %d ms", c.mbPerSec, c.rebalanceMs), nil
}

// measure runs one perf tool against t and reads t's CPU time around it.
func measure(ctx context.Context, cfg config, t target, bin string, args []string, want int64,
	parse func(string) (int64, float64, string, error)) (measurement, error) {
	// Write back what earlier runs left dirty in the page cache first, so
	// that neither broker's run pays (in wall time, or in CPU charged to
	// its writes) for the other's writeback.
	syscall.Sync()
	before, err := t.cpu.read()
	if err != nil {
		return measurement{}, err
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.runTimeout)
	defer cancel()
	cmd := exec.CommandContext(rctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	wall := time.Since(start)
	after, err := t.cpu.read()
	if err != nil {
		return measurement{}, err
	}
	if runErr != nil {
		return measurement{}, fmt.Errorf("%s %s: %v\n%s%s", filepath.Base(bin), strings.Join(args, " "), runErr, stdout.String(), stderr.String())
	}
	n, perSec, detail, err := parse(stdout.String())
	if err != nil {
		return measurement{}, err
	}
	if n < want {
		return measurement{}, fmt.Errorf("%s handled %d of %d records\n%s%s", filepath.Base(bin), n, want, stdout.String(), stderr.String())
	}
	m := measurement{records: n, perSec: perSec, brokerCPU: after - before, wall: wall}
	if cmd.ProcessState != nil {
		m.clientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	m.detail = fmt.Sprintf("%9.0f rec/s, broker CPU %6.2f s, client CPU %6.2f s, wall %5.1f s, %s",
		perSec, m.brokerCPU.Seconds(), m.clientCPU.Seconds(), wall.Seconds(), detail)
	if s := strings.TrimSpace(stderr.String()); s != "" {
		m.detail += "\n    stderr: " + strings.ReplaceAll(s, "\n", "\n    stderr: ")
	}
	return m, nil
}

// prepare waits until t answers, creates the topics of the cases (one per
// round) and waits until every partition has a leader.
func prepare(ctx context.Context, t target, cases []benchCase, rounds int, out io.Writer) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(t.addr), kgo.ClientID("bench-broker"))
	if err != nil {
		return err
	}
	defer cl.Close()
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30_000
	want := map[string]int{} // topic → partitions
	var topics []string
	for round := 1; round <= rounds; round++ {
		for _, c := range cases {
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic = c.topic(round)
			rt.NumPartitions = int32(c.partitions)
			rt.ReplicationFactor = 1
			req.Topics = append(req.Topics, rt)
			want[rt.Topic] = c.partitions
			topics = append(topics, rt.Topic)
		}
	}
	resp, err := retry(wctx, func(ctx context.Context) (*kmsg.CreateTopicsResponse, error) {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return req.RequestWith(rctx, cl)
	})
	if err != nil {
		return fmt.Errorf("creating topics: %w", err)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			msg := ""
			if rt.ErrorMessage != nil {
				msg = ": " + *rt.ErrorMessage
			}
			return fmt.Errorf("creating topic %s: %w%s (the benchmark needs brokers without its topics)", rt.Topic, err, msg)
		}
	}

	_, err = retry(wctx, func(ctx context.Context) (struct{}, error) {
		mreq := kmsg.NewPtrMetadataRequest()
		for _, tp := range topics {
			mt := kmsg.NewMetadataRequestTopic()
			mt.Topic = kmsg.StringPtr(tp)
			mreq.Topics = append(mreq.Topics, mt)
		}
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		mresp, err := mreq.RequestWith(rctx, cl)
		if err != nil {
			return struct{}{}, err
		}
		missing := maps.Clone(want)
		for _, mt := range mresp.Topics {
			if mt.Topic == nil || mt.ErrorCode != 0 {
				continue
			}
			led := 0
			for _, p := range mt.Partitions {
				if p.ErrorCode == 0 && p.Leader >= 0 {
					led++
				}
			}
			if led == missing[*mt.Topic] {
				delete(missing, *mt.Topic)
			}
		}
		if len(missing) > 0 {
			return struct{}{}, fmt.Errorf("partitions without a leader yet in %d topics", len(missing))
		}
		return struct{}{}, nil
	})
	if err != nil {
		return fmt.Errorf("waiting for leaders: %w", err)
	}
	fmt.Fprintf(out, "%s at %s: created %d topics (%s, ...)\n", t.name, t.addr, len(topics), strings.Join(topics[:len(cases)], ", "))
	return nil
}

// retry calls fn every 100 ms until it succeeds or ctx ends, returning the
// last error then.
func retry[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	for {
		v, err := fn(ctx)
		if err == nil {
			return v, nil
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return v, errors.Join(ctx.Err(), err)
		case <-t.C:
		}
	}
}

// printTable prints the comparison, one section per phase.
func printTable(out io.Writer, cfg config, res results) {
	a, b := cfg.targets[0].name, cfg.targets[1].name
	fmt.Fprintf(out, "\nMedians of %d rounds. Targets: throughput ratio %s/%s >= 1.00, CPU ratio %s/%s <= 1.00 (broker process CPU per record).\n",
		cfg.rounds, a, b, a, b)
	for _, phase := range []string{"produce", "consume"} {
		title := "producer (acks=" + cfg.acks + ")"
		if phase == "consume" {
			title = "consumer"
		}
		fmt.Fprintf(out, "\n%-24s %14s %14s %8s %14s %14s %8s\n", title,
			a+" rec/s", b+" rec/s", "ratio", a+" CPU s/M", b+" CPU s/M", "CPU ratio")
		for _, c := range cfg.cases {
			rate := func(m measurement) float64 { return m.perSec }
			cpu := measurement.cpuPerMillion
			ra, rb := median(res[phase][c][a], rate), median(res[phase][c][b], rate)
			ca, cb := median(res[phase][c][a], cpu), median(res[phase][c][b], cpu)
			fmt.Fprintf(out, "%-24s %14.0f %14.0f %8.2f %14.2f %14.2f %8.2f\n", c.String(),
				ra, rb, ratio(ra, rb), ca, cb, ratio(ca, cb))
		}
	}
}

func ratio(x, y float64) float64 {
	if y == 0 {
		return 0
	}
	return x / y
}
