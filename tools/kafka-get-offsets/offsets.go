package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const (
	toolName    = "kafka-get-offsets"
	usageText   = "An interactive shell for getting topic-partition offsets."
	errorPrefix = "Error occurred: "
	timeHelp    = "<timestamp> / -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered"
)

// The options of Kafka 3.9's kafka-get-offsets.sh (GetOffsetShell), with
// this project's own help texts.
var parser = &cli.Parser{Specs: []cli.Spec{
	{Name: "bootstrap-server", Arg: cli.RequiredArg, Describer: "HOST1:PORT1,...,HOST3:PORT3",
		Desc: "REQUIRED: host:port of one or more brokers, comma-separated."},
	{Name: "broker-list", Arg: cli.RequiredArg, Describer: "HOST1:PORT1,...,HOST3:PORT3",
		Desc: "Deprecated spelling of --bootstrap-server, used only when that is absent."},
	{Name: "topic-partitions", Arg: cli.RequiredArg, Describer: "topic1:1,topic2:0-3,topic3,topic4:5-,topic5:-3",
		Desc: "Comma-separated patterns TOPIC_REGEX[:PARTITIONS]; PARTITIONS is N, N-M (M excluded), N- or -M; a missing topic matches every topic. Not with --topic or --partitions."},
	{Name: "topic", Arg: cli.RequiredArg, Describer: "topic",
		Desc: "A regular expression matching whole topic names (default: every topic)."},
	{Name: "partitions", Arg: cli.RequiredArg, Describer: "partition ids",
		Desc: "Comma-separated partition ids (default: all)."},
	{Name: "time", Arg: cli.RequiredArg, Describer: timeHelp, Default: "latest",
		Desc: "Which offset: the first record with a timestamp at or after this one (ms), latest (-1), earliest (-2), max-timestamp (-3), earliest-local (-4) or latest-tiered (-5). Partitions without such a record are left out."},
	{Name: "command-config", Arg: cli.RequiredArg, Describer: "config file",
		Desc: "A client properties file (client.id, request.timeout.ms, default.api.timeout.ms, ...)."},
	{Name: "exclude-internal-topics", Desc: "Leave out internal topics."},
	cli.HelpSpec,
	cli.VersionSpec,
}}

// terse is GetOffsetShell's TerseException: printed after "Error occurred: ".
type terse struct{ msg string }

func (e *terse) Error() string { return e.msg }

func tersef(format string, args ...any) error { return &terse{fmt.Sprintf(format, args...)} }

// run is the whole tool: it prints "topic:partition:offset" for every
// matching partition, sorted as Kafka sorts them ("topic-partition" as
// text), and returns the exit status (0, or 1 after an error).
func run(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	fail := func(msg string) int {
		out.Flush()
		fmt.Fprintln(stderr, msg)
		return 1
	}
	if len(args) == 0 {
		return fail(usageText + "\n" + strings.TrimSuffix(parser.Help(), "\n"))
	}
	o, err := parser.Parse(args)
	if err != nil {
		return fail(errorPrefix + err.Error())
	}
	if o.Has("help") {
		return fail(usageText + "\n" + strings.TrimSuffix(parser.Help(), "\n"))
	}
	if o.Has("version") {
		fmt.Fprintln(out, cli.KafkaVersion)
		return 0
	}
	bootstrapOpt := "bootstrap-server"
	if !o.Has(bootstrapOpt) && o.Has("broker-list") {
		bootstrapOpt = "broker-list"
	}
	if !o.Has(bootstrapOpt) {
		return fail(cli.Missing("bootstrap-server").Error())
	}
	bootstrap, _, err := o.Value(bootstrapOpt)
	if err != nil {
		return fail(errorPrefix + err.Error())
	}
	if err := cli.ValidateBootstrapShape(bootstrap); err != nil {
		return fail(err.Error())
	}
	offsets, err := fetchOffsets(o, bootstrap, stderr)
	if err != nil {
		return fail(errorPrefix + oneLine(err.Error()))
	}
	for _, po := range offsets {
		fmt.Fprintf(out, "%s:%d:%d\n", po.topic, po.partition, po.offset)
	}
	return 0
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }

