package admin

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

// expectErr fails unless err is an *Error with the given code and message.
func expectErr(t *testing.T, err error, code *kerr.Error, msg string) {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *admin.Error %s", err, err, code.Message)
	}
	if ae.Code != code || !errors.Is(err, code) {
		t.Fatalf("code = %s, want %s (message %q)", ae.Code.Message, code.Message, ae.Message)
	}
	if ae.Message != msg {
		t.Fatalf("message:\n got %q\nwant %q", ae.Message, msg)
	}
}

func ids(v ...int32) []model.BrokerID {
	out := make([]model.BrokerID, len(v))
	for i, x := range v {
		out[i] = model.BrokerID(x)
	}
	return out
}

func plainBrokers(v ...int32) []BrokerMetadata {
	out := make([]BrokerMetadata, len(v))
	for i, x := range v {
		out[i] = BrokerMetadata{ID: model.BrokerID(x)}
	}
	return out
}

// rackBrokers builds brokers sorted by id from an id → rack map.
func rackBrokers(racks map[int32]string) []BrokerMetadata {
	var out []BrokerMetadata
	for id, r := range racks {
		out = append(out, BrokerMetadata{ID: model.BrokerID(id), Rack: &r})
	}
	slices.SortFunc(out, func(a, b BrokerMetadata) int { return int(a.ID - b.ID) })
	return out
}

func rackMap(racks map[int32]string) map[model.BrokerID]string {
	out := make(map[model.BrokerID]string, len(racks))
	for id, r := range racks {
		out[model.BrokerID(id)] = r
	}
	return out
}

// seqRand returns fixed values and records the bounds it was asked for.
type seqRand struct {
	vals   []int
	bounds []int
}

func (s *seqRand) IntN(n int) int {
	s.bounds = append(s.bounds, n)
	v := s.vals[0]
	s.vals = s.vals[1:]
	return v
}

