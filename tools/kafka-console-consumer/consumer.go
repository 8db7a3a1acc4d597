package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const (
	toolName = "kafka-console-consumer"
	helpMsg  = "This tool helps to read data from Kafka topics and outputs it to standard output."
)

// run is the whole tool: it prints records to stdout until --max-messages,
// --timeout-ms or an interrupt, then "Processed a total of N messages" on
// stderr, and returns the exit status (0; 1 on errors; 130 after an
// interrupt).
func run(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &consumer{out: bufio.NewWriter(stdout), errw: stderr}
	defer c.out.Flush()
	return c.main(ctx, args)
}

type consumer struct {
	out  *bufio.Writer
	errw io.Writer
}

func (c *consumer) errorf(format string, args ...any) {
	c.out.Flush()
	fmt.Fprintf(c.errw, format+"\n", args...)
}

// settings are the parsed options.
type settings struct {
	bootstrap   string
	topic       string
	include     string
	partition   int32
	hasPart     bool
	offset      kgo.Offset
	reset       kgo.Offset
	resetNone   bool
	maxMessages int64 // -1 (or absent): no limit; other negative values read nothing, as in Kafka
	timeout     time.Duration
	skipErrors  bool
	group       string // --group or group.id; "" to read without a group
	autoCommit  bool   // commit what was read (enable.auto.commit, with a group)
	clientID    string
	logPrefix   string // "[Consumer clientId=..., groupId=...]" of Java's log lines
	props       cli.Props
	opts        []kgo.Opt
	formatter   *formatter
}

func (c *consumer) main(ctx context.Context, args []string) int {
	o, err := parser.Parse(args)
	if err != nil {
		c.errorf("%s", err)
		return 1
	}
	if len(args) == 0 || o.Has("help") {
		c.errorf("%s\n%s", helpMsg, strings.TrimSuffix(parser.Help(), "\n"))
		return 1
	}
	if o.Has("version") {
		fmt.Fprintln(c.out, cli.KafkaVersion)
		return 0
	}
	s, err := configure(o)
	if err != nil {
		c.errorf("%s", err)
		return 1
	}
	cl, err := cli.NewClient(ctx, cli.ClientConfig{Bootstrap: s.bootstrap, Props: s.props, ClientID: s.clientID, Opts: s.opts})
	if err != nil {
		c.errorf("%s", err)
		return 1
	}
	defer cl.Close()
	cli.NoteIgnored(c.errw, toolName, s.props)

	var count int64
	status, runErr := c.consume(ctx, cl, s, &count)
	c.out.Flush()
	fmt.Fprintf(c.errw, "Processed a total of %d messages\n", count)
	c.commitOnClose(cl, s)
	if runErr != nil {
		fmt.Fprintf(c.errw, "ERROR Unknown error when running consumer: %s\n", runErr)
		return 1
	}
	return status
}

