package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const toolName = "kafka-transactions"

// now is the clock for TransactionDurationMs (tests replace it).
var now = func() int64 { return time.Now().UnixMilli() }

// failure is printErrorAndExit's text.
type failure struct{ msg string }

func (f *failure) Error() string { return f.msg }

func failWith(msg string, cause error) error {
	return &failure{msg + ": " + causeText(cause) + ". Enable debug logging for additional detail."}
}

// causeText is the Java exception's message: Kafka's default message for a
// broker error code, else the error's text.
func causeText(err error) string {
	if ke, ok := err.(*kerr.Error); ok {
		return ke.Description
	}
	if cli.Unreachable(err) {
		return cli.TimeoutError("", nil).Error()
	}
	return err.Error()
}

func codeErr(code int16) error {
	if code == 0 {
		return nil
	}
	return kerr.ErrorForCode(code)
}

type topicPartition struct {
	topic     string
	partition int32
}

func (tp topicPartition) String() string {
	return tp.topic + "-" + strconv.FormatInt(int64(tp.partition), 10)
}

func run(argv []string, _ io.Reader, stdout, stderr io.Writer) int {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	a, err := parse(argv)
	if err != nil {
		out.Flush()
		fmt.Fprintln(stderr, err)
		return 1
	}
	switch {
	case a.version:
		fmt.Fprintln(out, cli.KafkaVersion)
		return 0
	case a.help || a.commandHelpOnly:
		fmt.Fprint(out, usage())
		return 0
	}
	props := cli.Props{}
	if a.commandConfig != "" {
		if props, err = cli.LoadProps(a.commandConfig); err != nil {
			out.Flush()
			fmt.Fprintln(stderr, failWith("Failed to load admin client properties", err))
			return 1
		}
	}
	ctx := context.Background()
	cl, err := cli.NewClient(ctx, cli.ClientConfig{Bootstrap: a.bootstrap, Props: props, ClientID: "adminclient-1"})
	if err != nil {
		out.Flush()
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer cl.Close()
	cli.NoteIgnored(stderr, toolName, props)
	cctx, cancel := cl.Context(ctx)
	defer cancel()
	switch a.command {
	case "list":
		err = list(cctx, cl.Client, a, out)
	case "describe":
		err = describe(cctx, cl.Client, a, out)
	case "describe-producers":
		err = describeProducers(cctx, cl.Client, a, out)
	case "abort":
		err = abort(cctx, cl.Client, a)
	case "find-hanging":
		err = findHanging(cctx, cl.Client, a, out)
	}
	if err != nil {
		out.Flush()
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// printTable is Kafka's prettyPrintTable: every cell padded to its
// column's width and followed by a tab.
func printTable(w io.Writer, headers []string, rows [][]string) {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = len(h)
	}
	for _, r := range rows {
		for i := range headers {
			widths[i] = max(widths[i], len(r[i]))
		}
	}
	line := func(r []string) {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", widths[i]-len(c)))
			b.WriteByte('\t')
		}
		fmt.Fprintln(w, b.String())
	}
	line(headers)
	for _, r := range rows {
		line(r)
	}
}

func list(ctx context.Context, cl *kgo.Client, a *args, out io.Writer) error {
	req := kmsg.NewPtrListTransactionsRequest()
	req.DurationFilterMillis = -1
	if a.has("duration-filter") {
		req.DurationFilterMillis = a.num("duration-filter")
	}
	shards := cl.RequestSharded(ctx, req)
	type brokerRows struct {
		id   int32
		rows [][]string
	}
	var all []brokerRows
	for _, s := range shards {
		if s.Err != nil {
			return failWith("Failed to list transactions", s.Err)
		}
		resp := s.Resp.(*kmsg.ListTransactionsResponse)
		if err := codeErr(resp.ErrorCode); err != nil {
			return failWith("Failed to list transactions", err)
		}
		br := brokerRows{id: s.Meta.NodeID}
		for _, ts := range resp.TransactionStates {
			br.rows = append(br.rows, []string{ts.TransactionalID, strconv.Itoa(int(s.Meta.NodeID)),
				strconv.FormatInt(ts.ProducerID, 10), ts.TransactionState})
		}
		all = append(all, br)
	}
	// Kafka's result is a HashMap by broker id: small ids iterate in order.
	sort.SliceStable(all, func(i, j int) bool { return all[i].id < all[j].id })
	var rows [][]string
	for _, br := range all {
		rows = append(rows, br.rows...)
	}
	printTable(out, []string{"TransactionalId", "Coordinator", "ProducerId", "TransactionState"}, rows)
	return nil
}

func describe(ctx context.Context, cl *kgo.Client, a *args, out io.Writer) error {
	id := a.str("transactional-id")
	fail := func(err error) error {
		return failWith("Failed to describe transaction state of transactional-id `"+id+"`", err)
	}
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.CoordinatorType, fc.CoordinatorKeys = 1, []string{id}
	fc.CoordinatorKey = id
	fr, err := fc.RequestWith(ctx, cl)
	if err != nil {
		return fail(err)
	}
	coord, code := fr.NodeID, fr.ErrorCode
	if len(fr.Coordinators) > 0 {
		coord, code = fr.Coordinators[0].NodeID, fr.Coordinators[0].ErrorCode
	}
	if err := codeErr(code); err != nil {
		return fail(err)
	}
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{id}
	kr, err := cl.Broker(int(coord)).Request(ctx, req)
	if err != nil {
		return fail(err)
	}
	resp := kr.(*kmsg.DescribeTransactionsResponse)
	if len(resp.TransactionStates) != 1 {
		return fail(fmt.Errorf("the coordinator answered %d transactional ids", len(resp.TransactionStates)))
	}
	st := resp.TransactionStates[0]
	if err := codeErr(st.ErrorCode); err != nil {
		return fail(err)
	}
	start, duration := "None", "None"
	if st.StartTimestamp >= 0 {
		start = strconv.FormatInt(st.StartTimestamp, 10)
		duration = strconv.FormatInt(now()-st.StartTimestamp, 10)
	}
	var tps []topicPartition
	for _, t := range st.Topics {
		for _, p := range t.Partitions {
			tps = append(tps, topicPartition{t.Topic, p})
		}
	}
	names := make([]string, 0, len(tps))
	for _, i := range hashSetOrder(tps) {
		names = append(names, tps[i].String())
	}
	printTable(out, []string{"CoordinatorId", "TransactionalId", "ProducerId", "ProducerEpoch", "TransactionState",
		"TransactionTimeoutMs", "CurrentTransactionStartTimeMs", "TransactionDurationMs", "TopicPartitions"},
		[][]string{{strconv.Itoa(int(coord)), id, strconv.FormatInt(st.ProducerID, 10), strconv.Itoa(int(st.ProducerEpoch)),
			st.State, strconv.Itoa(int(st.TimeoutMillis)), start, duration, strings.Join(names, ",")}})
	return nil
}

// leaderOf finds the partition's leader from a Metadata answer.
func leaderOf(ctx context.Context, cl *kgo.Client, tp topicPartition) (int32, error) {
	m, err := cli.Metadata(ctx, cl, []string{tp.topic})
	if err != nil {
		return -1, err
	}
	for _, t := range m.Topics {
		if t.Topic == nil || *t.Topic != tp.topic {
			continue
		}
		if err := codeErr(t.ErrorCode); err != nil {
			return -1, err
		}
		for _, p := range t.Partitions {
			if p.Partition == tp.partition {
				if p.Leader < 0 {
					return -1, kerr.LeaderNotAvailable
				}
				return p.Leader, nil
			}
		}
	}
	return -1, kerr.UnknownTopicOrPartition
}

// producersOf is Admin.describeProducers for one partition: on brokerID,
// or on the leader when brokerID < 0.
func producersOf(ctx context.Context, cl *kgo.Client, tp topicPartition, brokerID int32) ([]kmsg.DescribeProducersResponseTopicPartitionActiveProducer, error) {
	target := brokerID
	if target < 0 {
		var err error
		if target, err = leaderOf(ctx, cl, tp); err != nil {
			return nil, err
		}
	}
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = tp.topic, []int32{tp.partition}
	req.Topics = append(req.Topics, rt)
	kr, err := cl.Broker(int(target)).Request(ctx, req)
	if err != nil {
		return nil, err
	}
	for _, t := range kr.(*kmsg.DescribeProducersResponse).Topics {
		for _, p := range t.Partitions {
			if t.Topic != tp.topic || p.Partition != tp.partition {
				continue
			}
			if p.ErrorCode == kerr.NotLeaderForPartition.Code && brokerID >= 0 {
				return nil, fmt.Errorf("Failed to describe active producers for partition %s on brokerId %d", tp, brokerID)
			}
			if err := codeErr(p.ErrorCode); err != nil {
				return nil, err
			}
			return p.ActiveProducers, nil
		}
	}
	return nil, fmt.Errorf("no answer for partition %s", tp)
}

func describeProducers(ctx context.Context, cl *kgo.Client, a *args, out io.Writer) error {
	tp := topicPartition{a.str("topic"), int32(a.num("partition"))}
	brokerID := int32(-1)
	where := "leader"
	if a.has("broker-id") {
		brokerID = int32(a.num("broker-id"))
		where = "broker " + strconv.Itoa(int(brokerID))
	}
	producers, err := producersOf(ctx, cl, tp, brokerID)
	if err != nil {
		return failWith("Failed to describe producers for partition "+tp.String()+" on "+where, err)
	}
	rows := make([][]string, 0, len(producers))
	for _, p := range producers {
		start := "None"
		if p.CurrentTxnStartOffset >= 0 {
			start = strconv.FormatInt(p.CurrentTxnStartOffset, 10)
		}
		rows = append(rows, []string{strconv.FormatInt(p.ProducerID, 10), strconv.Itoa(int(p.ProducerEpoch)),
			strconv.Itoa(int(max(p.CoordinatorEpoch, -1))), strconv.Itoa(int(p.LastSequence)),
			strconv.FormatInt(p.LastTimestamp, 10), start})
	}
	printTable(out, []string{"ProducerId", "ProducerEpoch", "LatestCoordinatorEpoch", "LastSequence", "LastTimestamp", "CurrentTransactionStartOffset"}, rows)
	return nil
}

// abortSpec is Kafka's AbortTransactionSpec.
type abortSpec struct {
	tp               topicPartition
	producerID       int64
	producerEpoch    int16
	coordinatorEpoch int32
}

func (s abortSpec) String() string {
	return fmt.Sprintf("AbortTransactionSpec(topicPartition=%s, producerId=%d, producerEpoch=%d, coordinatorEpoch=%d)",
		s.tp, s.producerID, s.producerEpoch, s.coordinatorEpoch)
}

func abort(ctx context.Context, cl *kgo.Client, a *args) error {
	tp := topicPartition{a.str("topic"), int32(a.num("partition"))}
	if !a.has("start-offset") && !a.has("producer-id") {
		return &failure{"The transaction to abort must be identified either with --start-offset (for brokers on 3.0 or above) " +
			"or with --producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)"}
	}
	var spec abortSpec
	if !a.has("start-offset") {
		if !a.has("producer-epoch") {
			return &failure{"Missing required argument --producer-epoch"}
		}
		if !a.has("coordinator-epoch") {
			return &failure{"Missing required argument --coordinator-epoch"}
		}
		spec = abortSpec{tp, a.num("producer-id"), int16(a.num("producer-epoch")), int32(max(a.num("coordinator-epoch"), 0))}
	} else {
		start := a.num("start-offset")
		producers, err := producersOf(ctx, cl, tp, -1)
		if err != nil {
			return failWith("Failed to validate producer state for partition "+tp.String(), err)
		}
		found := false
		for _, p := range producers {
			if p.CurrentTxnStartOffset >= 0 && p.CurrentTxnStartOffset == start {
				spec = abortSpec{tp, p.ProducerID, int16(p.ProducerEpoch), max(p.CoordinatorEpoch, 0)}
				found = true
				break
			}
		}
		if !found {
			return &failure{fmt.Sprintf("Could not find any open transactions starting at offset %d on partition %s", start, tp)}
		}
	}
	if err := writeAbortMarker(ctx, cl, spec); err != nil {
		return failWith("Failed to abort transaction "+spec.String(), err)
	}
	return nil
}

// writeAbortMarker is Admin.abortTransaction: an ABORT marker written by
// WriteTxnMarkers on the partition's leader.
func writeAbortMarker(ctx context.Context, cl *kgo.Client, s abortSpec) error {
	leader, err := leaderOf(ctx, cl, s.tp)
	if err != nil {
		return err
	}
	req := kmsg.NewPtrWriteTxnMarkersRequest()
	mk := kmsg.NewWriteTxnMarkersRequestMarker()
	mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = s.producerID, s.producerEpoch, false, s.coordinatorEpoch
	mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
	mt.Topic, mt.Partitions = s.tp.topic, []int32{s.tp.partition}
	mk.Topics = append(mk.Topics, mt)
	req.Markers = append(req.Markers, mk)
	kr, err := cl.Broker(int(leader)).Request(ctx, req)
	if err != nil {
		return err
	}
	for _, m := range kr.(*kmsg.WriteTxnMarkersResponse).Markers {
		for _, t := range m.Topics {
			for _, p := range t.Partitions {
				if t.Topic == s.tp.topic && p.Partition == s.tp.partition {
					return codeErr(p.ErrorCode)
				}
			}
		}
	}
	return fmt.Errorf("no answer for partition %s", s.tp)
}
