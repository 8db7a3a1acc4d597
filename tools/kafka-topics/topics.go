package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const (
	toolName     = "kafka-topics"
	errorPrefix  = "Error while executing topic command : "
	noArgsMsg    = "Create, delete, describe, or change a topic."
	helpMsg      = "This tool helps to create, delete, describe, or change a topic."
	defaultSrc   = 5 // DescribeConfigs ConfigSource DEFAULT_CONFIG
	minISRConfig = "min.insync.replicas"
)

// run is the whole tool: it parses args, runs the one action against the
// cluster, prints results to stdout and errors to stderr, and returns the
// exit status (0 on success, 1 on any error, as Kafka's tool does).
func run(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	c := &command{out: out, errw: stderr}
	return c.main(args)
}

type command struct {
	out  *bufio.Writer
	errw io.Writer
	o    *cli.Options
	cl   *cli.Client
}

func (c *command) main(args []string) int {
	o, err := parser.Parse(args)
	if err != nil {
		return c.fail(err)
	}
	c.o = o
	switch {
	case len(args) == 0:
		return c.usage(noArgsMsg)
	case o.Has("help"):
		return c.usage(helpMsg)
	case o.Has("version"):
		fmt.Fprintln(c.out, cli.KafkaVersion)
		return 0
	}
	if err := checkArgs(o); err != nil {
		return c.fail(err)
	}
	if o.Has("describe") && o.Has("if-exists") && o.Has("topic") && o.Has("topic-id") {
		fmt.Fprintln(c.out, "Only topic id will be used when both --topic and --topic-id are specified and topicId is not Uuid.ZERO_UUID")
	}

	props := cli.Props{}
	if o.Has("command-config") {
		path, _, err := o.Value("command-config")
		if err != nil {
			return c.fail(err)
		}
		if props, err = cli.LoadProps(path); err != nil {
			return c.fail(err)
		}
	}
	bootstrap, _, err := o.Value("bootstrap-server")
	if err != nil {
		return c.fail(err)
	}
	ctx := context.Background()
	cl, err := cli.NewClient(ctx, cli.ClientConfig{Bootstrap: bootstrap, Props: props, ClientID: "adminclient-1"})
	if err != nil {
		return c.fail(err)
	}
	defer cl.Close()
	cli.NoteIgnored(c.errw, toolName, props)
	c.cl = cl

	ctx, cancel := cl.Context(ctx)
	defer cancel()
	switch {
	case o.Has("create"):
		err = c.create(ctx)
	case o.Has("alter"):
		err = c.alter(ctx)
	case o.Has("list"):
		err = c.list(ctx)
	case o.Has("describe"):
		err = c.describe(ctx)
	case o.Has("delete"):
		err = c.delete(ctx)
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// usage is CommandLineUtils.printUsageAndExit: the message and the option
// table on stderr, exit status 1.
func (c *command) usage(msg string) int {
	c.out.Flush()
	fmt.Fprintf(c.errw, "%s\n%s", msg, parser.Help())
	return 1
}

// fail prints err as one line on stderr: argument errors bare, everything
// else behind Kafka's "Error while executing topic command : " (Kafka's tool
// prints that second kind on stdout; this tool keeps stdout for results).
func (c *command) fail(err error) int {
	c.out.Flush()
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(c.errw, ue.msg)
	} else {
		fmt.Fprintln(c.errw, errorPrefix+oneLine(err.Error()))
	}
	return 1
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }

// requestErr turns a failed request into the admin client's error.
func requestErr(call string, err error) error {
	if cli.Unreachable(err) {
		return cli.TimeoutError(call, err)
	}
	return err
}

func kafkaErr(code int16, msg *string) error {
	return cli.Messagef("%s", cli.ErrorMessage(code, msg))
}

func (c *command) timeoutMillis() int32 {
	return int32(min(c.cl.Timeout.Milliseconds(), math.MaxInt32))
}

// commandTopic is TopicCommand.CommandTopicPartition: the name, counts,
// manual assignment and configs of --create and --alter.
type commandTopic struct {
	name              string
	partitions        int32
	hasPartitions     bool
	replicationFactor int32
	hasRF             bool
	assignment        [][]int32
	configs           map[string]string
}

func (c *command) commandTopic() (*commandTopic, error) {
	t := &commandTopic{}
	var err error
	if t.name, _, err = c.o.Value("topic"); err != nil {
		return nil, err
	}
	if t.partitions, t.hasPartitions, err = c.o.Int("partitions"); err != nil {
		return nil, err
	}
	if t.replicationFactor, t.hasRF, err = c.o.Int("replication-factor"); err != nil {
		return nil, err
	}
	ra, ok, err := c.o.Value("replica-assignment")
	if err != nil {
		return nil, err
	}
	if ok && ra != "" {
		if t.assignment, err = parseReplicaAssignment(ra); err != nil {
			return nil, err
		}
	}
	if t.configs, err = parseTopicConfigs(c.o.Values("config")); err != nil {
		return nil, err
	}
	return t, nil
}

// parseReplicaAssignment reads "1:2,2:3": partitions separated by commas,
// broker ids of one partition by colons. Duplicate brokers within a
// partition and partitions of different sizes are errors, as in Kafka.
func parseReplicaAssignment(s string) ([][]int32, error) {
	var out [][]int32
	for i, part := range javaSplit(s, ",") {
		var brokers []int32
		seen := map[int32]int{}
		for _, b := range javaSplit(part, ":") {
			b = strings.TrimSpace(b)
			n, err := strconv.ParseInt(b, 10, 32)
			if err != nil {
				return nil, cli.Messagef("For input string: \"%s\"", b)
			}
			brokers = append(brokers, int32(n))
			seen[int32(n)]++
		}
		var dups []int
		for b, n := range seen {
			if n > 1 {
				dups = append(dups, int(b))
			}
		}
		if len(dups) > 0 {
			sort.Ints(dups)
			ds := make([]string, len(dups))
			for j, d := range dups {
				ds[j] = strconv.Itoa(d)
			}
			return nil, cli.Messagef("Partition replica lists may not contain duplicate entries: %s", strings.Join(ds, ","))
		}
		out = append(out, brokers)
		if len(brokers) != len(out[0]) {
			ids := make([]string, len(brokers))
			for j, b := range brokers {
				ids[j] = strconv.Itoa(int(b))
			}
			return nil, cli.Messagef("Partition %d has different replication factor: [%s]", i, strings.Join(ids, ", "))
		}
	}
	return out, nil
}

// javaSplit is String.split with a literal separator: trailing empty strings
// are dropped, but an empty input gives [""].
func javaSplit(s, sep string) []string {
	if s == "" {
		return []string{""}
	}
	parts := strings.Split(s, sep)
	for len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

func (c *command) create(ctx context.Context) error {
	t, err := c.commandTopic()
	if err != nil {
		return err
	}
	if strings.ContainsAny(t.name, "._") {
		fmt.Fprintln(c.out, "WARNING: Due to limitations in metric names, topics with a period ('.') or underscore ('_') could collide. To avoid issues it is best to use either, but not both.")
	}
	if t.hasRF && (t.replicationFactor > math.MaxInt16 || t.replicationFactor < 1) {
		return usage("The replication factor must be between 1 and %d inclusive", math.MaxInt16)
	}
	if t.hasPartitions && t.partitions < 1 {
		return usage("The partitions must be greater than 0")
	}
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = t.name
	rt.NumPartitions, rt.ReplicationFactor = -1, -1
	if len(t.assignment) > 0 {
		for p, brokers := range t.assignment {
			a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
			a.Partition = int32(p)
			a.Replicas = brokers
			rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
		}
	} else {
		if t.hasPartitions {
			rt.NumPartitions = t.partitions
		}
		if t.hasRF {
			rt.ReplicationFactor = int16(t.replicationFactor)
		}
	}
	names := make([]string, 0, len(t.configs))
	for k := range t.configs {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name = k
		cfg.Value = kmsg.StringPtr(t.configs[k])
		rt.Configs = append(rt.Configs, cfg)
	}
	req := kmsg.NewPtrCreateTopicsRequest()
	req.Topics = []kmsg.CreateTopicsRequestTopic{rt}
	req.TimeoutMillis = c.timeoutMillis()
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return requestErr("createTopics", err)
	}
	for _, r := range resp.Topics {
		if r.Topic != t.name || r.ErrorCode == 0 {
			continue
		}
		if r.ErrorCode == kerr.TopicAlreadyExists.Code && c.o.Has("if-not-exists") {
			return nil
		}
		return kafkaErr(r.ErrorCode, r.ErrorMessage)
	}
	fmt.Fprintf(c.out, "Created topic %s.\n", t.name)
	return nil
}

// topics is TopicService.getTopics: the sorted names of all topics (internal
// ones too unless --exclude-internal), filtered by --topic as a regular
// expression.
func (c *command) topics(ctx context.Context) ([]string, error) {
	exclude := c.o.Has("exclude-internal")
	all, err := cli.ListTopics(ctx, c.cl.Client, !exclude)
	if err != nil {
		return nil, requestErr("listTopics", err)
	}
	pattern, ok, err := c.o.Value("topic")
	if err != nil {
		return nil, err
	}
	var out []string
	if ok {
		f, err := cli.NewTopicFilter(pattern)
		if err != nil {
			return nil, err
		}
		for _, t := range all {
			if f.Allowed(t, exclude) {
				out = append(out, t)
			}
		}
		return out, nil
	}
	for _, t := range all {
		if !(cli.IsInternal(t) && exclude) {
			out = append(out, t)
		}
	}
	return out, nil
}

// ensureExists is TopicCommand.ensureTopicExists.
func (c *command) ensureExists(found []string) error {
	requested, ok, _ := c.o.Value("topic")
	if ok && requested != "" && !c.o.Has("if-exists") && len(found) == 0 {
		return usage("Topic '%s' does not exist as expected", requested)
	}
	return nil
}

func (c *command) list(ctx context.Context) error {
	names, err := c.topics(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.out, strings.Join(names, "\n"))
	return nil
}

func (c *command) delete(ctx context.Context) error {
	names, err := c.topics(ctx)
	if err != nil {
		return err
	}
	if err := c.ensureExists(names); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	req := kmsg.NewPtrDeleteTopicsRequest()
	req.TopicNames = names
	for _, n := range names {
		t := kmsg.NewDeleteTopicsRequestTopic()
		t.Topic = kmsg.StringPtr(n)
		req.Topics = append(req.Topics, t)
	}
	req.TimeoutMillis = c.timeoutMillis()
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return requestErr("deleteTopics", err)
	}
	for _, r := range resp.Topics {
		if r.ErrorCode != 0 {
			return kafkaErr(r.ErrorCode, r.ErrorMessage)
		}
	}
	return nil
}

