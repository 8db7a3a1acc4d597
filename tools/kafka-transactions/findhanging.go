package main

// find-hanging: open transactions on partitions that no coordinator will
// ever end. A transaction is a candidate when a partition's producer state
// shows it open and its last write is older than --max-transaction-timeout;
// a candidate hangs when no coordinator lists its producer id, when the
// coordinator no longer knows the producer's transactional id, or when the
// coordinator's description of that transactional id does not include the
// partition (so no marker is on its way there).

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// findHangingBatch is how many topics go into one Metadata request and how
// many partitions into one DescribeProducers request (Kafka's 500).
const findHangingBatch = 500

var findHangingHeaders = []string{"Topic", "Partition", "ProducerId", "ProducerEpoch", "CoordinatorEpoch",
	"StartOffset", "LastTimestamp", "Duration(min)"}

// retryBackoff separates retries of answers Kafka's admin client retries.
const retryBackoff = 100 * time.Millisecond

type activeProducer = kmsg.DescribeProducersResponseTopicPartitionActiveProducer

// openTxn is one producer's open transaction on one partition.
type openTxn struct {
	tp topicPartition
	p  activeProducer
}

// partitionProducers is a DescribeProducers answer for one partition.
type partitionProducers struct {
	tp        topicPartition
	producers []activeProducer
}

// txnDescription is the part of a DescribeTransactions answer find-hanging
// uses: the partitions the coordinator still has to write markers to.
type txnDescription struct {
	partitions map[topicPartition]bool
}

// optionalInt prints a Java Optional<Integer> as Kafka's message does.
func optionalInt(v int32, present bool) string {
	if !present {
		return "Optional.empty"
	}
	return "Optional[" + strconv.Itoa(int(v)) + "]"
}

func findHanging(ctx context.Context, cl *kgo.Client, a *args, out io.Writer) error {
	if !a.has("topic") && !a.has("broker-id") {
		return &failure{"The `find-hanging` command requires either --topic or --broker-id to limit the scope of the search"}
	}
	if a.has("partition") && !a.has("topic") {
		return &failure{"The --partition argument requires --topic to be provided"}
	}
	brokerID, hasBroker := int32(a.num("broker-id")), a.has("broker-id")
	maxTimeoutMs := int64(15) * 60000
	if a.has("max-transaction-timeout") {
		maxTimeoutMs = int64(int32(a.num("max-transaction-timeout"))) * 60000
	}

	tps, err := partitionsToSearch(ctx, cl, a, brokerID, hasBroker)
	if err != nil {
		return err
	}
	var candidates []openTxn
	for start := 0; start < len(tps); start += findHangingBatch {
		batch := tps[start:min(len(tps), start+findHangingBatch)]
		states, err := describeProducersBatch(ctx, cl, batch, brokerID, hasBroker)
		if err != nil {
			return failWith(fmt.Sprintf("Failed to describe producers for %d partitions on broker %s",
				len(batch), optionalInt(brokerID, hasBroker)), err)
		}
		candidates = append(candidates, openCandidates(states, now(), maxTimeoutMs)...)
	}
	if len(candidates) == 0 {
		printTable(out, findHangingHeaders, nil)
		return nil
	}
	pids, groups := groupByProducer(candidates)
	txnIDs, err := transactionalIDsOf(ctx, cl, pids)
	if err != nil {
		return failWith(fmt.Sprintf("Failed to list transactions for %d producers", len(pids)), err)
	}
	descs, err := describeForHanging(ctx, cl, txnIDs)
	if err != nil {
		return failWith(fmt.Sprintf("Failed to describe %d transactions", len(txnIDs)), err)
	}
	printTable(out, findHangingHeaders, hangingRows(filterHanging(pids, groups, txnIDs, descs), now()))
	return nil
}

// partitionsToSearch is the --topic/--partition partition, or every
// partition of --topic or of every topic (internal ones too), keeping those
// with a replica on --broker-id when it is given.
func partitionsToSearch(ctx context.Context, cl *kgo.Client, a *args, brokerID int32, hasBroker bool) ([]topicPartition, error) {
	var topics []string
	if a.has("topic") {
		if a.has("partition") {
			return []topicPartition{{a.str("topic"), int32(a.num("partition"))}}, nil
		}
		topics = []string{a.str("topic")}
	} else {
		names, err := cli.ListTopics(ctx, cl, true)
		if err != nil {
			return nil, failWith("Failed to list topics", err)
		}
		// Admin.listTopics answers a set: its order is a HashMap's.
		for _, i := range cli.HashMapOrder(names, 0) {
			topics = append(topics, names[i])
		}
	}
	var tps []topicPartition
	for start := 0; start < len(topics); start += findHangingBatch {
		batch := topics[start:min(len(topics), start+findHangingBatch)]
		found, err := topicPartitionsOf(ctx, cl, batch, brokerID, hasBroker)
		if err != nil {
			return nil, failWith(fmt.Sprintf("Failed to describe %d topics", len(batch)), err)
		}
		tps = append(tps, found...)
	}
	return tps, nil
}

