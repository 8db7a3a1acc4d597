package admin

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

// fakeZK is an in-memory TopicLookup.
type fakeZK struct {
	topics []string
	marked map[string]bool
	err    error
}

func (f *fakeZK) TopicMarkedForDeletion(_ context.Context, topic string) (bool, error) {
	return f.marked[topic], f.err
}

func (f *fakeZK) TopicExists(_ context.Context, topic string) (bool, error) {
	for _, t := range f.topics {
		if t == topic {
			return true, f.err
		}
	}
	return false, f.err
}

func (f *fakeZK) AllTopics(context.Context) ([]string, error) { return f.topics, f.err }

func strp(s string) *string { return &s }

func env(zk *fakeZK) CreateTopicEnv {
	return CreateTopicEnv{
		Defaults:     CreateDefaults{NumPartitions: 3, ReplicationFactor: 1},
		AliveBrokers: plainBrokers(0, 1, 2, 3, 4),
		Lookup:       zk,
		Rand:         &seqRand{vals: []int{0, 0}},
	}
}

func manual(m map[int32][]model.BrokerID, order ...int32) []PartitionReplicas {
	var out []PartitionReplicas
	for _, p := range order {
		out = append(out, PartitionReplicas{Partition: p, Replicas: m[p]})
	}
	return out
}

func TestPrepareCreateTopicDefaultsAndExplicit(t *testing.T) {
	ctx := context.Background()
	a, err := PrepareCreateTopic(ctx, CreatableTopic{Name: "t", NumPartitions: -1, ReplicationFactor: -1}, env(&fakeZK{}))
	if err != nil {
		t.Fatal(err)
	}
	if want := (Assignment{0: ids(0), 1: ids(1), 2: ids(2)}); !reflect.DeepEqual(a, want) {
		t.Fatalf("defaults: %v", a)
	}
	a, err = PrepareCreateTopic(ctx, CreatableTopic{Name: "t", NumPartitions: 2, ReplicationFactor: -1}, env(&fakeZK{}))
	if err != nil || len(a) != 2 || len(a[0]) != 1 {
		t.Fatalf("partitions only: %v %v", a, err)
	}
	a, err = PrepareCreateTopic(ctx, CreatableTopic{Name: "t", NumPartitions: -1, ReplicationFactor: 3}, env(&fakeZK{}))
	if err != nil || len(a) != 3 || len(a[0]) != 3 {
		t.Fatalf("RF only: %v %v", a, err)
	}
}

