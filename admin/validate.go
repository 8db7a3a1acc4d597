package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

// Error is a refused admin operation: the Kafka error code and the message
// Kafka sends with it. errors.Is(err, kerr.InvalidPartitions) and
// errors.As(err, new(*kerr.Error)) see the code.
type Error struct {
	Code    *kerr.Error
	Message string
}

func newError(code *kerr.Error, msg string) *Error { return &Error{Code: code, Message: msg} }

func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code.Message
	}
	return e.Code.Message + ": " + e.Message
}

// Unwrap exposes the Kafka error code.
func (e *Error) Unwrap() error { return e.Code }

// WireMessage is the error message a response carries, nil for null. Like
// Kafka's ApiError.fromThrowable it is null for UNKNOWN_SERVER_ERROR (no
// internals leak) and when the message is the code's default text.
func (e *Error) WireMessage() *string {
	if e.Code == kerr.UnknownServerError || e.Message == "" || e.Message == e.Code.Description {
		return nil
	}
	m := e.Message
	return &m
}

// ---------------------------------------------------------------------
// CreateTopics
// ---------------------------------------------------------------------

// Sentinels of CreateTopics v4+: the broker's num.partitions and
// default.replication.factor apply.
const (
	NoNumPartitions     int32 = -1
	NoReplicationFactor int16 = -1
)

// CreatableTopic is one topic of a CreateTopics request.
type CreatableTopic struct {
	Name              string
	NumPartitions     int32 // NoNumPartitions: broker default
	ReplicationFactor int16 // NoReplicationFactor: broker default
	// Assignments is the manual assignment in request order; empty means
	// the broker assigns.
	Assignments []PartitionReplicas
	Configs     []TopicConfig
}

// PartitionReplicas is one manual partition assignment.
type PartitionReplicas struct {
	Partition int32
	Replicas  []model.BrokerID
}

// TopicConfig is one config entry of a request; Value nil is a null value.
type TopicConfig struct {
	Name  string
	Value *string
}

// CreateDefaults are the broker settings a CreateTopics request may defer to.
type CreateDefaults struct {
	NumPartitions     int32 // num.partitions
	ReplicationFactor int16 // default.replication.factor
}

// TopicLookup answers the ZooKeeper questions of topic creation. zkmeta
// provides it; tests use a map.
type TopicLookup interface {
	// TopicMarkedForDeletion: /admin/delete_topics/<t> exists.
	TopicMarkedForDeletion(ctx context.Context, topic string) (bool, error)
	// TopicExists: /brokers/topics/<t> exists.
	TopicExists(ctx context.Context, topic string) (bool, error)
	// AllTopics: the children of /brokers/topics.
	AllTopics(ctx context.Context) ([]string, error)
}

// CreateTopicEnv is what PrepareCreateTopic consults.
type CreateTopicEnv struct {
	Defaults CreateDefaults
	// AliveBrokers are the metadata cache's alive brokers, racks as
	// registered; the assignment uses them in this order.
	AliveBrokers []BrokerMetadata
	// Cached reports whether the metadata cache knows the topic; nil: never.
	Cached func(topic string) bool
	// Lookup reads ZooKeeper.
	Lookup TopicLookup
	// Rand draws the assignment's start positions; nil: math/rand/v2.
	Rand Rand
}

// PrepareCreateTopic validates one CreateTopics entry and computes its
// assignment, in the order of Kafka's ZkAdminManager.createTopics and
// AdminZkClient.validateTopicCreate:
//
//  1. known to the metadata cache → TOPIC_ALREADY_EXISTS
//  2. CheckCreatableTopic (null config values, both forms of assignment)
//  3. ResolveTopicAssignment (defaults, AssignReplicas or the manual map)
//  4. ValidateTopicCreate (name, deletion marker, existence, collisions,
//     the assignment's shape)
//
// Config validation (LogConfig.validate) comes after it in Kafka and is the
// caller's, as are duplicate names and authorization, which the request
// handler settles before. Errors are *Error except a failed ZooKeeper read,
// returned wrapped (UNKNOWN_SERVER_ERROR).
func PrepareCreateTopic(ctx context.Context, t CreatableTopic, env CreateTopicEnv) (Assignment, error) {
	if env.Cached != nil && env.Cached(t.Name) {
		return nil, ErrTopicExists(t.Name)
	}
	if err := CheckCreatableTopic(t); err != nil {
		return nil, err
	}
	a, err := ResolveTopicAssignment(t, env.Defaults, env.AliveBrokers, env.Rand)
	if err != nil {
		return nil, err
	}
	if err := ValidateTopicCreate(ctx, env.Lookup, t.Name, a); err != nil {
		return nil, err
	}
	return a, nil
}

