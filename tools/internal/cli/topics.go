package cli

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka's internal topics (org.apache.kafka.common.internals.Topic).
const (
	GroupMetadataTopic    = "__consumer_offsets"
	TransactionStateTopic = "__transaction_state"
)

// IsInternal is Topic.isInternal.
func IsInternal(topic string) bool {
	return topic == GroupMetadataTopic || topic == TransactionStateTopic
}

// TopicFilter is TopicFilter.IncludeList: a regular expression that must
// match a whole topic name; commas mean "or", spaces and surrounding quotes
// are dropped. Java's and Go's syntaxes agree on everything topic patterns
// normally use.
type TopicFilter struct {
	Regex string
	re    *regexp.Regexp
}

// NewTopicFilter compiles raw as Kafka's IncludeList does.
func NewTopicFilter(raw string) (*TopicFilter, error) {
	r := strings.TrimSpace(raw)
	r = strings.ReplaceAll(r, ",", "|")
	r = strings.ReplaceAll(r, " ", "")
	r = strings.TrimLeft(r, `"'`)
	r = strings.TrimRight(r, `"'`)
	re, err := regexp.Compile("^(?:" + r + ")$")
	if err != nil {
		return nil, Messagef("%s is an invalid regex.", r)
	}
	return &TopicFilter{Regex: r, re: re}, nil
}

// Allowed is IncludeList.isTopicAllowed.
func (f *TopicFilter) Allowed(topic string, excludeInternal bool) bool {
	return f.re.MatchString(topic) && !(IsInternal(topic) && excludeInternal)
}

// UUIDString is org.apache.kafka.common.Uuid.toString: URL-safe base64
// without padding.
func UUIDString(id [16]byte) string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// ErrorMessage is the message the Java client's exception carries for a
// Kafka error code: the broker's message when it sent one, else the error's
// default description.
func ErrorMessage(code int16, brokerMsg *string) string {
	if brokerMsg != nil && *brokerMsg != "" {
		return *brokerMsg
	}
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
		return e.Description
	}
	return fmt.Sprintf("Unexpected error code: %d.", code)
}
