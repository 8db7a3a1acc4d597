package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/zkmeta"
)

func ids(b ...model.BrokerID) []model.BrokerID { return b }

func TestPreferredLeader(t *testing.T) {
	for _, tc := range []struct {
		name     string
		replicas []model.BrokerID
		isr      []model.BrokerID
		live     []model.BrokerID
		leader   model.BrokerID
		ok       bool
	}{
		{name: "head live and in ISR", replicas: ids(2, 1, 3), isr: ids(1, 3, 2), live: ids(1, 2, 3), leader: 2, ok: true},
		{name: "head not in ISR", replicas: ids(2, 1, 3), isr: ids(1, 3), live: ids(1, 2, 3), leader: model.NoLeader},
		{name: "head not live (or shutting down)", replicas: ids(2, 1, 3), isr: ids(1, 2, 3), live: ids(1, 3), leader: model.NoLeader},
		{name: "never the next replica", replicas: ids(2, 1), isr: ids(1), live: ids(1), leader: model.NoLeader},
		{name: "no replicas", leader: model.NoLeader},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leader, ok := preferredLeader(tc.replicas, tc.isr, liveSet(tc.live...))
			if leader != tc.leader || ok != tc.ok {
				t.Fatalf("preferredLeader = %d %v, want %d %v", leader, ok, tc.leader, tc.ok)
			}
		})
	}
}

// part builds a rebalancePartition "t-p" with replicas and leader/ISR
// (leader -2: no state znode yet).
func part(name string, replicas []model.BrokerID, leader model.BrokerID, isr ...model.BrokerID) rebalancePartition {
	var tp model.TopicPartition
	i := strings.LastIndexByte(name, '-')
	tp.Topic = name[:i]
	fmt.Sscan(name[i+1:], &tp.Partition)
	p := rebalancePartition{tp: tp, replicas: replicas}
	if leader != -2 {
		p.hasState = true
		p.state = model.LeaderAndISR{Leader: leader, ISR: isr}
	}
	return p
}

