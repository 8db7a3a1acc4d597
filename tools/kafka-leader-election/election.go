package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const (
	toolName = "kafka-leader-election"
	helpMsg  = "This tool attempts to elect a new leader for a set of topic partitions. The type of elections supported are preferred replicas and unclean replicas."
	// toolTimeout is what Kafka's tool sets default.api.timeout.ms to
	// (request.timeout.ms: half of it) unless the config file sets them.
	toolTimeout = 30 * time.Second
)

// electionTypes are Kafka's ElectionType constants, by name.
var electionTypes = map[string]int8{"PREFERRED": 0, "UNCLEAN": 1}

// topicPartition is Kafka's TopicPartition.
type topicPartition struct {
	topic     string
	partition int32
}

func (tp topicPartition) String() string {
	return tp.topic + "-" + strconv.FormatInt(int64(tp.partition), 10)
}

// run is the whole tool; it returns the exit status.
func run(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	fail := func(err error) int {
		out.Flush()
		fmt.Fprintln(stderr, err.Error())
		return 1
	}
	o, err := parser.Parse(args)
	if err != nil {
		return fail(err)
	}
	switch {
	case len(args) == 0 || o.Has("help"):
		out.Flush()
		fmt.Fprintf(stderr, "%s\n%s", helpMsg, parser.Help())
		return 1
	case o.Has("version"):
		fmt.Fprintln(out, cli.KafkaVersion)
		return 0
	}
	if err := validate(o); err != nil {
		return fail(err)
	}
	typeName, _, err := o.Value("election-type")
	if err != nil {
		return fail(err)
	}
	electionType, ok := electionTypes[strings.ToUpper(typeName)]
	if !ok {
		return fail(cli.Errorf("Cannot parse argument '%s' of option election-type", typeName))
	}
	typeName = strings.ToUpper(typeName)

	// nil: every partition (--all-topic-partitions).
	var partitions []topicPartition
	if o.Has("path-to-json-file") {
		path, _, err := o.Value("path-to-json-file")
		if err != nil {
			return fail(err)
		}
		if partitions, err = readElectionFile(path); err != nil {
			return fail(err)
		}
		if partitions == nil {
			partitions = []topicPartition{}
		}
	}
	if o.Has("topic") {
		topic, _, err := o.Value("topic")
		if err != nil {
			return fail(err)
		}
		p, _, err := o.Int("partition")
		if err != nil {
			return fail(err)
		}
		partitions = []topicPartition{{topic, p}}
	}

	props := cli.Props{}
	if o.Has("admin.config") {
		path, _, err := o.Value("admin.config")
		if err != nil {
			return fail(err)
		}
		if props, err = cli.LoadProps(path); err != nil {
			return fail(err)
		}
	}
	if _, ok := props["default.api.timeout.ms"]; !ok {
		props["default.api.timeout.ms"] = strconv.FormatInt(toolTimeout.Milliseconds(), 10)
	}
	if _, ok := props["request.timeout.ms"]; !ok {
		props["request.timeout.ms"] = strconv.FormatInt(toolTimeout.Milliseconds()/2, 10)
	}
	bootstrap, _, err := o.Value("bootstrap-server")
	if err != nil {
		return fail(err)
	}
	ctx := context.Background()
	cl, err := cli.NewClient(ctx, cli.ClientConfig{Bootstrap: bootstrap, Props: props, ClientID: "adminclient-1"})
	if err != nil {
		return fail(err)
	}
	defer cl.Close()
	cli.NoteIgnored(stderr, toolName, props)

	results, err := elect(ctx, cl, electionType, partitions)
	if err != nil {
		var pe *printedError
		if errors.As(err, &pe) {
			fmt.Fprintln(out, pe.msg)
		}
		return fail(err)
	}
	if failed := report(out, typeName, results); failed > 0 {
		return fail(cli.Messagef("%d replica(s) could not be elected", failed))
	}
	return 0
}

