package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const (
	toolName = "kafka-consumer-perf-test"
	helpMsg  = "This tool is used to verify the consumer performance."
	header   = "start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec"
	// detailedHeader starts the header of --show-detailed-stats.
	detailedHeader = "time, threadId, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec"
	fetchHeader    = ", rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec"
)

// run is the whole tool: it reads --messages records from every partition of
// the topic and prints the statistics; it returns the exit status (0 also
// when --timeout ended the run early, as in Kafka; 1 on an argument or
// connection error; 130 after an interrupt).
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// settings are the parsed command line.
type settings struct {
	bootstrap  string
	topic      string
	messages   int64
	timeout    time.Duration
	fetchSize  int32
	fromLatest bool
	detailed   bool
	interval   time.Duration
	dates      *dateFormat
	hideHeader bool
	maxPoll    int       // max.poll.records when given, else 0 (whatever is buffered)
	props      cli.Props // consumer properties nobody has taken yet
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	errorf := func(format string, a ...any) int {
		fmt.Fprintf(stderr, format+"\n", a...)
		return 1
	}
	o, err := parser.Parse(args)
	if err != nil {
		return errorf("%s", err)
	}
	if len(args) == 0 || o.Has("help") {
		return errorf("%s\n%s", helpMsg, strings.TrimSuffix(parser.Help(), "\n"))
	}
	if o.Has("version") {
		fmt.Fprintln(stdout, cli.KafkaVersion)
		return 0
	}
	s, err := configure(o)
	if err != nil {
		return errorf("%s", err)
	}
	if o.Has("group") {
		g, _, _ := o.Value("group")
		fmt.Fprintf(stderr, "%s: note: --group %s is ignored: partitions are assigned directly, without a consumer group\n", toolName, g)
	}
	opts, err := consumerOpts(s)
	if err != nil {
		return errorf("%s", err)
	}

	start := time.Now()
	meta, err := cli.NewClient(ctx, cli.ClientConfig{Bootstrap: s.bootstrap, Props: s.props.Clone(), ClientID: "perf-consumer-client"})
	if err != nil {
		return errorf("%s", err)
	}
	parts, err := partitions(ctx, meta, s)
	meta.Close()
	if err != nil {
		if ctx.Err() != nil {
			return 130
		}
		return errorf("%s", err)
	}
	at := kgo.NewOffset().AtStart()
	if s.fromLatest {
		at = kgo.NewOffset().AtEnd()
	}
	assign := map[int32]kgo.Offset{}
	for _, p := range parts {
		assign[p] = at
	}
	opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: assign}))
	cl, err := cli.NewClient(ctx, cli.ClientConfig{Bootstrap: s.bootstrap, Props: s.props, ClientID: "perf-consumer-client", Opts: opts})
	if err != nil {
		return errorf("%s", err)
	}
	defer cl.Close()
	cli.NoteIgnored(stderr, toolName, s.props)
	// The "rebalance" of this tool is finding the partitions and assigning
	// them: there is no group to join.
	join := time.Since(start)

	if !s.hideHeader {
		if s.detailed {
			fmt.Fprintln(stdout, detailedHeader+fetchHeader)
		} else {
			fmt.Fprintln(stdout, header+fetchHeader)
		}
	}
	r := consume(ctx, cl.Client, s, start, join, stdout, stderr)
	if r.timedOut {
		fmt.Fprintf(stderr, "WARNING: Exiting before consuming the expected number of messages: timeout (%d ms) exceeded. "+
			"You can use the --timeout option to increase the timeout.\n", s.timeout.Milliseconds())
	}
	if !s.detailed {
		elapsedMs := r.end.Sub(start).Milliseconds()
		fetchMs := elapsedMs - join.Milliseconds()
		mb := mib(r.bytes)
		secs := float64(elapsedMs) / 1000
		fetchSecs := float64(fetchMs) / 1000
		fmt.Fprintf(stdout, "%s, %s, %s, %s, %d, %s, %d, %d, %s, %s\n",
			s.dates.format(start), s.dates.format(r.end), javaFloat(mb), javaFloat(mb/secs), r.msgs,
			javaFloat(float64(r.msgs)/secs), join.Milliseconds(), fetchMs, javaFloat(mb/fetchSecs),
			javaFloat(float64(r.msgs)/fetchSecs))
	}
	if r.interrupted {
		return 130
	}
	return 0
}