// configure is ConsoleConsumerOptions: the checks in Kafka's order and
// with Kafka's messages, then the consumer and formatter settings.
func configure(o *cli.Options) (*settings, error) {
	s := &settings{maxMessages: -1}
	var err error
	s.topic, _, _ = o.Value("topic")
	if o.Has("include") {
		s.include, _, err = o.Value("include")
	} else if o.Has("whitelist") {
		s.include, _, err = o.Value("whitelist")
	}
	if err != nil {
		return nil, err
	}
	n := 0
	if o.Has("topic") {
		n++
	}
	if o.Has("include") || o.Has("whitelist") {
		n++
	}
	if n != 1 {
		msg := "Exactly one of --include/--topic is required. "
		if o.Has("whitelist") {
			msg += "--whitelist has been deprecated and will be removed in future releases, please use --include instead."
		}
		return nil, cli.Messagef("%s", msg)
	}
	if s.partition, s.hasPart, err = o.Int("partition"); err != nil {
		return nil, err
	}
	if s.hasPart {
		if !o.Has("topic") {
			return nil, cli.Messagef("%s", "The topic is required when partition is specified.")
		}
		if o.Has("from-beginning") && o.Has("offset") {
			return nil, cli.Messagef("%s", "Options from-beginning and offset cannot be specified together.")
		}
	} else if o.Has("offset") {
		return nil, cli.Messagef("%s", "The partition is required when offset is specified.")
	}
	if !o.Has("bootstrap-server") {
		return nil, cli.Missing("bootstrap-server")
	}
	if s.bootstrap, _, err = o.Value("bootstrap-server"); err != nil {
		return nil, err
	}

	props := cli.Props{}
	if path, ok, err := o.Value("consumer.config"); err != nil {
		return nil, err
	} else if ok {
		if props, err = cli.LoadProps(path); err != nil {
			return nil, err
		}
	}
	props.Merge(cli.ParseKeyValueArgs(o.Values("consumer-property")))
	if s.group, err = checkGroups(o, props, s.hasPart); err != nil {
		return nil, err
	}

	// auto.offset.reset: an explicit property, else earliest with
	// --from-beginning, else latest; a property contradicting
	// --from-beginning is an error.
	reset := "latest"
	if v, ok := props.Take("auto.offset.reset"); ok {
		if o.Has("from-beginning") && v != "earliest" {
			return nil, cli.Messagef("Can't simultaneously specify --from-beginning and 'auto.offset.reset=%s', please remove one option", v)
		}
		reset = v
	} else if o.Has("from-beginning") {
		reset = "earliest"
	}
	switch reset {
	case "earliest":
		s.reset = kgo.NewOffset().AtStart()
	case "latest":
		s.reset = kgo.NewOffset().AtEnd()
	case "none":
		s.reset, s.resetNone = kgo.NewOffset().AtEnd(), true
	default:
		return nil, cli.Messagef("Invalid value %s for configuration auto.offset.reset: Invalid value `%s` for configuration auto.offset.reset. The value must be either 'earliest', 'latest', 'none' or of the format 'by_duration:<PnDTnHnMn.nS.>'.", reset, reset)
	}

	// The start of --partition: --offset, else earliest with
	// --from-beginning, else latest.
	s.offset = kgo.NewOffset().AtEnd()
	if o.Has("offset") {
		v, _, err := o.Value("offset")
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(v) {
		case "earliest":
			s.offset = kgo.NewOffset().AtStart()
		case "latest":
		default:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, cli.Messagef("The provided offset value '%s' is incorrect. Valid values are 'earliest', 'latest', or a non-negative long.", v)
			}
			s.offset = kgo.NewOffset().At(n)
		}
	} else if o.Has("from-beginning") {
		s.offset = kgo.NewOffset().AtStart()
	}

	if timeout, ok, err := o.Long("timeout-ms"); err != nil {
		return nil, err
	} else if ok && timeout >= 0 {
		s.timeout = time.Duration(timeout) * time.Millisecond
	}
	if maxMsgs, ok, err := o.Int("max-messages"); err != nil {
		return nil, err
	} else if ok {
		s.maxMessages = int64(maxMsgs)
	}
	s.skipErrors = o.Has("skip-message-on-error")

	// isolation.level: --isolation-level when given, else the property,
	// else read_uncommitted.
	iso, _ := props.Take("isolation.level")
	if o.Has("isolation-level") || iso == "" {
		iso, _, _ = o.Value("isolation-level")
	}
	switch iso {
	case "read_committed":
		s.opts = append(s.opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	case "read_uncommitted":
	default:
		return nil, cli.Messagef("Invalid value %s for configuration isolation.level: String must be one of: read_committed, read_uncommitted", iso)
	}
	more, err := consumerOpts(props)
	if err != nil {
		return nil, err
	}
	s.opts = append(s.opts, more...)
	if err := s.groupSettings(props); err != nil {
		return nil, err
	}
	s.props = props

	if s.formatter, err = buildFormatter(o); err != nil {
		return nil, err
	}
	consume, err := consumeOpts(s)
	if err != nil {
		return nil, err
	}
	s.opts = append(s.opts, consume...)
	return s, nil
}

func intProp(p cli.Props, key, typ string) (int64, bool, error) {
	v, ok := p.Take(key)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || (typ == "INT" && n > 1<<31-1) {
		return 0, false, cli.Messagef("Invalid value %s for configuration %s: Not a number of type %s", v, key, typ)
	}
	return n, true, nil
}

// consumerOpts translates the consumer properties with a kgo counterpart
// and takes them out of p.
func consumerOpts(p cli.Props) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if v, ok := p.Take("allow.auto.create.topics"); !ok || strings.EqualFold(strings.TrimSpace(v), "true") {
		opts = append(opts, kgo.AllowAutoTopicCreation()) // Java consumers' default
	}
	if n, ok, err := intProp(p, "fetch.max.bytes", "INT"); err != nil {
		return nil, err
	} else if ok {
		opts = append(opts, kgo.FetchMaxBytes(int32(n)))
	}
	if n, ok, err := intProp(p, "max.partition.fetch.bytes", "INT"); err != nil {
		return nil, err
	} else if ok {
		opts = append(opts, kgo.FetchMaxPartitionBytes(int32(n)))
	}
	if n, ok, err := intProp(p, "fetch.min.bytes", "INT"); err != nil {
		return nil, err
	} else if ok {
		opts = append(opts, kgo.FetchMinBytes(int32(n)))
	}
	if n, ok, err := intProp(p, "fetch.max.wait.ms", "INT"); err != nil {
		return nil, err
	} else if ok {
		opts = append(opts, kgo.FetchMaxWait(time.Duration(n)*time.Millisecond))
	}
	// Set by Kafka's tool itself.
	for _, k := range []string{"key.deserializer", "value.deserializer", "exclude.internal.topics"} {
		p.Take(k)
	}
	return opts, nil
}

