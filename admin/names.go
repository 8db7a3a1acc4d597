package admin

import (
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Internal topics of a ZooKeeper-mode cluster (Kafka's Topic.isInternal).
const (
	ConsumerOffsetsTopic  = "__consumer_offsets"
	TransactionStateTopic = "__transaction_state"
)

// MaxTopicNameLength is the longest legal topic name, in UTF-16 code units
// as Java counts String.length().
const MaxTopicNameLength = 249

// IsInternalTopic reports whether name is one of the internal topics.
func IsInternalTopic(name string) bool {
	return name == ConsumerOffsetsTopic || name == TransactionStateTopic
}

// TopicNameProblem returns why name is not a legal topic name, or "" if it
// is. The checks and words are Kafka's (Topic.detectInvalidTopic), in its
// order: empty, ".", "..", longer than 249, a character outside
// [a-zA-Z0-9._-].
func TopicNameProblem(name string) string {
	switch {
	case name == "":
		return "the empty string is not allowed"
	case name == ".":
		return "'.' is not allowed"
	case name == "..":
		return "'..' is not allowed"
	case javaLength(name) > MaxTopicNameLength:
		return fmt.Sprintf("the length of '%s' is longer than the max allowed length %d", name, MaxTopicNameLength)
	case !legalChars(name):
		return fmt.Sprintf("'%s' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'", name)
	}
	return ""
}

// IsValidTopicName reports whether name is a legal topic name.
func IsValidTopicName(name string) bool { return TopicNameProblem(name) == "" }

// ValidateTopicName returns nil for a legal topic name, else
// INVALID_TOPIC_EXCEPTION "Topic name is invalid: <reason>" (Kafka's
// Topic.validate).
func ValidateTopicName(name string) error {
	if p := TopicNameProblem(name); p != "" {
		return newError(kerr.InvalidTopicException, "Topic name is invalid: "+p)
	}
	return nil
}

// javaLength counts UTF-16 code units, as Java's String.length() does for
// the name Kafka decoded from the request.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func legalChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// HasCollisionChars reports whether name contains '.' or '_', the two
// characters that metric names cannot tell apart.
func HasCollisionChars(name string) bool {
	return strings.ContainsAny(name, "._")
}

// UnifyCollisionChars maps '.' to '_': two topics collide when their
// unified names are equal.
func UnifyCollisionChars(name string) string {
	return strings.ReplaceAll(name, ".", "_")
}

// HasCollision reports whether a and b differ only by '.' versus '_' at the
// same positions (or are equal).
func HasCollision(a, b string) bool {
	return UnifyCollisionChars(a) == UnifyCollisionChars(b)
}

// CheckCollision applies Kafka's collision rule for creating topic when
// the cluster holds allTopics (the children of /brokers/topics, in the
// order read). It only looks when the name has a collision character, as
// Kafka does. If allTopics contains topic itself (created meanwhile) →
// TOPIC_ALREADY_EXISTS "Topic '<t>' already exists."; if some topics
// collide → INVALID_TOPIC_EXCEPTION "Topic '<t>' collides with existing
// topics: a, b".
func CheckCollision(topic string, allTopics []string) error {
	if !HasCollisionChars(topic) {
		return nil
	}
	var colliding []string
	for _, t := range allTopics {
		if t == topic {
			return ErrTopicExists(topic)
		}
		if HasCollision(topic, t) {
			colliding = append(colliding, t)
		}
	}
	if len(colliding) > 0 {
		return newError(kerr.InvalidTopicException, fmt.Sprintf(
			"Topic '%s' collides with existing topics: %s", topic, strings.Join(colliding, ", ")))
	}
	return nil
}

// ErrTopicExists is TOPIC_ALREADY_EXISTS "Topic '<t>' already exists.".
func ErrTopicExists(topic string) error {
	return newError(kerr.TopicAlreadyExists, fmt.Sprintf("Topic '%s' already exists.", topic))
}

// ErrTopicMarkedForDeletion is TOPIC_ALREADY_EXISTS "Topic '<t>' is marked
// for deletion.", the answer to creating a topic that still has an
// /admin/delete_topics/<t> marker.
func ErrTopicMarkedForDeletion(topic string) error {
	return newError(kerr.TopicAlreadyExists, fmt.Sprintf("Topic '%s' is marked for deletion.", topic))
}
