package admin

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

// BrokerMetadata is what replica assignment knows of a broker: its id and,
// when broker.rack is set, its rack (Kafka's BrokerMetadata).
type BrokerMetadata struct {
	ID   model.BrokerID
	Rack *string
}

// Assignment maps a partition id to its replica list, preferred leader
// first. Its underlying type is the one zkmeta uses for
// /brokers/topics/<t> "partitions", so it can be assigned there directly.
type Assignment map[int32][]model.BrokerID

// Partitions returns the partition ids in ascending order.
func (a Assignment) Partitions() []int32 {
	ps := make([]int32, 0, len(a))
	for p := range a {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// Rand is the random source of an assignment: the two start positions are
// drawn with IntN(n), in Kafka's order (first replica start, then replica
// shift). *math/rand/v2.Rand satisfies it; tests pass a fixed sequence.
type Rand interface {
	IntN(n int) int
}

// globalRand draws from math/rand/v2's goroutine-safe global source.
type globalRand struct{}

func (globalRand) IntN(n int) int { return rand.IntN(n) }

// RandomStart asks AssignReplicas to draw its start positions at random
// (Kafka's fixedStartIndex = -1); likewise a negative startPartitionID
// means 0.
const RandomStart int32 = -1

// Messages of AssignReplicas's errors, as Kafka words them.
const (
	msgPartitionsNotPositive  = "Number of partitions must be larger than 0."
	msgReplicationNotPositive = "Replication factor must be larger than 0."
	msgPartialRacks           = "Not all brokers have rack information for replica rack aware assignment."
	msgPartialRacksEnforced   = "Not all brokers have rack information. Add --disable-rack-aware in command line" +
		" to make replica assignment without rack information."
)

// AssignReplicas computes the replica lists of nPartitions new partitions
// with replicationFactor replicas each, exactly as Kafka's
// AdminUtils.assignReplicasToBrokers does:
//
//   - no broker has a rack: rack-unaware round robin over brokers in the
//     order given;
//   - every broker has a rack: the same round robin over a rack-alternated
//     list (racks by name, brokers of a rack by id), with followers steered
//     to racks, then brokers, that hold no replica of the partition yet;
//   - some but not all have a rack: an error (UNKNOWN_SERVER_ERROR on the
//     wire, as Kafka's AdminOperationException).
//
// fixedStartIndex >= 0 fixes both the first replica's start position and the
// follower shift (Kafka uses the same value for both); RandomStart draws
// them from r (nil: math/rand/v2). The partitions are numbered from
// max(0, startPartitionID). Errors: nPartitions <= 0 → INVALID_PARTITIONS,
// replicationFactor <= 0 or > len(brokers) → INVALID_REPLICATION_FACTOR.
//
// The rack-unaware result depends on the order of brokers; Kafka's admin
// paths that read ZooKeeper sort by id (see BrokerMetadatas), its
// CreateTopics handler passes the metadata cache's alive brokers unsorted.
func AssignReplicas(brokers []BrokerMetadata, nPartitions, replicationFactor, fixedStartIndex, startPartitionID int32, r Rand) (Assignment, error) {
	if nPartitions <= 0 {
		return nil, newError(kerr.InvalidPartitions, msgPartitionsNotPositive)
	}
	if replicationFactor <= 0 {
		return nil, newError(kerr.InvalidReplicationFactor, msgReplicationNotPositive)
	}
	if int(replicationFactor) > len(brokers) {
		return nil, newError(kerr.InvalidReplicationFactor, fmt.Sprintf(
			"Replication factor: %d larger than available brokers: %d.", replicationFactor, len(brokers)))
	}
	withRack := 0
	for _, b := range brokers {
		if b.Rack != nil {
			withRack++
		}
	}
	if r == nil {
		r = globalRand{}
	}
	switch withRack {
	case 0:
		ids := make([]model.BrokerID, len(brokers))
		for i, b := range brokers {
			ids[i] = b.ID
		}
		return assignRackUnaware(ids, int(nPartitions), int(replicationFactor), int(fixedStartIndex), int(startPartitionID), r), nil
	case len(brokers):
		return assignRackAware(brokers, int(nPartitions), int(replicationFactor), int(fixedStartIndex), int(startPartitionID), r), nil
	default:
		return nil, newError(kerr.UnknownServerError, msgPartialRacks)
	}
}

// starts returns the first-replica start index and the initial follower
// shift: both fixedStartIndex when it is set, else two draws in [0, n).
func starts(fixedStartIndex, n int, r Rand) (startIndex, shift int) {
	if fixedStartIndex >= 0 {
		return fixedStartIndex, fixedStartIndex
	}
	startIndex = r.IntN(n)
	shift = r.IntN(n)
	return startIndex, shift
}

// followerIndex is the position, in a list of n brokers, of the follower
// reached from the first replica's position with the given shift and step:
// it is never the first replica's own position (Kafka's replicaIndex).
func followerIndex(first, shift, step, n int) int {
	return (first + 1 + (shift+step)%(n-1)) % n
}

func assignRackUnaware(ids []model.BrokerID, nPartitions, rf, fixedStartIndex, startPartitionID int, r Rand) Assignment {
	n := len(ids)
	startIndex, shift := starts(fixedStartIndex, n, r)
	out := make(Assignment, nPartitions)
	p := max(0, startPartitionID)
	for range nPartitions {
		if p > 0 && p%n == 0 {
			shift++
		}
		first := (p + startIndex) % n
		replicas := make([]model.BrokerID, 0, rf)
		replicas = append(replicas, ids[first])
		for j := 0; j < rf-1; j++ {
			replicas = append(replicas, ids[followerIndex(first, shift, j, n)])
		}
		out[int32(p)] = replicas
		p++
	}
	return out
}

func assignRackAware(brokers []BrokerMetadata, nPartitions, rf, fixedStartIndex, startPartitionID int, r Rand) Assignment {
	rackOf := make(map[model.BrokerID]string, len(brokers))
	for _, b := range brokers {
		rackOf[b.ID] = *b.Rack
	}
	arranged := RackAlternatedBrokers(rackOf)
	n := len(arranged)
	numRacks := countRacks(rackOf)
	startIndex, shift := starts(fixedStartIndex, n, r)
	out := make(Assignment, nPartitions)
	p := max(0, startPartitionID)
	for range nPartitions {
		if p > 0 && p%n == 0 {
			shift++
		}
		first := (p + startIndex) % n
		leader := arranged[first]
		replicas := make([]model.BrokerID, 0, rf)
		replicas = append(replicas, leader)
		racksUsed := map[string]bool{rackOf[leader]: true}
		brokersUsed := map[model.BrokerID]bool{leader: true}
		step := 0
		for j := 0; j < rf-1; j++ {
			for {
				b := arranged[followerIndex(first, shift*numRacks, step, n)]
				rack := rackOf[b]
				step++
				// Take b unless its rack already holds a replica while some
				// rack holds none, or b itself already holds one while some
				// broker holds none.
				rackOK := !racksUsed[rack] || len(racksUsed) == numRacks
				brokerOK := !brokersUsed[b] || len(brokersUsed) == n
				if rackOK && brokerOK {
					replicas = append(replicas, b)
					racksUsed[rack] = true
					brokersUsed[b] = true
					break
				}
			}
		}
		out[int32(p)] = replicas
		p++
	}
	return out
}

func countRacks(rackOf map[model.BrokerID]string) int {
	seen := make(map[string]struct{})
	for _, r := range rackOf {
		seen[r] = struct{}{}
	}
	return len(seen)
}

// RackAlternatedBrokers orders brokers so that consecutive entries come
// from different racks: racks sorted by name, brokers of a rack by id, one
// broker from each rack in turn (racks that run out are skipped). Kafka:
// AdminUtils.getRackAlternatedBrokerList; {0:r1, 1:r3, 2:r3, 3:r2, 4:r2,
// 5:r1} gives 0, 3, 1, 5, 4, 2.
func RackAlternatedBrokers(rackOf map[model.BrokerID]string) []model.BrokerID {
	byRack := make(map[string][]model.BrokerID)
	for id, rack := range rackOf {
		byRack[rack] = append(byRack[rack], id)
	}
	racks := make([]string, 0, len(byRack))
	for rack, ids := range byRack {
		slices.Sort(ids)
		racks = append(racks, rack)
	}
	slices.Sort(racks)
	out := make([]model.BrokerID, 0, len(rackOf))
	for i := 0; len(out) < len(rackOf); i++ {
		for _, rack := range racks {
			if ids := byRack[rack]; i < len(ids) {
				out = append(out, ids[i])
			}
		}
	}
	return out
}

// RackAwareMode is how the ZooKeeper admin paths treat broker racks when
// they gather brokers for an assignment (Kafka's RackAwareMode).
type RackAwareMode int

const (
	// RackAwareEnforced fails when some but not all brokers have a rack; it
	// is the mode of CreatePartitions and of the admin tools' default.
	RackAwareEnforced RackAwareMode = iota
	// RackAwareSafe ignores racks unless every broker has one.
	RackAwareSafe
	// RackAwareDisabled ignores racks.
	RackAwareDisabled
)

// BrokerMetadatas turns registered brokers into assignment input sorted by
// id, applying mode (Kafka's AdminZkClient.getBrokerMetadatas). With
// RackAwareEnforced and partial rack information it fails with
// UNKNOWN_SERVER_ERROR (an AdminOperationException in Kafka); in
// CreatePartitions that failure happens before any topic is looked at, so
// every topic of the request gets it.
func BrokerMetadatas(brokers []model.Broker, mode RackAwareMode) ([]BrokerMetadata, error) {
	withRack := 0
	for _, b := range brokers {
		if b.Rack != nil {
			withRack++
		}
	}
	if mode == RackAwareEnforced && withRack > 0 && withRack < len(brokers) {
		return nil, newError(kerr.UnknownServerError, msgPartialRacksEnforced)
	}
	dropRacks := mode == RackAwareDisabled || (mode == RackAwareSafe && withRack < len(brokers))
	out := make([]BrokerMetadata, len(brokers))
	for i, b := range brokers {
		out[i] = BrokerMetadata{ID: b.ID}
		if !dropRacks && b.Rack != nil {
			rack := *b.Rack
			out[i].Rack = &rack
		}
	}
	slices.SortStableFunc(out, func(a, b BrokerMetadata) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// AddPartitionsStart returns the start index Kafka uses for both the first
// replica and the follower shift when it assigns added partitions: the
// position, in the id-sorted broker list, of the first broker whose id is
// at least partition 0's first replica, or 0 if there is none.
func AddPartitionsStart(sortedBrokers []BrokerMetadata, partition0 []model.BrokerID) int32 {
	if len(partition0) == 0 {
		return 0
	}
	for i, b := range sortedBrokers {
		if b.ID >= partition0[0] {
			return int32(i)
		}
	}
	return 0
}

// NewPartitionsAssignment is the assignment of the partitions added to a
// topic whose current assignment is existing (partitions 0..N-1), so that
// it has newCount partitions in all (Kafka's
// AdminZkClient.createNewPartitionsAssignment). brokers are the cluster's
// brokers sorted by id (BrokerMetadatas). manual, when not nil, is the
// caller's assignment of the new partitions, keyed by partition id; it is
// checked (ValidateAddedPartitions) and returned as is. Otherwise the new
// partitions get AssignReplicas with partition 0's replication factor,
// start AddPartitionsStart and first partition id N.
//
// Errors: partition 0 missing → UNKNOWN_SERVER_ERROR; newCount <= N →
// INVALID_PARTITIONS "The number of partitions for a topic can only be
// increased. ..."; the errors of ValidateAddedPartitions and AssignReplicas.
// The CreatePartitions handler checks the count first with its own words
// (CheckPartitionCount).
func NewPartitionsAssignment(topic string, existing map[int32][]model.BrokerID, brokers []BrokerMetadata, newCount int32, manual map[int32][]model.BrokerID, r Rand) (Assignment, error) {
	p0, ok := existing[0]
	if !ok {
		return nil, newError(kerr.UnknownServerError, fmt.Sprintf(
			"Unexpected existing replica assignment for topic '%s', partition id 0 is missing. Assignment: %s",
			topic, formatAssignment(existing)))
	}
	current := int32(len(existing))
	toAdd := newCount - current
	if toAdd <= 0 {
		return nil, newError(kerr.InvalidPartitions, fmt.Sprintf(
			"The number of partitions for a topic can only be increased. Topic %s currently has %d partitions, %d would not be an increase.",
			topic, current, newCount))
	}
	if manual != nil {
		ids := make([]model.BrokerID, len(brokers))
		for i, b := range brokers {
			ids[i] = b.ID
		}
		if err := ValidateAddedPartitions(manual, len(p0), ids); err != nil {
			return nil, err
		}
		out := make(Assignment, len(manual))
		for p, rs := range manual {
			out[p] = slices.Clone(rs)
		}
		return out, nil
	}
	start := AddPartitionsStart(brokers, p0)
	return AssignReplicas(brokers, toAdd, int32(len(p0)), start, current, r)
}

// ValidateAddedPartitions checks a manual assignment of added partitions
// against the topic's replication factor (partition 0's replica count) and
// the available brokers, in Kafka's order (AdminZkClient.
// validateReplicaAssignment): per partition, in ascending id order, an
// empty list or a repeated broker → INVALID_REPLICA_ASSIGNMENT, a broker not
// in available → BROKER_NOT_AVAILABLE; then every partition whose replica
// count differs from expectedRF → INVALID_REPLICA_ASSIGNMENT "Inconsistent
// replication factor between partitions, ...".
func ValidateAddedPartitions(manual map[int32][]model.BrokerID, expectedRF int, available []model.BrokerID) error {
	known := make(map[model.BrokerID]bool, len(available))
	for _, id := range available {
		known[id] = true
	}
	parts := Assignment(manual).Partitions()
	for _, p := range parts {
		replicas := manual[p]
		if len(replicas) == 0 {
			return newError(kerr.InvalidReplicaAssignment, fmt.Sprintf(
				"Cannot have replication factor of 0 for partition id %d.", p))
		}
		if hasDuplicate(replicas) {
			return newError(kerr.InvalidReplicaAssignment, fmt.Sprintf(
				"Duplicate brokers not allowed in replica assignment: %s for partition id %d.", joinIDs(replicas), p))
		}
		for _, b := range replicas {
			if !known[b] {
				return newError(kerr.BrokerNotAvailable, fmt.Sprintf(
					"Some brokers specified for partition id %d are not available. Specified brokers: %s, available brokers: %s.",
					p, joinIDs(replicas), joinIDs(available)))
			}
		}
	}
	var badParts, badRFs []string
	for _, p := range parts {
		if n := len(manual[p]); n != expectedRF {
			badParts = append(badParts, strconv.Itoa(int(p)))
			badRFs = append(badRFs, strconv.Itoa(n))
		}
	}
	if len(badParts) > 0 {
		return newError(kerr.InvalidReplicaAssignment, fmt.Sprintf(
			"Inconsistent replication factor between partitions, partition 0 has %d while partitions [%s] have replication factors [%s], respectively.",
			expectedRF, strings.Join(badParts, ", "), strings.Join(badRFs, ", ")))
	}
	return nil
}

func hasDuplicate(ids []model.BrokerID) bool {
	seen := make(map[model.BrokerID]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return true
		}
		seen[id] = true
	}
	return false
}

// joinIDs renders ids as Scala's mkString(", ").
func joinIDs(ids []model.BrokerID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ", ")
}

// formatAssignment renders an assignment as Scala prints a Map of Seqs,
// partitions ascending: "HashMap(0 -> ArrayBuffer(1, 2), 1 -> ...)".
func formatAssignment(a map[int32][]model.BrokerID) string {
	var b strings.Builder
	b.WriteString("HashMap(")
	for i, p := range Assignment(a).Partitions() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d -> ArrayBuffer(%s)", p, joinIDs(a[p]))
	}
	b.WriteString(")")
	return b.String()
}
