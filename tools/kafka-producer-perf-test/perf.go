package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const toolName = "kafka-producer-perf-test"

// reportInterval is how often a window line is printed (Kafka's tool: 5 s).
const reportInterval = 5 * time.Second

// usageError is a command-line error, printed as
// "kafka-producer-perf-test: error: <text>".
type usageError string

func (e usageError) Error() string { return string(e) }

// run is the whole tool: it sends the records, prints the window lines and
// the total, and returns the exit status (0 when every record was
// acknowledged, 1 on an argument error or a failed send, 130 after an
// interrupt).
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// settings are the parsed command line.
type settings struct {
	topic      string
	numRecords int64
	payloads   [][]byte // one fixed payload for --record-size
	fromFile   string   // --payload-file, when given
	throughput float64  // records/s; <= 0 is unlimited
	bootstrap  string
	props      cli.Props // producer properties nobody has taken yet
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fail := func(err error) int {
		var oe *cli.OptionError
		var ue usageError
		if errors.As(err, &oe) || errors.As(err, &ue) {
			fmt.Fprintf(stderr, "%s: error: %s\n", toolName, err)
		} else {
			fmt.Fprintln(stderr, err)
		}
		return 1
	}
	if len(args) == 0 {
		fmt.Fprint(stdout, helpText())
		return 0
	}
	expanded, err := expandPropsArgs(args)
	if err != nil {
		return fail(err)
	}
	o, err := parser.Parse(expanded)
	if err != nil {
		return fail(err)
	}
	if o.Has("help") {
		fmt.Fprint(stdout, helpText())
		return 0
	}
	if o.Has("version") {
		fmt.Fprintln(stdout, cli.KafkaVersion)
		return 0
	}
	s, err := configure(o)
	if err != nil {
		return fail(err)
	}
	maxPayload := 0
	for _, p := range s.payloads {
		maxPayload = max(maxPayload, len(p))
	}
	opts, err := producerOpts(s.props, maxPayload)
	if err != nil {
		return fail(err)
	}
	cl, err := cli.NewClient(ctx, cli.ClientConfig{
		Bootstrap: s.bootstrap, Props: s.props, ClientID: "perf-producer-client", Opts: opts,
	})
	if err != nil {
		return fail(err)
	}
	defer cl.Close()
	cli.NoteIgnored(stderr, toolName, s.props)
	return produce(ctx, cl.Client, s, stdout, stderr)
}

func helpText() string {
	return "This tool is used to verify the producer performance.\n" + parser.Help()
}

func configure(o *cli.Options) (*settings, error) {
	for _, name := range []string{"print-metrics", "transactional-id", "transaction-duration-ms"} {
		if o.Has(name) {
			return nil, usageError(fmt.Sprintf("--%s is not supported by this tool", name))
		}
	}
	for _, name := range []string{"topic", "num-records", "throughput"} {
		if !o.Has(name) {
			return nil, usageError(fmt.Sprintf("argument --%s is required", name))
		}
	}
	switch {
	case o.Has("record-size") && o.Has("payload-file"):
		return nil, usageError("argument --payload-file: not allowed with argument --record-size")
	case !o.Has("record-size") && !o.Has("payload-file"):
		return nil, usageError("one of the arguments --record-size --payload-file is required")
	}
	s := &settings{}
	var err error
	if s.topic, _, err = o.Value("topic"); err != nil {
		return nil, err
	}
	if s.numRecords, _, err = o.Long("num-records"); err != nil {
		return nil, err
	}
	if s.numRecords < 0 {
		return nil, usageError("argument --num-records: must not be negative")
	}
	tp, _, err := o.Value("throughput")
	if err != nil {
		return nil, err
	}
	if s.throughput, err = strconv.ParseFloat(strings.TrimSpace(tp), 64); err != nil {
		return nil, usageError(fmt.Sprintf("argument --throughput: could not convert '%s' to Double", tp))
	}
	if s.throughput == 0 {
		return nil, usageError("argument --throughput: 0 would send nothing; use a positive rate or -1 for no limit")
	}
	if o.Has("record-size") {
		size, _, err := o.Int("record-size")
		if err != nil {
			return nil, err
		}
		if size < 0 {
			return nil, usageError("argument --record-size: must not be negative")
		}
		s.payloads = [][]byte{randomPayload(int(size))}
	} else {
		if s.fromFile, _, err = o.Value("payload-file"); err != nil {
			return nil, err
		}
		delim, _, err := o.Value("payload-delimiter")
		if err != nil {
			return nil, err
		}
		if s.payloads, err = readPayloads(s.fromFile, unescape(delim)); err != nil {
			return nil, err
		}
	}

	s.props = cli.Props{}
	if path, ok, err := o.Value("producer.config"); err != nil {
		return nil, err
	} else if ok {
		if s.props, err = cli.LoadProps(path); err != nil {
			return nil, err
		}
	}
	s.props.Merge(cli.ParseKeyValueArgs(o.Values("producer-props")))
	if o.Has("bootstrap-server") {
		if s.bootstrap, _, err = o.Value("bootstrap-server"); err != nil {
			return nil, err
		}
	} else {
		s.bootstrap = s.props["bootstrap.servers"]
	}
	if strings.TrimSpace(s.bootstrap) == "" {
		return nil, usageError("no brokers: give --bootstrap-server or bootstrap.servers in --producer-props or --producer.config")
	}
	return s, nil
}