// validate is LeaderElectionCommandOptions.validate.
func validate(o *cli.Options) error {
	var missing []string
	for _, name := range []string{"bootstrap-server", "election-type"} {
		if !o.Has(name) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return cli.Messagef("Missing required option(s): %s", strings.Join(missing, ", "))
	}
	exclusive := []string{"topic", "all-topic-partitions", "path-to-json-file"}
	n := 0
	for _, name := range exclusive {
		if o.Has(name) {
			n++
		}
	}
	if n != 1 {
		return cli.Messagef("One and only one of the following options is required: %s", strings.Join(exclusive, ", "))
	}
	if o.Has("topic") && !o.Has("partition") {
		return cli.Messagef("Missing required option(s): partition")
	}
	if !o.Has("topic") && o.Has("partition") {
		return cli.Messagef("Option partition is only allowed if topic is used")
	}
	return nil
}

// readElectionFile reads --path-to-json-file with the Java tool's rules
// and messages: not JSON (or empty) is "Replica election data is empty", a
// document without "partitions" or with a duplicate partition is refused.
func readElectionFile(path string) ([]topicPartition, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, cli.Messagef("java.nio.file.NoSuchFileException: %s", path)
		}
		return nil, cli.Messagef("java.io.IOException: %s", path)
	}
	if len(bytes.TrimSpace(data)) == 0 || !json.Valid(data) {
		return nil, cli.Messagef("Replica election data is empty")
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, cli.Messagef("Replica election data is empty")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, mappingError("Expected JSON object, received %s", compact(doc))
	}
	raw, ok := obj["partitions"]
	if !ok {
		return nil, cli.Messagef("Replica election data is missing \"partitions\" field")
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, mappingError("Expected JSON array, received %s", compact(raw))
	}
	var tps []topicPartition
	for _, e := range list {
		entry, ok := e.(map[string]any)
		if !ok {
			return nil, mappingError("Expected JSON object, received %s", compact(e))
		}
		topicV, ok := entry["topic"]
		if !ok {
			return nil, mappingError("No such field exists: `topic`")
		}
		topic, ok := topicV.(string)
		if !ok {
			return nil, mappingError("Expected `String` value, received %s", compact(topicV))
		}
		partV, ok := entry["partition"]
		if !ok {
			return nil, mappingError("No such field exists: `partition`")
		}
		num, ok := partV.(json.Number)
		p, err := strconv.ParseInt(string(num), 10, 32)
		if !ok || err != nil {
			return nil, mappingError("Expected `Int` value, received %s", compact(partV))
		}
		tps = append(tps, topicPartition{topic, int32(p)})
	}
	count := map[topicPartition]int{}
	for _, tp := range tps {
		count[tp]++
	}
	var dups []topicPartition
	var unique []topicPartition
	for _, tp := range tps {
		switch count[tp] {
		case 1:
			unique = append(unique, tp)
		case 0:
		default:
			dups = append(dups, tp)
			count[tp] = 0
		}
	}
	if len(dups) > 0 {
		var names []string
		for _, i := range hashSetOrder(dups) {
			names = append(names, dups[i].String())
		}
		return nil, cli.Messagef("Replica election data contains duplicate partitions: [%s]", strings.Join(names, ", "))
	}
	return unique, nil
}

func mappingError(format string, args ...any) error {
	return cli.Messagef("com.fasterxml.jackson.databind.JsonMappingException: "+format, args...)
}

func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// printedError is a failure the Java tool prints on stdout before failing
// with the same message ("Timeout waiting for election results", "Not
// authorized to perform leader election").
type printedError struct{ msg string }

func (e *printedError) Error() string { return e.msg }

// result is one partition's answer.
type result struct {
	tp   topicPartition
	code int16
	msg  *string
}