func TestRebalanceCandidates(t *testing.T) {
	type row struct {
		broker     model.BrokerID
		preferred  int
		notLeading string
	}
	for _, tc := range []struct {
		name    string
		parts   []rebalancePartition
		pct     int32
		live    []model.BrokerID
		brokers []row
		elect   string
	}{
		{
			name: "balanced: nothing to do",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2), 1, 1, 2), part("a-1", ids(2, 1), 2, 2, 1),
			},
			pct: 10, live: ids(1, 2),
			brokers: []row{{1, 1, ""}, {2, 1, ""}},
		},
		{
			name: "broker back after a restart gets its leaderships back",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2, 3), 2, 2, 3, 1), part("a-1", ids(2, 3, 1), 2, 2, 3, 1),
				part("a-2", ids(3, 1, 2), 3, 3, 2, 1), part("b-0", ids(1, 3, 2), 3, 3, 2, 1),
			},
			pct: 10, live: ids(1, 2, 3),
			brokers: []row{{1, 2, "a-0 b-0"}, {2, 1, ""}, {3, 1, ""}},
			elect:   "a-0 b-0",
		},
		{
			name: "preferred replica not yet back in the ISR is not elected",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2), 2, 2), part("a-1", ids(1, 2), 2, 2, 1),
			},
			pct: 10, live: ids(1, 2),
			brokers: []row{{1, 2, "a-0 a-1"}},
			elect:   "a-1",
		},
		{
			name: "dead preferred replica: over the threshold but nobody to elect",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2), 2, 2, 1),
			},
			pct: 10, live: ids(2),
			brokers: []row{{1, 1, "a-0"}},
		},
		{
			name: "ratio equal to the percentage is not above it",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2), 2, 1, 2), part("a-1", ids(1, 2), 1, 1, 2), part("a-2", ids(1, 2), 1, 1, 2),
				part("a-3", ids(1, 2), 1, 1, 2), part("a-4", ids(1, 2), 1, 1, 2), part("a-5", ids(1, 2), 1, 1, 2),
				part("a-6", ids(1, 2), 1, 1, 2), part("a-7", ids(1, 2), 1, 1, 2), part("a-8", ids(1, 2), 1, 1, 2),
				part("a-9", ids(1, 2), 1, 1, 2),
			},
			pct: 10, live: ids(1, 2),
			brokers: []row{{1, 10, "a-0"}},
		},
		{
			name: "ratio just above the percentage",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2), 2, 1, 2), part("a-1", ids(1, 2), 1, 1, 2), part("a-2", ids(1, 2), 1, 1, 2),
				part("a-3", ids(1, 2), 1, 1, 2), part("a-4", ids(1, 2), 1, 1, 2), part("a-5", ids(1, 2), 1, 1, 2),
				part("a-6", ids(1, 2), 1, 1, 2), part("a-7", ids(1, 2), 1, 1, 2), part("a-8", ids(1, 2), 1, 1, 2),
			},
			pct: 10, live: ids(1, 2),
			brokers: []row{{1, 9, "a-0"}},
			elect:   "a-0",
		},
		{
			name: "per broker: only the broker above the threshold is rebalanced",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2), 2, 1, 2), part("a-1", ids(1, 2), 1, 1, 2), part("a-2", ids(1, 2), 1, 1, 2),
				part("a-3", ids(2, 1), 1, 1, 2), part("a-4", ids(2, 1), 2, 1, 2),
			},
			pct: 40, live: ids(1, 2),
			brokers: []row{{1, 3, "a-0"}, {2, 2, "a-3"}},
			elect:   "a-3",
		},
		{
			name: "percentage 0: any imbalance counts",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2), 2, 1, 2), part("a-1", ids(1, 2), 1, 1, 2),
			},
			pct: 0, live: ids(1, 2),
			brokers: []row{{1, 2, "a-0"}},
			elect:   "a-0",
		},
		{
			name: "leaderless partition counts as not led by its preferred replica",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2), model.NoLeader, 1),
			},
			pct: 10, live: ids(1, 2),
			brokers: []row{{1, 1, "a-0"}},
			elect:   "a-0",
		},
		{
			name: "partition without a state counts in the total only",
			parts: []rebalancePartition{
				part("a-0", ids(1, 2), -2), part("a-1", ids(1, 2), -2), part("a-2", ids(1, 2), 2, 2, 1),
			},
			pct: 50, live: ids(1, 2),
			brokers: []row{{1, 3, "a-2"}},
		},
		{
			name:  "partition without replicas is ignored",
			parts: []rebalancePartition{part("a-0", nil, 1, 1)},
			pct:   10, live: ids(1),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live := liveSet(tc.live...)
			canLead := func(p rebalancePartition) bool {
				_, ok := preferredLeader(p.replicas, p.state.ISR, live)
				return ok
			}
			brokers, elect := rebalanceCandidates(tc.parts, tc.pct, canLead)
			var got []row
			for _, b := range brokers {
				got = append(got, row{b.broker, b.preferred, tpList(b.notLeading)})
			}
			if !slices.Equal(got, tc.brokers) {
				t.Errorf("brokers %+v, want %+v", got, tc.brokers)
			}
			if s := tpList(elect); s != tc.elect {
				t.Errorf("elect %q, want %q", s, tc.elect)
			}
		})
	}
}

func tpList(tps []model.TopicPartition) string {
	var s []string
	for _, tp := range tps {
		s = append(s, tp.String())
	}
	return strings.Join(s, " ")
}

func TestImbalanceRatio(t *testing.T) {
	b := brokerImbalance{preferred: 3, notLeading: make([]model.TopicPartition, 1)}
	if r := b.ratio(); r < 0.333 || r > 0.334 {
		t.Fatalf("ratio %v", r)
	}
	if !b.overThreshold(33) || b.overThreshold(34) {
		t.Fatal("1/3 against 33% and 34%")
	}
}