// topicPartitionsOf is Admin.describeTopics for a batch of topics: the
// partitions (by id) of each, in the order of the HashMap of descriptions.
func topicPartitionsOf(ctx context.Context, cl *kgo.Client, topics []string, brokerID int32, hasBroker bool) ([]topicPartition, error) {
	m, err := cli.Metadata(ctx, cl, topics)
	if err != nil {
		return nil, err
	}
	byName := map[string]kmsg.MetadataResponseTopic{}
	for _, t := range m.Topics {
		if t.Topic != nil {
			byName[*t.Topic] = t
		}
	}
	for _, name := range topics {
		t, ok := byName[name]
		if !ok {
			return nil, kerr.UnknownTopicOrPartition
		}
		if err := codeErr(t.ErrorCode); err != nil {
			return nil, err
		}
	}
	var tps []topicPartition
	for _, i := range cli.HashMapOrder(topics, 0) {
		t := byName[topics[i]]
		parts := append([]kmsg.MetadataResponseTopicPartition(nil), t.Partitions...)
		sort.Slice(parts, func(x, y int) bool { return parts[x].Partition < parts[y].Partition })
		for _, p := range parts {
			if hasBroker && !containsID(p.Replicas, brokerID) {
				continue
			}
			tps = append(tps, topicPartition{topics[i], p.Partition})
		}
	}
	return tps, nil
}

func containsID(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// describeProducersBatch is Admin.describeProducers for a batch of
// partitions: sent to --broker-id when given, else to each partition's
// leader. The answers come back in the order Kafka's result map iterates.
func describeProducersBatch(ctx context.Context, cl *kgo.Client, tps []topicPartition, brokerID int32, hasBroker bool) ([]partitionProducers, error) {
	got := map[topicPartition][]activeProducer{}
	pending := append([]topicPartition(nil), tps...)
	for len(pending) > 0 {
		req := kmsg.NewPtrDescribeProducersRequest()
		idx := map[string]int{}
		for _, tp := range pending {
			i, ok := idx[tp.topic]
			if !ok {
				i = len(req.Topics)
				idx[tp.topic] = i
				rt := kmsg.NewDescribeProducersRequestTopic()
				rt.Topic = tp.topic
				req.Topics = append(req.Topics, rt)
			}
			req.Topics[i].Partitions = append(req.Topics[i].Partitions, tp.partition)
		}
		var resps []*kmsg.DescribeProducersResponse
		if hasBroker {
			kr, err := cl.Broker(int(brokerID)).Request(ctx, req)
			if err != nil {
				return nil, err
			}
			resps = append(resps, kr.(*kmsg.DescribeProducersResponse))
		} else {
			for _, s := range cl.RequestSharded(ctx, req) {
				if s.Err != nil {
					return nil, s.Err
				}
				resps = append(resps, s.Resp.(*kmsg.DescribeProducersResponse))
			}
		}
		var retry []topicPartition
		for _, r := range resps {
			for _, t := range r.Topics {
				for _, p := range t.Partitions {
					tp := topicPartition{t.Topic, p.Partition}
					switch {
					case p.ErrorCode == 0:
						got[tp] = p.ActiveProducers
					case p.ErrorCode == kerr.NotLeaderForPartition.Code && hasBroker:
						return nil, fmt.Errorf("Failed to describe active producers for partition %s on brokerId %d", tp, brokerID)
					case p.ErrorCode == kerr.NotLeaderForPartition.Code || p.ErrorCode == kerr.UnknownTopicOrPartition.Code:
						retry = append(retry, tp) // Kafka's admin client retries these
					case p.ErrorCode == kerr.InvalidTopicException.Code:
						return nil, fmt.Errorf("Failed to fetch metadata for partition %s due to invalid topic error: %s", tp, cli.ErrorMessage(p.ErrorCode, p.ErrorMessage))
					case p.ErrorCode == kerr.TopicAuthorizationFailed.Code:
						return nil, fmt.Errorf("Failed to describe active producers for partition %s due to authorization failure on topic `%s`", tp, tp.topic)
					default:
						return nil, fmt.Errorf("Failed to describe active producers for partition %s due to unexpected error", tp)
					}
				}
			}
		}
		for _, tp := range pending {
			if _, ok := got[tp]; !ok && !containsTP(retry, tp) {
				retry = append(retry, tp) // not in the answer: ask again
			}
		}
		if len(retry) > 0 {
			if err := backoff(ctx); err != nil {
				return nil, err
			}
		}
		pending = retry
	}
	// DescribeProducersResult.all(): a HashMap(n) filled from the futures
	// map, itself collected from a HashSet of the requested partitions.
	order := make([]int, len(tps))
	for i := range order {
		order[i] = i
	}
	hashes := make([]int32, len(tps))
	for i, tp := range tps {
		hashes[i] = tp.javaHash()
	}
	n := len(tps)
	order = cli.HashOrder(hashes, order, cli.HashMapCapacity(n, max(int(float32(n)/0.75)+1, 16)))
	order = cli.HashOrder(hashes, order, cli.HashMapCapacity(n, 0))
	order = cli.HashOrder(hashes, order, cli.HashMapCapacity(n, n))
	res := make([]partitionProducers, 0, n)
	for _, i := range order {
		res = append(res, partitionProducers{tps[i], got[tps[i]]})
	}
	return res, nil
}

func containsTP(tps []topicPartition, tp topicPartition) bool {
	for _, x := range tps {
		if x == tp {
			return true
		}
	}
	return false
}

func backoff(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(retryBackoff):
		return nil
	}
}