// CheckCreatableTopic applies the request-level rules of one CreateTopics
// entry: no null config value (INVALID_CONFIG "Null value not supported for
// topic configs: a,b") and not both numPartitions/replicationFactor and a
// manual assignment (INVALID_REQUEST).
func CheckCreatableTopic(t CreatableTopic) error {
	var nulls []string
	for _, c := range t.Configs {
		if c.Value == nil {
			nulls = append(nulls, c.Name)
		}
	}
	if len(nulls) > 0 {
		return newError(kerr.InvalidConfig, "Null value not supported for topic configs: "+strings.Join(nulls, ","))
	}
	if (t.NumPartitions != NoNumPartitions || t.ReplicationFactor != NoReplicationFactor) && len(t.Assignments) > 0 {
		return newError(kerr.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. "+
			"Both cannot be used at the same time.")
	}
	return nil
}

// ResolveTopicAssignment returns the manual assignment of t (a later entry
// for the same partition replaces an earlier one; brokers are not checked
// against the cluster, as in Kafka) or, without one, AssignReplicas over
// brokers with -1 values replaced by the defaults and a random start.
func ResolveTopicAssignment(t CreatableTopic, d CreateDefaults, brokers []BrokerMetadata, r Rand) (Assignment, error) {
	if len(t.Assignments) > 0 {
		a := make(Assignment, len(t.Assignments))
		for _, pr := range t.Assignments {
			a[pr.Partition] = append([]model.BrokerID(nil), pr.Replicas...)
		}
		return a, nil
	}
	partitions := t.NumPartitions
	if partitions == NoNumPartitions {
		partitions = d.NumPartitions
	}
	rf := t.ReplicationFactor
	if rf == NoReplicationFactor {
		rf = d.ReplicationFactor
	}
	return AssignReplicas(brokers, partitions, int32(rf), RandomStart, RandomStart, r)
}

// ValidateTopicCreate is Kafka's AdminZkClient.validateTopicCreate without
// the config part: ValidateTopicName; marked for deletion →
// TOPIC_ALREADY_EXISTS "... is marked for deletion."; exists →
// TOPIC_ALREADY_EXISTS; a name with '.' or '_' → CheckCollision against
// all topics; then ValidateNewTopicAssignment.
func ValidateTopicCreate(ctx context.Context, lookup TopicLookup, topic string, a Assignment) error {
	if err := ValidateTopicName(topic); err != nil {
		return err
	}
	marked, err := lookup.TopicMarkedForDeletion(ctx, topic)
	if err != nil {
		return fmt.Errorf("admin: read deletion marker of %q: %w", topic, err)
	}
	if marked {
		return ErrTopicMarkedForDeletion(topic)
	}
	exists, err := lookup.TopicExists(ctx, topic)
	if err != nil {
		return fmt.Errorf("admin: read topic %q: %w", topic, err)
	}
	if exists {
		return ErrTopicExists(topic)
	}
	if HasCollisionChars(topic) {
		all, err := lookup.AllTopics(ctx)
		if err != nil {
			return fmt.Errorf("admin: list topics: %w", err)
		}
		if err := CheckCollision(topic, all); err != nil {
			return err
		}
	}
	return ValidateNewTopicAssignment(a)
}

// ValidateNewTopicAssignment checks the shape of a new topic's assignment,
// all INVALID_REPLICA_ASSIGNMENT with Kafka's words: every partition has
// the same number of replicas ("All partitions should have the same number
// of replicas"), no partition lists a broker twice ("Duplicate replica
// assignment found: <map>"), and the partition ids are exactly 0..P-1
// ("partitions should be a consecutive 0-based integer sequence").
//
// Kafka tests the last rule by summing the non-negative ids, which lets a
// few odd sets through (such as {-1, 1}); kbroker requires exactly 0..P-1.
func ValidateNewTopicAssignment(a Assignment) error {
	sizes := make(map[int]struct{})
	for _, rs := range a {
		sizes[len(rs)] = struct{}{}
	}
	if len(sizes) != 1 {
		return newError(kerr.InvalidReplicaAssignment, "All partitions should have the same number of replicas")
	}
	for _, p := range a.Partitions() {
		if hasDuplicate(a[p]) {
			return newError(kerr.InvalidReplicaAssignment, "Duplicate replica assignment found: "+formatAssignment(a))
		}
	}
	for p := range int32(len(a)) {
		if _, ok := a[p]; !ok {
			return newError(kerr.InvalidReplicaAssignment, "partitions should be a consecutive 0-based integer sequence")
		}
	}
	return nil
}

// ErrDuplicateCreateTopic is the answer to every entry of a topic named
// more than once in one CreateTopics request.
func ErrDuplicateCreateTopic() error {
	return newError(kerr.InvalidRequest, "Found multiple entries for this topic.")
}

// RepeatedNames returns the names that occur more than once.
func RepeatedNames(names []string) map[string]bool {
	seen := make(map[string]bool, len(names))
	rep := make(map[string]bool)
	for _, n := range names {
		if seen[n] {
			rep[n] = true
		}
		seen[n] = true
	}
	return rep
}