func (c *command) alter(ctx context.Context) error {
	t, err := c.commandTopic()
	if err != nil {
		return err
	}
	names, err := c.topics(ctx)
	if err != nil {
		return err
	}
	if err := c.ensureExists(names); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	var existing map[string]int
	if len(t.assignment) > 0 {
		meta, err := cli.Metadata(ctx, c.cl.Client, names)
		if err != nil {
			return requestErr("describeTopics", err)
		}
		existing = map[string]int{}
		for _, mt := range meta.Topics {
			if mt.Topic == nil {
				continue
			}
			if mt.ErrorCode != 0 {
				return kafkaErr(mt.ErrorCode, nil)
			}
			existing[*mt.Topic] = len(mt.Partitions)
		}
	}
	req := kmsg.NewPtrCreatePartitionsRequest()
	req.TimeoutMillis = c.timeoutMillis()
	for _, n := range names {
		rt := kmsg.NewCreatePartitionsRequestTopic()
		rt.Topic = n
		rt.Count = t.partitions
		if len(t.assignment) > 0 {
			rt.Assignment = []kmsg.CreatePartitionsRequestTopicAssignment{}
			for p := existing[n]; p < len(t.assignment); p++ {
				a := kmsg.NewCreatePartitionsRequestTopicAssignment()
				a.Replicas = t.assignment[p]
				rt.Assignment = append(rt.Assignment, a)
			}
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return requestErr("createPartitions", err)
	}
	for _, r := range resp.Topics {
		if r.ErrorCode != 0 {
			return kafkaErr(r.ErrorCode, r.ErrorMessage)
		}
	}
	return nil
}

// parseUUID is Uuid.fromString; its errors are argument errors, as in
// Kafka.
func parseUUID(s string) ([16]byte, error) {
	var id [16]byte
	if len(s) > 24 {
		return id, usage("Input string with prefix `%s` is too long to be decoded as a base64 UUID", s[:24])
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return id, usage("Illegal base64 character in topic id `%s`", s)
	}
	if len(b) != 16 {
		return id, usage("Input string `%s` decoded as %d bytes, which is not equal to the expected 16 bytes of a base64-encoded UUID", s, len(b))
	}
	copy(id[:], b)
	return id, nil
}