// buildFormatter is ConsoleConsumerOptions.buildFormatter for the default
// formatter: --formatter-config, then --key/value-deserializer, then
// --property.
func buildFormatter(o *cli.Options) (*formatter, error) {
	class, _, err := o.Value("formatter")
	if err != nil {
		return nil, err
	}
	if class != defaultFormatter && class != "kafka.tools.DefaultMessageFormatter" {
		return nil, cli.Messagef("%s: formatter %s is not supported; only %s is available", toolName, class, defaultFormatter)
	}
	p := cli.Props{}
	if path, ok, err := o.Value("formatter-config"); err != nil {
		return nil, err
	} else if ok {
		if p, err = cli.LoadProps(path); err != nil {
			return nil, err
		}
	}
	if v, _, _ := o.Value("key-deserializer"); v != "" {
		p["key.deserializer"] = v
	}
	if v, _, _ := o.Value("value-deserializer"); v != "" {
		p["value.deserializer"] = v
	}
	p.Merge(cli.ParseKeyValueArgs(o.Values("property")))
	return newFormatter(p)
}

// consumeOpts chooses what to read: one partition, the topics matching
// --include (internal topics excluded, as by Java's consumer), or every
// partition of --topic (partitions added later included). Without a group
// this reads as a Java consumer with a fresh group would: from
// auto.offset.reset.
func consumeOpts(s *settings) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.ConsumeResetOffset(s.reset)}
	switch {
	case s.hasPart:
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{s.topic: {s.partition: s.offset}}))
	case s.include != "":
		f, err := cli.NewTopicFilter(s.include)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics("^(?:"+f.Regex+")$"))
	default:
		opts = append(opts, kgo.ConsumeTopics(s.topic))
	}
	return opts, nil
}

// checkTopic looks the topic up once before reading, as the first metadata
// request of Java's consumer would, and says on stderr when it (or the
// partition) does not exist yet; reading then waits for it, as Java's
// consumer does. It fails only when no broker answers.
func (c *consumer) checkTopic(ctx context.Context, cl *cli.Client, s *settings) error {
	if s.topic == "" {
		return nil
	}
	mctx, cancel := cl.Context(ctx)
	defer cancel()
	if s.timeout > 0 && s.timeout < cl.Timeout {
		mctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	meta, err := cli.Metadata(mctx, cl.Client, []string{s.topic})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if cli.Unreachable(err) {
			return cli.Messagef("%s: no broker of %s answered: %v", toolName, s.bootstrap, err)
		}
		return err
	}
	for _, t := range meta.Topics {
		if t.Topic == nil || *t.Topic != s.topic {
			continue
		}
		switch {
		case t.ErrorCode != 0:
			c.errorf("WARN %s Error while fetching metadata : {%s=%s}", s.logPrefix, s.topic, kerr.ErrorForCode(t.ErrorCode).(*kerr.Error).Message)
		case s.hasPart && int(s.partition) >= len(t.Partitions):
			c.errorf("WARN %s Partition %s-%d does not exist: the topic has %d partitions", s.logPrefix, s.topic, s.partition, len(t.Partitions))
		}
	}
	return nil
}

// consume reads and prints until a limit is reached. It returns the exit
// status and, separately, an error that stopped it (a record that could not
// be printed).
func (c *consumer) consume(ctx context.Context, cl *cli.Client, s *settings, count *int64) (int, error) {
	if err := c.checkTopic(ctx, cl, s); err != nil {
		c.errorf("%s", err)
		return 1, nil
	}
	warned := map[string]bool{}
	for s.maxMessages == -1 || *count < s.maxMessages {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if s.timeout > 0 {
			pctx, cancel = context.WithTimeout(ctx, s.timeout)
		}
		max := -1
		if s.maxMessages != -1 {
			max = int(s.maxMessages - *count)
		}
		fetches := cl.PollRecords(pctx, max)
		expired := errors.Is(pctx.Err(), context.DeadlineExceeded)
		cancel()
		if ctx.Err() != nil {
			return 130, nil
		}
		if fetches.IsClientClosed() {
			return 1, cli.Messagef("%s", "the client was closed")
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) || errors.Is(fe.Err, context.Canceled) {
				continue
			}
			if s.resetNone && errors.Is(fe.Err, kerr.OffsetOutOfRange) {
				return 1, cli.Messagef("Undefined offset with no reset policy for partitions: [%s-%d]", fe.Topic, fe.Partition)
			}
			key := fmt.Sprintf("%s-%d: %v", fe.Topic, fe.Partition, fe.Err)
			if !warned[key] {
				warned[key] = true
				c.errorf("WARN %s %s", s.logPrefix, key)
			}
		}
		n := 0
		var stop error
		fetches.EachRecord(func(r *kgo.Record) {
			if stop != nil || (s.maxMessages != -1 && *count >= s.maxMessages) {
				return
			}
			n++
			*count++
			if err := s.formatter.write(c.out, r); err != nil {
				if s.skipErrors {
					c.errorf("ERROR Error processing message, skipping this message: %v", err)
					return
				}
				stop = err
			}
		})
		if stop != nil {
			return 1, stop
		}
		if err := c.out.Flush(); err != nil {
			fmt.Fprintln(c.errw, "Unable to write to standard out, closing consumer.")
			return 1, nil
		}
		if n == 0 && expired {
			return 0, nil // --timeout-ms passed without a record: Kafka stops here
		}
	}
	return 0, nil
}