func TestAssignRackUnawareKafkaTable(t *testing.T) {
	// AdminZkClientTest/AdminTest.testReplicaAssignment and the table in
	// AdminUtils' javadoc: brokers 0..4, 10 partitions, RF 3, start 0.
	want := Assignment{
		0: ids(0, 1, 2), 1: ids(1, 2, 3), 2: ids(2, 3, 4), 3: ids(3, 4, 0), 4: ids(4, 0, 1),
		5: ids(0, 2, 3), 6: ids(1, 3, 4), 7: ids(2, 4, 0), 8: ids(3, 0, 1), 9: ids(4, 1, 2),
	}
	got, err := AssignReplicas(plainBrokers(0, 1, 2, 3, 4), 10, 3, 0, RandomStart, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestAssignRackUnawareUsesGivenOrderAndRandomStarts(t *testing.T) {
	// Start index 1 and shift 2 drawn from the source, in that order.
	r := &seqRand{vals: []int{1, 2}}
	got, err := AssignReplicas(plainBrokers(10, 20, 30), 4, 2, RandomStart, RandomStart, r)
	if err != nil {
		t.Fatal(err)
	}
	want := Assignment{0: ids(20, 30), 1: ids(30, 10), 2: ids(10, 20), 3: ids(20, 10)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if !reflect.DeepEqual(r.bounds, []int{3, 3}) {
		t.Fatalf("random draws %v, want two draws in [0,3)", r.bounds)
	}

	// The list order is used as given (no sorting) when racks are absent.
	got, _ = AssignReplicas(plainBrokers(3, 1, 2), 3, 1, 0, 0, nil)
	if want := (Assignment{0: ids(3), 1: ids(1), 2: ids(2)}); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	// A fixed start draws nothing.
	r = &seqRand{}
	if _, err := AssignReplicas(plainBrokers(1, 2), 2, 2, 0, 0, r); err != nil || len(r.bounds) != 0 {
		t.Fatalf("err %v, draws %v", err, r.bounds)
	}
}

func TestRackAlternatedBrokers(t *testing.T) {
	m := map[int32]string{0: "rack1", 1: "rack3", 2: "rack3", 3: "rack2", 4: "rack2", 5: "rack1"}
	if got := RackAlternatedBrokers(rackMap(m)); !reflect.DeepEqual(got, ids(0, 3, 1, 5, 4, 2)) {
		t.Fatalf("got %v", got)
	}
	delete(m, 5)
	if got := RackAlternatedBrokers(rackMap(m)); !reflect.DeepEqual(got, ids(0, 3, 1, 4, 2)) {
		t.Fatalf("without 5: got %v", got)
	}
}

func TestAssignRackAwareKafkaTable(t *testing.T) {
	// AdminRackAwareTest.testGetRackAlternatedBrokerListAndAssignReplicasToBrokers.
	m := map[int32]string{0: "rack1", 1: "rack3", 2: "rack3", 3: "rack2", 4: "rack2", 5: "rack1"}
	want := Assignment{
		0: ids(0, 3, 1), 1: ids(3, 1, 5), 2: ids(1, 5, 4), 3: ids(5, 4, 2),
		4: ids(4, 2, 0), 5: ids(2, 0, 3), 6: ids(0, 4, 2),
	}
	brokers := rackBrokers(m)
	got, err := AssignReplicas(brokers, 7, 3, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	// Rack-aware ordering does not depend on the input order.
	slices.Reverse(brokers)
	got, _ = AssignReplicas(brokers, 7, 3, 0, 0, nil)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("reversed input: got %v", got)
	}
}

func TestAssignErrors(t *testing.T) {
	b3 := plainBrokers(0, 1, 2)
	_, err := AssignReplicas(b3, 0, 1, -1, -1, nil)
	expectErr(t, err, kerr.InvalidPartitions, "Number of partitions must be larger than 0.")
	_, err = AssignReplicas(b3, -1, 1, -1, -1, nil)
	expectErr(t, err, kerr.InvalidPartitions, "Number of partitions must be larger than 0.")
	_, err = AssignReplicas(b3, 1, 0, -1, -1, nil)
	expectErr(t, err, kerr.InvalidReplicationFactor, "Replication factor must be larger than 0.")
	_, err = AssignReplicas(b3, 1, 4, -1, -1, nil)
	expectErr(t, err, kerr.InvalidReplicationFactor, "Replication factor: 4 larger than available brokers: 3.")
	_, err = AssignReplicas(nil, 1, 1, -1, -1, nil)
	expectErr(t, err, kerr.InvalidReplicationFactor, "Replication factor: 1 larger than available brokers: 0.")

	rack := "r1"
	mixed := []BrokerMetadata{{ID: 0, Rack: &rack}, {ID: 1}}
	_, err = AssignReplicas(mixed, 1, 1, -1, -1, nil)
	expectErr(t, err, kerr.UnknownServerError, "Not all brokers have rack information for replica rack aware assignment.")
	if m := err.(*Error).WireMessage(); m != nil {
		t.Fatalf("UNKNOWN_SERVER_ERROR must carry a null message, got %q", *m)
	}
}

// distribution checks what Kafka's RackAwareTest.checkReplicaDistribution
// checks.
type distCheck struct {
	rackAware, leaders, replicas bool
}

func checkDistribution(t *testing.T, a Assignment, racks map[int32]string, nPartitions, rf int, c distCheck) {
	t.Helper()
	if len(a) != nPartitions {
		t.Fatalf("%d partitions, want %d", len(a), nPartitions)
	}
	numRacks := len(countRacksOf(racks))
	leaders := map[model.BrokerID]int{}
	replicas := map[model.BrokerID]int{}
	for p, rs := range a {
		if len(rs) != rf {
			t.Fatalf("partition %d: %v has %d replicas, want %d", p, rs, len(rs), rf)
		}
		if hasDuplicate(rs) {
			t.Fatalf("partition %d: %v repeats a broker", p, rs)
		}
		partRacks := map[string]bool{}
		for _, b := range rs {
			partRacks[racks[int32(b)]] = true
			replicas[b]++
		}
		leaders[rs[0]]++
		if c.rackAware && len(partRacks) != min(rf, numRacks) {
			t.Fatalf("partition %d: %v spans %d racks, want %d", p, rs, len(partRacks), min(rf, numRacks))
		}
	}
	n := len(racks)
	if c.leaders {
		for id := range racks {
			if got := leaders[model.BrokerID(id)]; got != nPartitions/n {
				t.Fatalf("broker %d leads %d partitions, want %d (%v)", id, got, nPartitions/n, a)
			}
		}
	}
	if c.replicas {
		for id := range racks {
			if got := replicas[model.BrokerID(id)]; got != nPartitions*rf/n {
				t.Fatalf("broker %d holds %d replicas, want %d (%v)", id, got, nPartitions*rf/n, a)
			}
		}
	}
}

func countRacksOf(racks map[int32]string) map[string]bool {
	out := map[string]bool{}
	for _, r := range racks {
		out[r] = true
	}
	return out
}

func TestAssignRackAwareDistribution(t *testing.T) {
	std := map[int32]string{0: "rack1", 1: "rack2", 2: "rack2", 3: "rack3", 4: "rack3", 5: "rack1"}
	all := distCheck{rackAware: true, leaders: true, replicas: true}
	// The configurations of Kafka's AdminRackAwareTest; fixed = -1 runs with
	// many random starts.
	cases := []struct {
		name        string
		racks       map[int32]string
		partitions  int
		rf          int
		fixed       int32
		startPartID int32
		check       distCheck
	}{
		{"fixed start 2", std, 6, 3, 2, -1, all},
		{"random start", std, 6, 3, -1, -1, all},
		{"uneven replicas", std, 13, 3, 0, 0, distCheck{rackAware: true}},
		{"uneven racks", map[int32]string{0: "rack1", 1: "rack1", 2: "rack2", 3: "rack3", 4: "rack3", 5: "rack1"}, 12, 3, -1, -1, distCheck{rackAware: true, leaders: true}},
		{"two replicas", std, 12, 2, -1, -1, all},
		{"expansion", map[int32]string{6: "rack1", 7: "rack2", 8: "rack2", 9: "rack3", 10: "rack3", 11: "rack1"}, 12, 2, -1, 12, all},
		{"two replicas six partitions", std, 6, 2, -1, -1, all},
		{"three brokers", map[int32]string{0: "rack1", 1: "rack2", 4: "rack3"}, 3, 2, -1, -1, all},
		{"large", map[int32]string{0: "rack1", 1: "rack2", 2: "rack2", 3: "rack3", 4: "rack3", 5: "rack1", 6: "rack1", 7: "rack2", 8: "rack2", 9: "rack3", 10: "rack1", 11: "rack3"}, 96, 3, -1, -1, all},
		{"more replicas than racks", map[int32]string{0: "rack1", 1: "rack2", 2: "rack2", 3: "rack3", 4: "rack3", 5: "rack2"}, 6, 5, -1, -1, distCheck{rackAware: true}},
		{"fewer replicas than racks", map[int32]string{0: "rack1", 1: "rack2", 2: "rack2", 3: "rack3", 4: "rack3", 5: "rack2"}, 6, 2, -1, -1, distCheck{rackAware: true}},
		{"single rack", map[int32]string{0: "rack1", 1: "rack1", 2: "rack1", 3: "rack1", 4: "rack1", 5: "rack1"}, 6, 3, -1, -1, distCheck{rackAware: true, leaders: true}},
		{"skip broker already holding", map[int32]string{0: "a", 1: "b", 2: "c", 3: "a", 4: "a"}, 6, 4, 2, -1, distCheck{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := 1
			if c.fixed < 0 {
				runs = 200
			}
			for seed := range runs {
				r := rand.New(rand.NewPCG(uint64(seed), 7))
				a, err := AssignReplicas(rackBrokers(c.racks), int32(c.partitions), int32(c.rf), c.fixed, c.startPartID, r)
				if err != nil {
					t.Fatal(err)
				}
				first := max(0, int(c.startPartID))
				for p := first; p < first+c.partitions; p++ {
					if _, ok := a[int32(p)]; !ok {
						t.Fatalf("partition %d missing from %v", p, a)
					}
				}
				checkDistribution(t, a, c.racks, c.partitions, c.rf, c.check)
			}
		})
	}
}

func TestAssignRackUnawareDistribution(t *testing.T) {
	for n := 1; n <= 7; n++ {
		racks := map[int32]string{}
		var brokers []BrokerMetadata
		for i := range n {
			racks[int32(i)] = ""
			brokers = append(brokers, BrokerMetadata{ID: model.BrokerID(i)})
		}
		for rf := 1; rf <= n; rf++ {
			for seed := range 20 {
				r := rand.New(rand.NewPCG(uint64(seed), 1))
				a, err := AssignReplicas(brokers, int32(3*n), int32(rf), RandomStart, RandomStart, r)
				if err != nil {
					t.Fatal(err)
				}
				checkDistribution(t, a, racks, 3*n, rf, distCheck{leaders: true, replicas: true})
			}
		}
	}
}

func TestBrokerMetadatas(t *testing.T) {
	// AdminZkClientTest.testGetBrokerMetadatas: broker 4 has no rack.
	r := func(s string) *string { return &s }
	brokers := []model.Broker{
		{ID: 5, Rack: r("rack3")}, {ID: 0, Rack: r("rack1")}, {ID: 1, Rack: r("rack2")},
		{ID: 2, Rack: r("rack2")}, {ID: 3, Rack: r("rack1")}, {ID: 4},
	}
	for _, mode := range []RackAwareMode{RackAwareDisabled, RackAwareSafe} {
		got, err := BrokerMetadatas(brokers, mode)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range got {
			if b.ID != model.BrokerID(i) || b.Rack != nil {
				t.Fatalf("mode %d: got %+v at %d", mode, b, i)
			}
		}
	}
	_, err := BrokerMetadatas(brokers, RackAwareEnforced)
	expectErr(t, err, kerr.UnknownServerError, "Not all brokers have rack information. Add --disable-rack-aware in command line to make replica assignment without rack information.")

	full := brokers[:5]
	for _, mode := range []RackAwareMode{RackAwareEnforced, RackAwareSafe} {
		got, err := BrokerMetadatas(full, mode)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []model.BrokerID
		for _, b := range got {
			gotIDs = append(gotIDs, b.ID)
			if b.Rack == nil {
				t.Fatalf("mode %d dropped the rack of %d", mode, b.ID)
			}
		}
		if !reflect.DeepEqual(gotIDs, ids(0, 1, 2, 3, 5)) || *got[4].Rack != "rack3" {
			t.Fatalf("mode %d: %v", mode, got)
		}
	}
}

func TestAddPartitionsStart(t *testing.T) {
	b := plainBrokers(1, 3, 5, 7)
	for _, c := range []struct {
		first int32
		want  int32
	}{{0, 0}, {1, 0}, {2, 1}, {3, 1}, {6, 3}, {7, 3}, {8, 0}} {
		if got := AddPartitionsStart(b, ids(c.first, 1)); got != c.want {
			t.Fatalf("first replica %d: start %d, want %d", c.first, got, c.want)
		}
	}
	if got := AddPartitionsStart(b, nil); got != 0 {
		t.Fatalf("empty partition 0: %d", got)
	}
}

func TestNewPartitionsAssignmentKafkaExpectations(t *testing.T) {
	brokers := plainBrokers(0, 1, 2, 3)
	// AddPartitionsTest.testReplicaPlacementPartialServers: {0:[1,2]} → 3.
	got, err := NewPartitionsAssignment("new-topic2", map[int32][]model.BrokerID{0: ids(1, 2)}, brokers, 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Assignment{1: ids(2, 0), 2: ids(3, 1)}); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}

	// AddPartitionsTest.testReplicaPlacementAllServers: {0:[2,3,0,1]} → 7;
	// Kafka checks the leaders and the replica sets.
	got, err = NewPartitionsAssignment("new-topic3", map[int32][]model.BrokerID{0: ids(2, 3, 0, 1)}, brokers, 7, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	leaders := map[int32]model.BrokerID{1: 3, 2: 0, 3: 1, 4: 2, 5: 3, 6: 0}
	if len(got) != 6 {
		t.Fatalf("got %v", got)
	}
	for p, l := range leaders {
		rs := got[p]
		sorted := slices.Sorted(slices.Values(rs))
		if rs[0] != l || !reflect.DeepEqual(sorted, ids(0, 1, 2, 3)) {
			t.Fatalf("partition %d: %v, want leader %d over all brokers", p, rs, l)
		}
	}

	// testMissingPartition0.
	_, err = NewPartitionsAssignment("new-topic5", map[int32][]model.BrokerID{1: ids(0, 1)}, brokers, 2,
		map[int32][]model.BrokerID{1: ids(0, 1), 2: ids(0, 1, 2)}, nil)
	expectErr(t, err, kerr.UnknownServerError,
		"Unexpected existing replica assignment for topic 'new-topic5', partition id 0 is missing. Assignment: HashMap(1 -> ArrayBuffer(0, 1))")

	// testWrongReplicaCount (TopicCommand passes partition 0 too).
	_, err = NewPartitionsAssignment("new-topic1", map[int32][]model.BrokerID{0: ids(0, 1)}, brokers, 2,
		map[int32][]model.BrokerID{0: ids(0, 1), 1: ids(0, 1, 2)}, nil)
	expectErr(t, err, kerr.InvalidReplicaAssignment,
		"Inconsistent replication factor between partitions, partition 0 has 2 while partitions [1] have replication factors [3], respectively.")

	// Not an increase.
	_, err = NewPartitionsAssignment("t", map[int32][]model.BrokerID{0: ids(0), 1: ids(1)}, brokers, 2, nil, nil)
	expectErr(t, err, kerr.InvalidPartitions,
		"The number of partitions for a topic can only be increased. Topic t currently has 2 partitions, 2 would not be an increase.")

	// testManualAssignmentOfReplicas: the manual map is returned as given.
	manual := map[int32][]model.BrokerID{1: ids(0, 1), 2: ids(2, 3)}
	got, err = NewPartitionsAssignment("new-topic2", map[int32][]model.BrokerID{0: ids(1, 2)}, brokers, 3, manual, nil)
	if err != nil || !reflect.DeepEqual(got, Assignment(manual)) {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestValidateAddedPartitions(t *testing.T) {
	avail := ids(0, 1, 2, 3)
	cases := []struct {
		manual map[int32][]model.BrokerID
		code   *kerr.Error
		msg    string
	}{
		{map[int32][]model.BrokerID{1: ids(0, 1), 2: {}}, kerr.InvalidReplicaAssignment,
			"Cannot have replication factor of 0 for partition id 2."},
		{map[int32][]model.BrokerID{1: ids(1, 1)}, kerr.InvalidReplicaAssignment,
			"Duplicate brokers not allowed in replica assignment: 1, 1 for partition id 1."},
		{map[int32][]model.BrokerID{1: ids(1, 9)}, kerr.BrokerNotAvailable,
			"Some brokers specified for partition id 1 are not available. Specified brokers: 1, 9, available brokers: 0, 1, 2, 3."},
		{map[int32][]model.BrokerID{1: ids(1), 2: ids(1, 2), 3: ids(0, 1, 2)}, kerr.InvalidReplicaAssignment,
			"Inconsistent replication factor between partitions, partition 0 has 2 while partitions [1, 3] have replication factors [1, 3], respectively."},
	}
	for _, c := range cases {
		expectErr(t, ValidateAddedPartitions(c.manual, 2, avail), c.code, c.msg)
	}
	if err := ValidateAddedPartitions(map[int32][]model.BrokerID{1: ids(3, 0)}, 2, avail); err != nil {
		t.Fatal(err)
	}
}