// TestElectLeadersAnsweredWithoutElection: the answers that need no
// election (and so no ZooKeeper write): unknown partitions, topics being
// deleted, partitions already led by their preferred replica (PREFERRED)
// or by a live broker (UNCLEAN), with Kafka's codes and messages.
func TestElectLeadersAnsweredWithoutElection(t *testing.T) {
	c := New(Options{BrokerID: 1, Logger: zerolog.Nop()})
	c.st = &state{
		live: map[model.BrokerID]zkmeta.RegisteredBroker{1: {}, 2: {}},
		topics: map[string]*topicState{
			"t": {partitions: map[int32][]model.BrokerID{0: ids(1, 2), 1: ids(2, 1), 2: ids(3, 1)},
				states: map[int32]model.LeaderAndISR{0: {Leader: 1, ISR: ids(1, 2)}, 1: {Leader: 1, ISR: ids(1, 2)}, 2: {Leader: 1, ISR: ids(1)}}},
			"gone": {partitions: map[int32][]model.BrokerID{0: ids(1)}, states: map[int32]model.LeaderAndISR{0: {Leader: 1, ISR: ids(1)}}},
		},
		deleting:     map[string]*deletion{"gone": {}},
		shuttingDown: map[model.BrokerID]bool{2: true},
	}
	tp := func(topic string, p int32) model.TopicPartition {
		return model.TopicPartition{Topic: topic, Partition: p}
	}
	render := func(m map[model.TopicPartition]electionOutcome) string {
		var keys []model.TopicPartition
		for k := range m {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, model.CompareTopicPartitions)
		var out []string
		for _, k := range keys {
			msg := "<nil>"
			if m[k].msg != nil {
				msg = *m[k].msg
			}
			out = append(out, fmt.Sprintf("%s:%s:%s", k, kerr.ErrorForCode(m[k].code), msg))
		}
		return strings.Join(out, "\n")
	}
	// t-1's preferred replica is shutting down, t-2's is not live: the
	// election runs and finds nobody (nothing is written).
	codes, leaders := c.electLeaders(ElectionPreferred, []model.TopicPartition{tp("t", 0), tp("t", 1), tp("t", 2), tp("t", 9), tp("nope", 0), tp("gone", 0)})
	got := render(codes)
	for _, line := range []string{
		"gone-0:" + kerr.InvalidTopicException.Error() + ":The topic is being deleted",
		"nope-0:" + kerr.UnknownTopicOrPartition.Error() + ":The partition does not exist.",
		"t-0:" + kerr.ElectionNotNeeded.Error() + ":Leader election not needed for topic partition.",
		"t-1:" + kerr.PreferredLeaderNotAvailable.Error() + ":Failed to elect leader for partition t-1 under strategy PreferredReplicaPartitionLeaderElectionStrategy",
		"t-2:" + kerr.PreferredLeaderNotAvailable.Error() + ":Failed to elect leader for partition t-2 under strategy PreferredReplicaPartitionLeaderElectionStrategy",
		"t-9:" + kerr.UnknownTopicOrPartition.Error() + ":The partition does not exist.",
	} {
		if !strings.Contains(got, line) {
			t.Errorf("missing %q in\n%s", line, got)
		}
	}
	if len(codes) != 6 || len(leaders) != 0 {
		t.Errorf("codes %d leaders %v", len(codes), leaders)
	}
	// UNCLEAN: a live leader needs nothing, even when it is not the
	// preferred replica.
	codes, _ = c.electLeaders(ElectionUnclean, []model.TopicPartition{tp("t", 0), tp("t", 1)})
	if o := codes[tp("t", 1)]; o.code != kerr.ElectionNotNeeded.Code || len(codes) != 2 {
		t.Errorf("unclean with a live leader: %s", render(codes))
	}
	// A leader in controlled shutdown is not live for UNCLEAN; nobody
	// else is eligible here.
	c.st.topics["t"].states[0] = model.LeaderAndISR{Leader: 2, ISR: ids(2)}
	c.st.live = map[model.BrokerID]zkmeta.RegisteredBroker{2: {}}
	codes, _ = c.electLeaders(ElectionUnclean, []model.TopicPartition{tp("t", 0)})
	if got := render(codes); got != "t-0:"+kerr.EligibleLeadersNotAvailable.Error()+":Failed to elect leader for partition t-0 under strategy OfflinePartitionLeaderElectionStrategy(true)" {
		t.Errorf("unclean without an eligible replica: %s", got)
	}

	// A controller that never started answers NOT_CONTROLLER for each
	// distinct partition, sorted.
	idle := New(Options{BrokerID: 1, Logger: zerolog.Nop()})
	res, leaders := idle.ElectLeaders(context.Background(), ElectionPreferred, []model.TopicPartition{tp("b", 1), tp("a", 0), tp("b", 0), tp("b", 1)})
	var flat []string
	for _, rt := range res {
		for _, p := range rt.Partitions {
			flat = append(flat, fmt.Sprintf("%s-%d:%d", rt.Topic, p.Partition, p.ErrorCode))
		}
	}
	if strings.Join(flat, " ") != "a-0:41 b-0:41 b-1:41" || leaders != nil {
		t.Errorf("idle controller: %v %v", flat, leaders)
	}
}