// randomPayload is Kafka's fixed payload: size random capital letters.
func randomPayload(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte('A' + rand.IntN(26))
	}
	return b
}

// unescape turns the escapes a shell user types (\n, \t, \r, \\) into the
// characters.
func unescape(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\t`, "\t", `\r`, "\r").Replace(s)
}

// readPayloads splits the file at every delimiter; trailing empty payloads
// are dropped, as Java's String.split drops them (the delimiter is plain
// text here, not a regular expression).
func readPayloads(path, delim string) ([][]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, cli.Messagef("%s: reading --payload-file: %v", toolName, err)
	}
	if delim == "" {
		return nil, usageError("argument --payload-delimiter: must not be empty")
	}
	parts := strings.Split(string(data), delim)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) == 0 {
		return nil, cli.Messagef("File does not contain any payloads")
	}
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out, nil
}

// produce sends the records and prints the lines; see run for the status.
func produce(ctx context.Context, cl *kgo.Client, s *settings, stdout, stderr io.Writer) int {
	if s.fromFile != "" {
		fmt.Fprintf(stdout, "Reading payloads from: %s\nNumber of messages read: %d\n", s.fromFile, len(s.payloads))
	}
	st := newStats(stdout, s.numRecords, reportInterval, time.Now())
	status := 0
	for i := int64(0); i < s.numRecords; i++ {
		if ctx.Err() != nil {
			status = 130
			break
		}
		if s.throughput > 0 && !throttle(ctx, st.start, i, s.throughput) {
			status = 130
			break
		}
		value := s.payloads[0]
		if len(s.payloads) > 1 {
			value = s.payloads[rand.IntN(len(s.payloads))]
		}
		sent := time.Now()
		// The record's own context is not the interrupt's: a record handed
		// to the client is always delivered or fails on its own.
		cl.Produce(context.Background(), &kgo.Record{Topic: s.topic, Value: value}, func(r *kgo.Record, err error) {
			now := time.Now()
			st.completed(now.Sub(sent), len(r.Value), now, err)
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		fmt.Fprintf(stderr, "%s: flushing: %v\n", toolName, err)
		status = 1
	}
	t := st.finish(time.Now())
	if t.Failed > 0 {
		fmt.Fprintf(stderr, "%s: %d records failed; the first error: %v\n", toolName, t.Failed, t.FirstErr)
		if status == 0 {
			status = 1
		}
	}
	return status
}

// minSleep is the shortest pause the throttle takes: shorter ones cost more
// in wake-ups than they smooth.
const minSleep = 2 * time.Millisecond

// throttle waits until record i is due at rate records/s counted from start.
// It returns false when ctx ended first.
func throttle(ctx context.Context, start time.Time, i int64, rate float64) bool {
	due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
	wait := time.Until(due)
	if wait < minSleep {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