// elect sends ElectLeaders (franz-go sends it to the controller and tries
// again elsewhere on NOT_CONTROLLER) and returns the per-partition
// results, in the order of the answer.
func elect(ctx context.Context, cl *cli.Client, electionType int8, partitions []topicPartition) ([]result, error) {
	req := kmsg.NewPtrElectLeadersRequest()
	req.ElectionType = electionType
	req.TimeoutMillis = int32(min(cl.Timeout.Milliseconds(), math.MaxInt32))
	if partitions != nil {
		req.Topics = []kmsg.ElectLeadersRequestTopic{}
		index := map[string]int{}
		for _, tp := range partitions {
			i, ok := index[tp.topic]
			if !ok {
				t := kmsg.NewElectLeadersRequestTopic()
				t.Topic = tp.topic
				req.Topics = append(req.Topics, t)
				i = len(req.Topics) - 1
				index[tp.topic] = i
			}
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, tp.partition)
		}
	}
	ctx, cancel := cl.Context(ctx)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl.Client)
	if err != nil {
		if cli.Unreachable(err) {
			return nil, &printedError{msg: "Timeout waiting for election results"}
		}
		return nil, cli.Messagef("java.util.concurrent.ExecutionException: %s", err)
	}
	if resp.ErrorCode != 0 {
		switch resp.ErrorCode {
		case kerr.RequestTimedOut.Code:
			return nil, &printedError{msg: "Timeout waiting for election results"}
		case kerr.ClusterAuthorizationFailed.Code:
			return nil, &printedError{msg: "Not authorized to perform leader election"}
		}
		return nil, cli.Messagef("java.util.concurrent.ExecutionException: %s", javaException(resp.ErrorCode, nil))
	}
	var out []result
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			out = append(out, result{tp: topicPartition{rt.Topic, p.Partition}, code: p.ErrorCode, msg: p.ErrorMessage})
		}
	}
	return out, nil
}

// report prints the Java tool's lines and returns how many partitions
// failed. The admin client collects the answer in a HashMap, the tool
// splits it into two HashSets and a HashMap and prints each in its own
// iteration order.
func report(out io.Writer, electionType string, results []result) int {
	// The admin client's map: one entry per partition, the last answer
	// winning, in the map's iteration order.
	seen := map[topicPartition]int{}
	var entries []result
	for _, r := range results {
		if i, ok := seen[r.tp]; ok {
			entries[i] = r
			continue
		}
		seen[r.tp] = len(entries)
		entries = append(entries, r)
	}
	keys := make([]topicPartition, len(entries))
	for i, e := range entries {
		keys[i] = e.tp
	}
	var succeeded, noop []topicPartition
	var failed []result
	for _, i := range hashSetOrder(keys) {
		e := entries[i]
		switch e.code {
		case 0:
			succeeded = append(succeeded, e.tp)
		case kerr.ElectionNotNeeded.Code:
			noop = append(noop, e.tp)
		default:
			failed = append(failed, e)
		}
	}
	if len(succeeded) > 0 {
		fmt.Fprintf(out, "Successfully completed leader election (%s) for partitions %s\n", electionType, joinInHashOrder(succeeded))
	}
	if len(noop) > 0 {
		fmt.Fprintf(out, "Valid replica already elected for partitions %s\n", joinInHashOrder(noop))
	}
	failedKeys := make([]topicPartition, len(failed))
	for i, f := range failed {
		failedKeys[i] = f.tp
	}
	for _, i := range hashSetOrder(failedKeys) {
		f := failed[i]
		fmt.Fprintf(out, "Error completing leader election (%s) for partition: %s: %s\n", electionType, f.tp, javaException(f.code, f.msg))
	}
	return len(failed)
}

func joinInHashOrder(tps []topicPartition) string {
	names := make([]string, 0, len(tps))
	for _, i := range hashSetOrder(tps) {
		names = append(names, tps[i].String())
	}
	return strings.Join(names, ", ")
}