func configure(o *cli.Options) (*settings, error) {
	if o.Has("print-metrics") {
		return nil, cli.Messagef("%s: --print-metrics is not supported by this tool", toolName)
	}
	if !o.Has("bootstrap-server") && !o.Has("broker-list") {
		return nil, cli.Missing("bootstrap-server")
	}
	for _, name := range []string{"topic", "messages"} {
		if !o.Has(name) {
			return nil, cli.Missing(name)
		}
	}
	s := &settings{fromLatest: o.Has("from-latest"), detailed: o.Has("show-detailed-stats"), hideHeader: o.Has("hide-header")}
	var err error
	if o.Has("bootstrap-server") {
		s.bootstrap, _, err = o.Value("bootstrap-server")
	} else {
		s.bootstrap, _, err = o.Value("broker-list")
	}
	if err != nil {
		return nil, err
	}
	if s.topic, _, err = o.Value("topic"); err != nil {
		return nil, err
	}
	if s.messages, _, err = o.Long("messages"); err != nil {
		return nil, err
	}
	timeout, _, err := o.Long("timeout")
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		return nil, cli.Messagef("%s: --timeout must be positive", toolName)
	}
	s.timeout = time.Duration(timeout) * time.Millisecond
	if s.fetchSize, _, err = o.Int("fetch-size"); err != nil {
		return nil, err
	}
	if s.fetchSize <= 0 {
		return nil, cli.Messagef("%s: --fetch-size must be positive", toolName)
	}
	interval, _, err := o.Long("reporting-interval")
	if err != nil {
		return nil, err
	}
	if interval <= 0 {
		return nil, cli.Messagef("%s: --reporting-interval must be positive", toolName)
	}
	s.interval = time.Duration(interval) * time.Millisecond
	df, _, err := o.Value("date-format")
	if err != nil {
		return nil, err
	}
	if s.dates, err = newDateFormat(df); err != nil {
		return nil, err
	}
	for _, name := range []string{"socket-buffer-size", "threads", "num-fetch-threads"} {
		if _, _, err := o.Value(name); err != nil {
			return nil, err
		}
	}

	s.props = cli.Props{}
	if path, ok, err := o.Value("consumer.config"); err != nil {
		return nil, err
	} else if ok {
		if s.props, err = cli.LoadProps(path); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func intProp(p cli.Props, key string, def int64, typ string) (int64, error) {
	v, ok := p.Take(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || (typ == "INT" && (n < math.MinInt32 || n > math.MaxInt32)) {
		return 0, cli.Messagef("Invalid value %s for configuration %s: Not a number of type %s", v, key, typ)
	}
	return n, nil
}

// consumerOpts translates the consumer properties that have a kgo
// counterpart, with the Java consumer's defaults, and removes them from
// s.props (client.id and the other common ones stay for cli.NewClient).
// max.partition.fetch.bytes is always --fetch-size, as in Kafka's tool.
func consumerOpts(s *settings) ([]kgo.Opt, error) {
	p := s.props
	p.Take("max.partition.fetch.bytes")
	opts := []kgo.Opt{kgo.FetchMaxPartitionBytes(s.fetchSize)}
	minBytes, err := intProp(p, "fetch.min.bytes", 1, "INT")
	if err != nil {
		return nil, err
	}
	maxBytes, err := intProp(p, "fetch.max.bytes", 52428800, "INT")
	if err != nil {
		return nil, err
	}
	maxWait, err := intProp(p, "fetch.max.wait.ms", 500, "INT")
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.FetchMinBytes(int32(minBytes)), kgo.FetchMaxBytes(int32(maxBytes)),
		kgo.FetchMaxWait(time.Duration(maxWait)*time.Millisecond))
	if v, ok := p.Take("isolation.level"); ok {
		switch strings.TrimSpace(v) {
		case "read_uncommitted":
		case "read_committed":
			opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		default:
			return nil, cli.Messagef("Invalid value %s for configuration isolation.level: String must be one of: read_committed, read_uncommitted", v)
		}
	}
	maxPoll, err := intProp(p, "max.poll.records", 0, "INT")
	if err != nil {
		return nil, err
	}
	s.maxPoll = int(maxPoll)
	// Set by Kafka's tool itself, or meaningless without a group.
	for _, k := range []string{"auto.offset.reset", "key.deserializer", "value.deserializer", "check.crcs",
		"enable.auto.commit", "receive.buffer.bytes"} {
		p.Take(k)
	}
	return opts, nil
}

// partitions finds the topic's partitions, asking again until the topic
// exists or --timeout passes.
func partitions(ctx context.Context, cl *cli.Client, s *settings) ([]int32, error) {
	deadline := time.Now().Add(s.timeout)
	var last string
	for {
		mctx, cancel := context.WithDeadline(ctx, deadline)
		resp, err := cli.Metadata(mctx, cl.Client, []string{s.topic})
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if cli.Unreachable(err) {
				return nil, cli.Messagef("%s: no broker of %s answered: %v", toolName, s.bootstrap, err)
			}
			return nil, err
		}
		for _, t := range resp.Topics {
			if t.Topic == nil || *t.Topic != s.topic {
				continue
			}
			if t.ErrorCode != 0 {
				last = kerr.ErrorForCode(t.ErrorCode).Error()
				break
			}
			var ps []int32
			for _, p := range t.Partitions {
				ps = append(ps, p.Partition)
			}
			if len(ps) > 0 {
				sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
				return ps, nil
			}
		}
		if time.Now().Add(100 * time.Millisecond).After(deadline) {
			if last == "" {
				last = "no partitions"
			}
			return nil, cli.Messagef("%s: topic %s not found within --timeout %d ms (%s)", toolName, s.topic, s.timeout.Milliseconds(), last)
		}
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// result is what the consume loop saw.
type result struct {
	msgs, bytes int64
	end         time.Time // the last poll that returned records when the run timed out, else when it stopped
	timedOut    bool
	interrupted bool
}

func mib(bytes int64) float64 { return float64(bytes) / (1 << 20) }

// javaFloat formats v with four decimals as Java's %.4f does, including
// its spelling of the values that are not numbers.
func javaFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return fmt.Sprintf("%.4f", v)
}

// consume polls until --messages records were read, --timeout passed
// without a record, or ctx ended, printing a line every --reporting-interval
// with --show-detailed-stats.
func consume(ctx context.Context, cl *kgo.Client, s *settings, start time.Time, join time.Duration, stdout, stderr io.Writer) result {
	var r result
	lastConsumed := time.Now()
	// The current --show-detailed-stats interval.
	lastReport, lastMsgs, lastBytes := start, int64(0), int64(0)
	pendingJoin := join
	warned := map[string]bool{}
	for r.msgs < s.messages {
		pctx, cancel := context.WithDeadline(ctx, lastConsumed.Add(s.timeout))
		var fs kgo.Fetches
		if s.maxPoll > 0 {
			fs = cl.PollRecords(pctx, s.maxPoll)
		} else {
			fs = cl.PollFetches(pctx)
		}
		cancel()
		now := time.Now()
		if ctx.Err() != nil {
			r.interrupted = true
			break
		}
		var n, b int64
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if p.Err != nil {
				return
			}
			n += int64(len(p.Records))
			for _, rec := range p.Records {
				b += int64(len(rec.Key) + len(rec.Value))
			}
		})
		fs.EachError(func(topic string, partition int32, err error) {
			if pctx.Err() != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
				return
			}
			if msg := err.Error(); !warned[msg] {
				warned[msg] = true
				fmt.Fprintf(stderr, "%s: fetching %s-%d: %s\n", toolName, topic, partition, msg)
			}
		})
		if n > 0 {
			lastConsumed = now
			r.msgs += n
			r.bytes += b
		} else if now.Sub(lastConsumed) >= s.timeout {
			r.timedOut = true
			break
		}
		if s.detailed && now.Sub(lastReport) >= s.interval {
			printDetailed(stdout, s.dates, now, now.Sub(lastReport), pendingJoin, r.msgs, lastMsgs, r.bytes, lastBytes)
			lastReport, lastMsgs, lastBytes, pendingJoin = now, r.msgs, r.bytes, 0
		}
	}
	r.end = time.Now()
	if r.timedOut {
		r.end = lastConsumed
	}
	return r
}

// printDetailed prints one --show-detailed-stats line: totals so far and
// rates over the interval, then the rates over the part of the interval
// that was not spent assigning partitions.
func printDetailed(w io.Writer, dates *dateFormat, now time.Time, interval, join time.Duration, msgs, lastMsgs, bytes, lastBytes int64) {
	secs := float64(interval.Milliseconds()) / 1000
	fetchMs := interval.Milliseconds() - join.Milliseconds()
	fetchSecs := float64(fetchMs) / 1000
	dMB := mib(bytes - lastBytes)
	dMsgs := float64(msgs - lastMsgs)
	fmt.Fprintf(w, "%s, %d, %s, %s, %d, %s, %d, %d, %s, %s\n",
		dates.format(now), 0, javaFloat(mib(bytes)), javaFloat(dMB/secs), msgs, javaFloat(dMsgs/secs),
		join.Milliseconds(), fetchMs, javaFloat(dMB/fetchSecs), javaFloat(dMsgs/fetchSecs))
}