type partitionOffset struct {
	topic     string
	partition int32
	offset    int64
}

// parseTime is GetOffsetShell.parseOffsetSpec: the ListOffsets timestamp.
func parseTime(s string) (int64, error) {
	switch s {
	case "earliest":
		return -2, nil
	case "latest":
		return -1, nil
	case "max-timestamp":
		return -3, nil
	case "earliest-local":
		return -4, nil
	case "latest-tiered":
		return -5, nil
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, tersef("Malformed time argument %s. Please use -1 or latest / -2 or earliest / -3 or max-timestamp / -4 or earliest-local / -5 or latest-tiered, or a specified long format timestamp", s)
	}
	return ts, nil
}

// partitionFilter accepts a topic and its partitions.
type partitionFilter struct {
	topics     *cli.TopicFilter
	partitions func(int32) bool
}

// rulePattern is GetOffsetShell's TOPIC_PARTITION_PATTERN.
var rulePattern = regexp.MustCompile(`^([^:,]*)(?::(?:([0-9]*)|(?:([0-9]*)-([0-9]*))))?$`)

// filters builds the topic-partition filters from --topic-partitions, or
// from --topic and --partitions.
func filters(o *cli.Options) ([]partitionFilter, error) {
	if o.Has("topic-partitions") {
		if o.Has("topic") || o.Has("partitions") {
			return nil, tersef("--topic-partitions cannot be used with --topic or --partitions")
		}
		spec, _, err := o.Value("topic-partitions")
		if err != nil {
			return nil, err
		}
		var out []partitionFilter
		for _, rule := range strings.Split(spec, ",") {
			m := rulePattern.FindStringSubmatch(rule)
			if m == nil {
				// Kafka wraps this TerseException in a RuntimeException,
				// whose message is the wrapped exception's toString().
				return nil, cli.Messagef("org.apache.kafka.tools.TerseException: Invalid rule specification: %s", rule)
			}
			topic := m[1]
			if topic == "" {
				topic = ".*"
			}
			tf, err := cli.NewTopicFilter(topic)
			if err != nil {
				return nil, err
			}
			f := partitionFilter{topics: tf}
			if m[2] != "" {
				p, err := strconv.ParseInt(m[2], 10, 32)
				if err != nil {
					return nil, cli.Messagef("For input string: \"%s\"", m[2])
				}
				f.partitions = func(x int32) bool { return x == int32(p) }
			} else {
				lower, upper := int64(0), int64(math.MaxInt32)
				if m[3] != "" {
					if lower, err = strconv.ParseInt(m[3], 10, 32); err != nil {
						return nil, cli.Messagef("For input string: \"%s\"", m[3])
					}
				}
				if m[4] != "" {
					if upper, err = strconv.ParseInt(m[4], 10, 32); err != nil {
						return nil, cli.Messagef("For input string: \"%s\"", m[4])
					}
				}
				f.partitions = func(x int32) bool { return int64(x) >= lower && int64(x) < upper }
			}
			out = append(out, f)
		}
		return out, nil
	}
	topic, ok, err := o.Value("topic")
	if err != nil {
		return nil, err
	}
	if !ok {
		topic = ".*"
	}
	tf, err := cli.NewTopicFilter(topic)
	if err != nil {
		return nil, err
	}
	set := map[int32]bool{}
	if list, ok, err := o.Value("partitions"); err != nil {
		return nil, err
	} else if ok && list != "" {
		for _, p := range strings.Split(list, ",") {
			n, err := strconv.ParseInt(p, 10, 32)
			if err != nil {
				return nil, tersef("--partitions expects a comma separated list of numeric partition ids, but received: %s", list)
			}
			set[int32(n)] = true
		}
	}
	return []partitionFilter{{topics: tf, partitions: func(p int32) bool { return len(set) == 0 || set[p] }}}, nil
}