func TestPrepareCreateTopicErrorsInKafkaOrder(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name  string
		topic CreatableTopic
		zk    *fakeZK
		cache bool
		code  *kerr.Error
		msg   string
	}{
		{"in metadata cache", CreatableTopic{Name: "t", NumPartitions: 0}, &fakeZK{}, true,
			kerr.TopicAlreadyExists, "Topic 't' already exists."},
		{"null configs", CreatableTopic{Name: "t", NumPartitions: 1, ReplicationFactor: 1,
			Configs: []TopicConfig{{"a", nil}, {"b", strp("1")}, {"c", nil}}}, &fakeZK{}, false,
			kerr.InvalidConfig, "Null value not supported for topic configs: a,c"},
		{"both forms", CreatableTopic{Name: "t", NumPartitions: 1, ReplicationFactor: -1,
			Assignments: manual(map[int32][]model.BrokerID{0: ids(0)}, 0)}, &fakeZK{}, false,
			kerr.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."},
		{"both forms rf", CreatableTopic{Name: "t", NumPartitions: -1, ReplicationFactor: 1,
			Assignments: manual(map[int32][]model.BrokerID{0: ids(0)}, 0)}, &fakeZK{}, false,
			kerr.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time."},
		{"zero partitions", CreatableTopic{Name: "t", NumPartitions: 0, ReplicationFactor: 1}, &fakeZK{}, false,
			kerr.InvalidPartitions, "Number of partitions must be larger than 0."},
		{"negative partitions", CreatableTopic{Name: "t", NumPartitions: -2, ReplicationFactor: 1}, &fakeZK{}, false,
			kerr.InvalidPartitions, "Number of partitions must be larger than 0."},
		{"zero rf", CreatableTopic{Name: "t", NumPartitions: 1, ReplicationFactor: 0}, &fakeZK{}, false,
			kerr.InvalidReplicationFactor, "Replication factor must be larger than 0."},
		{"rf above brokers", CreatableTopic{Name: "t", NumPartitions: 1, ReplicationFactor: 6}, &fakeZK{}, false,
			kerr.InvalidReplicationFactor, "Replication factor: 6 larger than available brokers: 5."},
		// The assignment is computed before the name is checked.
		{"bad name and bad rf", CreatableTopic{Name: "bad name", NumPartitions: 1, ReplicationFactor: 6}, &fakeZK{}, false,
			kerr.InvalidReplicationFactor, "Replication factor: 6 larger than available brokers: 5."},
		{"bad name", CreatableTopic{Name: "bad name", NumPartitions: 1, ReplicationFactor: 1}, &fakeZK{}, false,
			kerr.InvalidTopicException, "Topic name is invalid: 'bad name' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"},
		{"marked for deletion", CreatableTopic{Name: "t", NumPartitions: 1, ReplicationFactor: 1},
			&fakeZK{topics: []string{"t"}, marked: map[string]bool{"t": true}}, false,
			kerr.TopicAlreadyExists, "Topic 't' is marked for deletion."},
		{"exists in zookeeper", CreatableTopic{Name: "t", NumPartitions: 1, ReplicationFactor: 1},
			&fakeZK{topics: []string{"t"}}, false, kerr.TopicAlreadyExists, "Topic 't' already exists."},
		{"collision", CreatableTopic{Name: "test_topic", NumPartitions: 3, ReplicationFactor: 1},
			&fakeZK{topics: []string{"test.topic"}}, false,
			kerr.InvalidTopicException, "Topic 'test_topic' collides with existing topics: test.topic"},
		// AdminZkClientTest.testManualReplicaAssignment.
		{"duplicate brokers", CreatableTopic{Name: "test", NumPartitions: -1, ReplicationFactor: -1,
			Assignments: manual(map[int32][]model.BrokerID{0: ids(0, 0)}, 0)}, &fakeZK{}, false,
			kerr.InvalidReplicaAssignment, "Duplicate replica assignment found: HashMap(0 -> ArrayBuffer(0, 0))"},
		{"inconsistent rf", CreatableTopic{Name: "test", NumPartitions: -1, ReplicationFactor: -1,
			Assignments: manual(map[int32][]model.BrokerID{0: ids(0, 1), 1: ids(0)}, 0, 1)}, &fakeZK{}, false,
			kerr.InvalidReplicaAssignment, "All partitions should have the same number of replicas"},
		{"not 0-based", CreatableTopic{Name: "test", NumPartitions: -1, ReplicationFactor: -1,
			Assignments: manual(map[int32][]model.BrokerID{1: ids(1, 2), 2: ids(1, 2)}, 1, 2)}, &fakeZK{}, false,
			kerr.InvalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence"},
		{"repeated partition, gap", CreatableTopic{Name: "test", NumPartitions: -1, ReplicationFactor: -1,
			Assignments: manual(map[int32][]model.BrokerID{0: ids(1, 2), 3: ids(1, 2)}, 0, 0, 3)}, &fakeZK{}, false,
			kerr.InvalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence"},
		{"negative partition", CreatableTopic{Name: "test", NumPartitions: -1, ReplicationFactor: -1,
			Assignments: manual(map[int32][]model.BrokerID{-1: ids(1, 2), 1: ids(1, 2), 2: ids(1, 2), 4: ids(1, 2)}, -1, 1, 2, 4)}, &fakeZK{}, false,
			kerr.InvalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence"},
		// Kafka's sum test would let {-1, 1} through; kbroker does not.
		{"sum trap", CreatableTopic{Name: "test", NumPartitions: -1, ReplicationFactor: -1,
			Assignments: manual(map[int32][]model.BrokerID{-1: ids(1), 1: ids(2)}, -1, 1)}, &fakeZK{}, false,
			kerr.InvalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := env(c.zk)
			if c.cache {
				e.Cached = func(string) bool { return true }
			}
			_, err := PrepareCreateTopic(ctx, c.topic, e)
			expectErr(t, err, c.code, c.msg)
		})
	}
}

func TestPrepareCreateTopicManual(t *testing.T) {
	ctx := context.Background()
	m := map[int32][]model.BrokerID{0: ids(0, 1, 2), 1: ids(1, 2, 3)}
	a, err := PrepareCreateTopic(ctx, CreatableTopic{Name: "test", NumPartitions: -1, ReplicationFactor: -1,
		Assignments: manual(m, 1, 0)}, env(&fakeZK{}))
	if err != nil || !reflect.DeepEqual(a, Assignment(m)) {
		t.Fatalf("got %v, %v", a, err)
	}
	// Unknown brokers are not checked at creation (as in Kafka).
	a, err = PrepareCreateTopic(ctx, CreatableTopic{Name: "test", NumPartitions: -1, ReplicationFactor: -1,
		Assignments: manual(map[int32][]model.BrokerID{0: ids(42)}, 0)}, env(&fakeZK{}))
	if err != nil || !reflect.DeepEqual(a, Assignment{0: ids(42)}) {
		t.Fatalf("got %v, %v", a, err)
	}
	// A later entry for the same partition wins.
	a, err = PrepareCreateTopic(ctx, CreatableTopic{Name: "test", NumPartitions: -1, ReplicationFactor: -1,
		Assignments: []PartitionReplicas{{0, ids(1)}, {1, ids(2)}, {0, ids(3)}}}, env(&fakeZK{}))
	if err != nil || !reflect.DeepEqual(a, Assignment{0: ids(3), 1: ids(2)}) {
		t.Fatalf("got %v, %v", a, err)
	}
}

func TestPrepareCreateTopicLookupFailure(t *testing.T) {
	boom := errors.New("connection loss")
	_, err := PrepareCreateTopic(context.Background(), CreatableTopic{Name: "t", NumPartitions: 1, ReplicationFactor: 1},
		env(&fakeZK{err: boom}))
	var ae *Error
	if !errors.Is(err, boom) || errors.As(err, &ae) {
		t.Fatalf("got %v", err)
	}
}

func TestRepeatedNames(t *testing.T) {
	got := RepeatedNames([]string{"a", "b", "a", "c", "a", "b"})
	if !reflect.DeepEqual(got, map[string]bool{"a": true, "b": true}) {
		t.Fatalf("got %v", got)
	}
	expectErr(t, ErrDuplicateCreateTopic(), kerr.InvalidRequest, "Found multiple entries for this topic.")
	expectErr(t, ErrDuplicateCreatePartitions(), kerr.InvalidRequest, "Duplicate topic in request.")
	expectErr(t, ErrQueuedForDeletion(), kerr.InvalidTopicException, "The topic is queued for deletion.")
}

func TestErrorWireMessage(t *testing.T) {
	e := newError(kerr.InvalidPartitions, "Topic already has 3 partitions.")
	if m := e.WireMessage(); m == nil || *m != "Topic already has 3 partitions." {
		t.Fatalf("got %v", m)
	}
	if !strings.Contains(e.Error(), "INVALID_PARTITIONS") {
		t.Fatalf("Error() = %q", e.Error())
	}
	if m := newError(kerr.InvalidPartitions, kerr.InvalidPartitions.Description).WireMessage(); m != nil {
		t.Fatalf("default text must be null, got %q", *m)
	}
	if m := newError(kerr.UnknownServerError, "internal detail").WireMessage(); m != nil {
		t.Fatalf("UNKNOWN_SERVER_ERROR must be null, got %q", *m)
	}
	var ke *kerr.Error
	if !errors.As(error(e), &ke) || ke.Code != 37 {
		t.Fatalf("errors.As kerr: %v", ke)
	}
}

func TestCheckPartitionCount(t *testing.T) {
	expectErr(t, CheckPartitionCount(5, 3), kerr.InvalidPartitions,
		"Topic currently has 5 partitions, which is higher than the requested 3.")
	expectErr(t, CheckPartitionCount(5, 5), kerr.InvalidPartitions, "Topic already has 5 partitions.")
	if err := CheckPartitionCount(5, 6); err != nil {
		t.Fatal(err)
	}
}

func TestPlanCreatePartitions(t *testing.T) {
	brokers := plainBrokers(0, 1, 2, 3)
	cur := TopicReplicas{Partitions: map[int32][]model.BrokerID{0: ids(1, 2)}}
	cases := []struct {
		name string
		req  CreatePartitionsTopic
		cur  TopicReplicas
		code *kerr.Error
		msg  string
	}{
		{"reassigning", CreatePartitionsTopic{Name: "t", Count: 3},
			TopicReplicas{Partitions: map[int32][]model.BrokerID{0: ids(1, 2)}, Adding: map[int32][]model.BrokerID{0: ids(3)}},
			kerr.ReassignmentInProgress, "A partition reassignment is in progress for the topic 't'."},
		{"removing", CreatePartitionsTopic{Name: "t", Count: 3},
			TopicReplicas{Partitions: map[int32][]model.BrokerID{0: ids(1, 2)}, Removing: map[int32][]model.BrokerID{0: ids(1)}},
			kerr.ReassignmentInProgress, "A partition reassignment is in progress for the topic 't'."},
		{"missing", CreatePartitionsTopic{Name: "t", Count: 3}, TopicReplicas{},
			kerr.UnknownTopicOrPartition, "The topic 't' does not exist."},
		{"lower", CreatePartitionsTopic{Name: "t", Count: 0}, cur,
			kerr.InvalidPartitions, "Topic currently has 1 partitions, which is higher than the requested 0."},
		{"equal", CreatePartitionsTopic{Name: "t", Count: 1}, cur,
			kerr.InvalidPartitions, "Topic already has 1 partitions."},
		{"unknown brokers", CreatePartitionsTopic{Name: "t", Count: 3, Assignments: [][]model.BrokerID{ids(7, 1), ids(0, 5, 7)}}, cur,
			kerr.InvalidReplicaAssignment, "Unknown broker(s) in replica assignment: 7, 5."},
		{"too few lists", CreatePartitionsTopic{Name: "t", Count: 3, Assignments: [][]model.BrokerID{ids(0, 1)}}, cur,
			kerr.InvalidReplicaAssignment, "Increasing the number of partitions by 2 but 1 assignments provided."},
		{"empty list", CreatePartitionsTopic{Name: "t", Count: 3, Assignments: [][]model.BrokerID{}}, cur,
			kerr.InvalidReplicaAssignment, "Increasing the number of partitions by 2 but 0 assignments provided."},
		{"duplicate broker", CreatePartitionsTopic{Name: "t", Count: 3, Assignments: [][]model.BrokerID{ids(0, 1), ids(3, 3)}}, cur,
			kerr.InvalidReplicaAssignment, "Duplicate brokers not allowed in replica assignment: 3, 3 for partition id 2."},
		{"no replicas", CreatePartitionsTopic{Name: "t", Count: 2, Assignments: [][]model.BrokerID{{}}}, cur,
			kerr.InvalidReplicaAssignment, "Cannot have replication factor of 0 for partition id 1."},
		{"wrong rf", CreatePartitionsTopic{Name: "t", Count: 3, Assignments: [][]model.BrokerID{ids(0, 1, 2), ids(2, 3)}}, cur,
			kerr.InvalidReplicaAssignment, "Inconsistent replication factor between partitions, partition 0 has 2 while partitions [1] have replication factors [3], respectively."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := PlanCreatePartitions(c.req, c.cur, brokers, nil)
			expectErr(t, err, c.code, c.msg)
		})
	}

	// Automatic: AddPartitionsTest.testReplicaPlacementPartialServers.
	a, err := PlanCreatePartitions(CreatePartitionsTopic{Name: "t", Count: 3}, cur, brokers, nil)
	if err != nil || !reflect.DeepEqual(a, Assignment{1: ids(2, 0), 2: ids(3, 1)}) {
		t.Fatalf("auto: %v %v", a, err)
	}
	// Manual lists become partitions N, N+1, ...
	a, err = PlanCreatePartitions(CreatePartitionsTopic{Name: "t", Count: 3, Assignments: [][]model.BrokerID{ids(0, 1), ids(2, 3)}}, cur, brokers, nil)
	if err != nil || !reflect.DeepEqual(a, Assignment{1: ids(0, 1), 2: ids(2, 3)}) {
		t.Fatalf("manual: %v %v", a, err)
	}
}