// ---------------------------------------------------------------------
// CreatePartitions
// ---------------------------------------------------------------------

// TopicReplicas is a topic's current assignment as /brokers/topics/<t>
// holds it.
type TopicReplicas struct {
	Partitions map[int32][]model.BrokerID
	Adding     map[int32][]model.BrokerID
	Removing   map[int32][]model.BrokerID
}

// CreatePartitionsTopic is one topic of a CreatePartitions request.
type CreatePartitionsTopic struct {
	Name  string
	Count int32
	// Assignments is nil when the request's array is null (the broker
	// assigns), else one replica list per new partition, in order.
	Assignments [][]model.BrokerID
}

// ErrDuplicateCreatePartitions is the answer to a topic named more than
// once in one CreatePartitions request.
func ErrDuplicateCreatePartitions() error {
	return newError(kerr.InvalidRequest, "Duplicate topic in request.")
}

// ErrQueuedForDeletion is the CreatePartitions answer for a topic the
// controller is deleting.
func ErrQueuedForDeletion() error {
	return newError(kerr.InvalidTopicException, "The topic is queued for deletion.")
}

// CheckPartitionCount allows only an increase of a topic's partition count,
// with the words of Kafka's CreatePartitions handler (INVALID_PARTITIONS).
func CheckPartitionCount(current, requested int32) error {
	switch {
	case requested < current:
		return newError(kerr.InvalidPartitions, fmt.Sprintf(
			"Topic currently has %d partitions, which is higher than the requested %d.", current, requested))
	case requested == current:
		return newError(kerr.InvalidPartitions, fmt.Sprintf("Topic already has %d partitions.", current))
	}
	return nil
}

// PlanCreatePartitions validates one CreatePartitions entry against the
// topic's current assignment and the cluster's brokers (BrokerMetadatas
// with RackAwareEnforced, sorted by id) and returns the assignment of the
// new partitions only, in the order of Kafka's
// ZkAdminManager.createPartitions:
//
//  1. a partition being reassigned → REASSIGNMENT_IN_PROGRESS
//  2. no partitions → UNKNOWN_TOPIC_OR_PARTITION "The topic '<t>' does not exist."
//  3. CheckPartitionCount
//  4. manual: brokers not in the cluster → INVALID_REPLICA_ASSIGNMENT
//     "Unknown broker(s) in replica assignment: ..."; a count other than the
//     increase → INVALID_REPLICA_ASSIGNMENT; the lists become partitions
//     N, N+1, ...
//  5. NewPartitionsAssignment (manual lists checked against partition 0's
//     replication factor; else Kafka's assignment for added partitions).
//
// Duplicate names, authorization and the deletion queue are the request
// handler's (ErrDuplicateCreatePartitions, ErrQueuedForDeletion).
func PlanCreatePartitions(t CreatePartitionsTopic, current TopicReplicas, brokers []BrokerMetadata, r Rand) (Assignment, error) {
	for p := range current.Partitions {
		if len(current.Adding[p]) > 0 || len(current.Removing[p]) > 0 {
			return nil, newError(kerr.ReassignmentInProgress, fmt.Sprintf(
				"A partition reassignment is in progress for the topic '%s'.", t.Name))
		}
	}
	if len(current.Partitions) == 0 {
		return nil, newError(kerr.UnknownTopicOrPartition, fmt.Sprintf("The topic '%s' does not exist.", t.Name))
	}
	oldCount := int32(len(current.Partitions))
	if err := CheckPartitionCount(oldCount, t.Count); err != nil {
		return nil, err
	}
	var manual map[int32][]model.BrokerID
	if t.Assignments != nil {
		known := make(map[model.BrokerID]bool, len(brokers))
		for _, b := range brokers {
			known[b.ID] = true
		}
		var unknown []model.BrokerID
		listed := make(map[model.BrokerID]bool)
		for _, rs := range t.Assignments {
			for _, b := range rs {
				if !known[b] && !listed[b] {
					unknown = append(unknown, b)
				}
				listed[b] = true
			}
		}
		if len(unknown) > 0 {
			return nil, newError(kerr.InvalidReplicaAssignment,
				"Unknown broker(s) in replica assignment: "+joinIDs(unknown)+".")
		}
		increase := t.Count - oldCount
		if int32(len(t.Assignments)) != increase {
			return nil, newError(kerr.InvalidReplicaAssignment, fmt.Sprintf(
				"Increasing the number of partitions by %d but %d assignments provided.", increase, len(t.Assignments)))
		}
		manual = make(map[int32][]model.BrokerID, len(t.Assignments))
		for i, rs := range t.Assignments {
			manual[oldCount+int32(i)] = rs
		}
	}
	return NewPartitionsAssignment(t.Name, current.Partitions, brokers, t.Count, manual, r)
}