func fetchOffsets(o *cli.Options, bootstrap string, stderr io.Writer) ([]partitionOffset, error) {
	timeArg, _, err := o.Value("time")
	if err != nil {
		return nil, err
	}
	fs, err := filters(o)
	if err != nil {
		return nil, err
	}
	ts, err := parseTime(timeArg)
	if err != nil {
		return nil, err
	}
	props := cli.Props{}
	if path, ok, err := o.Value("command-config"); err != nil {
		return nil, err
	} else if ok {
		if props, err = cli.LoadProps(path); err != nil {
			return nil, err
		}
	}
	props["client.id"] = "GetOffsetShell"
	ctx := context.Background()
	cl, err := cli.NewClient(ctx, cli.ClientConfig{Bootstrap: bootstrap, Props: props})
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	cli.NoteIgnored(stderr, toolName, props)
	ctx, cancel := cl.Context(ctx)
	defer cancel()

	// listPartitionInfos: the matching topics, then their matching
	// partitions.
	meta, err := cli.Metadata(ctx, cl.Client, nil)
	if err != nil {
		return nil, requestErr("listTopics", err)
	}
	exclude := o.Has("exclude-internal-topics")
	var wanted []partitionOffset
	for _, t := range meta.Topics {
		if t.Topic == nil || (exclude && t.IsInternal) {
			continue
		}
		for _, p := range t.Partitions {
			for _, f := range fs {
				if f.topics.Allowed(*t.Topic, false) && f.partitions(p.Partition) {
					wanted = append(wanted, partitionOffset{topic: *t.Topic, partition: p.Partition})
					break
				}
			}
		}
	}
	if len(wanted) == 0 {
		return nil, tersef("Could not match any topic-partitions with the specified filters")
	}
	return listOffsets(ctx, cl.Client, wanted, ts, stderr)
}

func requestErr(call string, err error) error {
	if cli.Unreachable(err) {
		return cli.TimeoutError(call, err)
	}
	return err
}

// listOffsets sends ListOffsets to the partitions' leaders (kgo splits the
// request) and keeps the partitions that have an offset for ts, reporting
// failed ones as Kafka does.
func listOffsets(ctx context.Context, cl *kgo.Client, wanted []partitionOffset, ts int64, stderr io.Writer) ([]partitionOffset, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	byTopic := map[string]int{}
	for _, w := range wanted {
		i, ok := byTopic[w.topic]
		if !ok {
			i = len(req.Topics)
			byTopic[w.topic] = i
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = w.topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = w.partition
		rp.Timestamp = ts
		rp.CurrentLeaderEpoch = -1
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	var out []partitionOffset
	skip := func(topic string, partition int32, msg string) {
		fmt.Fprintf(stderr, "Skip getting offsets for topic-partition %s-%d due to error: %s\n", topic, partition, msg)
	}
	for _, shard := range cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			sreq, ok := shard.Req.(*kmsg.ListOffsetsRequest)
			if !ok {
				return nil, requestErr("listOffsets", shard.Err)
			}
			if cli.Unreachable(shard.Err) {
				return nil, requestErr("listOffsets", shard.Err)
			}
			for _, t := range sreq.Topics {
				for _, p := range t.Partitions {
					skip(t.Topic, p.Partition, shard.Err.Error())
				}
			}
			continue
		}
		resp := shard.Resp.(*kmsg.ListOffsetsResponse)
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					skip(t.Topic, p.Partition, cli.ErrorMessage(p.ErrorCode, nil))
					continue
				}
				if p.Offset == -1 { // UNKNOWN_OFFSET: no record at or after the timestamp
					continue
				}
				out = append(out, partitionOffset{topic: t.Topic, partition: p.Partition, offset: p.Offset})
			}
		}
	}
	// Kafka keeps the results in a TreeMap ordered by TopicPartition's
	// text, "topic-partition", so "t-10" sorts before "t-2".
	sort.Slice(out, func(i, j int) bool {
		return fmt.Sprintf("%s-%d", out[i].topic, out[i].partition) < fmt.Sprintf("%s-%d", out[j].topic, out[j].partition)
	})
	return out, nil
}