// javaLongHash is Long.hashCode.
func javaLongHash(v int64) int32 { return int32(v ^ int64(uint64(v)>>32)) }

// openCandidates keeps the open transactions whose last write is more than
// maxTimeoutMs before nowMs.
func openCandidates(states []partitionProducers, nowMs, maxTimeoutMs int64) []openTxn {
	var res []openTxn
	for _, s := range states {
		for _, p := range s.producers {
			if p.CurrentTxnStartOffset >= 0 && nowMs-p.LastTimestamp > maxTimeoutMs {
				res = append(res, openTxn{s.tp, p})
			}
		}
	}
	return res
}

// groupByProducer groups the candidates by producer id; the ids come in the
// order of Kafka's HashMap<Long, ...>.
func groupByProducer(txns []openTxn) ([]int64, map[int64][]openTxn) {
	groups := map[int64][]openTxn{}
	var pids []int64
	for _, tx := range txns {
		if _, ok := groups[tx.p.ProducerID]; !ok {
			pids = append(pids, tx.p.ProducerID)
		}
		groups[tx.p.ProducerID] = append(groups[tx.p.ProducerID], tx)
	}
	hashes := make([]int32, len(pids))
	for i, pid := range pids {
		hashes[i] = javaLongHash(pid)
	}
	ordered := make([]int64, 0, len(pids))
	for _, i := range cli.HashSetOrder(hashes) {
		ordered = append(ordered, pids[i])
	}
	return ordered, groups
}

// transactionalIDsOf asks every broker with ListTransactions which
// transactional ids the producer ids belong to.
func transactionalIDsOf(ctx context.Context, cl *kgo.Client, pids []int64) (map[int64]string, error) {
	want := map[int64]bool{}
	for _, pid := range pids {
		want[pid] = true
	}
	for {
		req := kmsg.NewPtrListTransactionsRequest()
		req.ProducerIDFilters = append([]int64(nil), pids...)
		req.DurationFilterMillis = -1
		ids := map[int64]string{}
		loading := false
		for _, s := range cl.RequestSharded(ctx, req) {
			if s.Err != nil {
				return nil, s.Err
			}
			resp := s.Resp.(*kmsg.ListTransactionsResponse)
			node := s.Meta.NodeID
			switch resp.ErrorCode {
			case 0:
			case kerr.CoordinatorLoadInProgress.Code:
				loading = true
				continue
			case kerr.CoordinatorNotAvailable.Code:
				return nil, fmt.Errorf("ListTransactions request sent to broker %d failed because the coordinator is shutting down", node)
			default:
				return nil, fmt.Errorf("ListTransactions request sent to broker %d failed with an unexpected exception", node)
			}
			for _, ts := range resp.TransactionStates {
				if want[ts.ProducerID] {
					ids[ts.ProducerID] = ts.TransactionalID
				}
			}
		}
		if !loading {
			return ids, nil
		}
		if err := backoff(ctx); err != nil {
			return nil, err
		}
	}
}

// describeForHanging describes the transactional ids on their
// coordinators; an id the coordinator does not know maps to nil.
func describeForHanging(ctx context.Context, cl *kgo.Client, txnIDs map[int64]string) (map[string]*txnDescription, error) {
	res := map[string]*txnDescription{}
	var pending []string
	for _, id := range txnIDs {
		if _, ok := res[id]; !ok {
			res[id] = nil
			pending = append(pending, id)
		}
	}
	sort.Strings(pending)
	for len(pending) > 0 {
		req := kmsg.NewPtrDescribeTransactionsRequest()
		req.TransactionalIDs = pending
		var retry []string
		answered := map[string]bool{}
		for _, s := range cl.RequestSharded(ctx, req) {
			if s.Err != nil {
				if ke, ok := s.Err.(*kerr.Error); ok && ke.Retriable {
					retry = append(retry, s.Req.(*kmsg.DescribeTransactionsRequest).TransactionalIDs...)
					continue
				}
				return nil, s.Err
			}
			for _, st := range s.Resp.(*kmsg.DescribeTransactionsResponse).TransactionStates {
				if _, asked := res[st.TransactionalID]; !asked {
					continue
				}
				answered[st.TransactionalID] = true
				switch st.ErrorCode {
				case 0:
					d := &txnDescription{partitions: map[topicPartition]bool{}}
					for _, t := range st.Topics {
						for _, p := range t.Partitions {
							d.partitions[topicPartition{t.Topic, p}] = true
						}
					}
					res[st.TransactionalID] = d
				case kerr.TransactionalIDNotFound.Code:
					res[st.TransactionalID] = nil
				case kerr.CoordinatorLoadInProgress.Code, kerr.NotCoordinator.Code, kerr.CoordinatorNotAvailable.Code:
					retry = append(retry, st.TransactionalID)
				case kerr.TransactionalIDAuthorizationFailed.Code:
					return nil, fmt.Errorf("DescribeTransactions request for transactionalId `%s` failed due to authorization failure", st.TransactionalID)
				default:
					return nil, fmt.Errorf("DescribeTransactions request for transactionalId `%s` failed due to unexpected error", st.TransactionalID)
				}
			}
		}
		for _, id := range pending {
			if !answered[id] && !containsString(retry, id) {
				retry = append(retry, id)
			}
		}
		if len(retry) > 0 {
			if err := backoff(ctx); err != nil {
				return nil, err
			}
		}
		pending = retry
	}
	return res, nil
}

func containsString(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// filterHanging keeps, producer by producer (in pids' order), the open
// transactions no coordinator will end: every one of a producer id no
// coordinator lists or whose transactional id is unknown, and otherwise
// those on partitions missing from the coordinator's description.
func filterHanging(pids []int64, groups map[int64][]openTxn, txnIDs map[int64]string, descs map[string]*txnDescription) []openTxn {
	var res []openTxn
	for _, pid := range pids {
		id, ok := txnIDs[pid]
		if !ok || descs[id] == nil {
			res = append(res, groups[pid]...)
			continue
		}
		for _, tx := range groups[pid] {
			if !descs[id].partitions[tx.tp] {
				res = append(res, tx)
			}
		}
	}
	return res
}

// hangingRows are the table's rows; Duration(min) is whole minutes since
// the producer's last write.
func hangingRows(txns []openTxn, nowMs int64) [][]string {
	rows := make([][]string, 0, len(txns))
	for _, tx := range txns {
		rows = append(rows, []string{
			tx.tp.topic,
			strconv.Itoa(int(tx.tp.partition)),
			strconv.FormatInt(tx.p.ProducerID, 10),
			strconv.Itoa(int(tx.p.ProducerEpoch)),
			strconv.Itoa(int(max(tx.p.CoordinatorEpoch, -1))),
			strconv.FormatInt(max(tx.p.CurrentTxnStartOffset, -1), 10),
			strconv.FormatInt(tx.p.LastTimestamp, 10),
			strconv.FormatInt((nowMs-tx.p.LastTimestamp)/60000, 10),
		})
	}
	return rows
}
