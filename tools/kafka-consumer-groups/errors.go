package main

import (
	"errors"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// Kafka's tool prints some failures as the Java exception's toString():
// "org.apache.kafka.common.errors.<Class>: <message>". The class of most
// error codes is the code's name in CamelCase plus "Exception"; these are
// the exceptions to that rule among the errors group commands meet.
var exceptionClasses = map[int16]string{
	kerr.NonEmptyGroup.Code:              "GroupNotEmptyException",
	kerr.GroupAuthorizationFailed.Code:   "GroupAuthorizationException",
	kerr.TopicAuthorizationFailed.Code:   "TopicAuthorizationException",
	kerr.ClusterAuthorizationFailed.Code: "ClusterAuthorizationException",
	kerr.UnknownServerError.Code:         "UnknownServerException",
	kerr.NotLeaderForPartition.Code:      "NotLeaderOrFollowerException",
	kerr.RequestTimedOut.Code:            "TimeoutException",
}

// javaException is the toString() of the Java client's exception for a
// Kafka error code.
func javaException(code int16, brokerMsg *string) string {
	class, ok := exceptionClasses[code]
	if !ok {
		class = "UnknownServerException"
		if e, isKerr := kerr.ErrorForCode(code).(*kerr.Error); isKerr {
			class = camel(e.Message) + "Exception"
		}
	}
	return "org.apache.kafka.common.errors." + class + ": " + cli.ErrorMessage(code, brokerMsg)
}

// javaExceptionOf is javaException for an error a kgo/kadm call returned.
func javaExceptionOf(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return javaException(ke.Code, nil)
	}
	return err.Error()
}

// camel turns UNKNOWN_TOPIC_OR_PARTITION into UnknownTopicOrPartition.
func camel(name string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(name), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}

// javaFailure is a failure whose text is the toString() of the Java
// exception an admin call of Kafka's tool fails with. Kafka's tool prints
// it as it is where it lets the ExecutionException through, and behind
// "java.util.concurrent.ExecutionException: " where it wraps it in a
// RuntimeException first (see wrapped).
type javaFailure struct{ exc string }

func (e *javaFailure) Error() string { return e.exc }

// failure is the javaFailure of a Kafka error code.
func failure(code int16, brokerMsg *string) error {
	return &javaFailure{exc: javaException(code, brokerMsg)}
}

// requestErr turns a request that could not be completed into a
// javaFailure: a TimeoutException naming the admin call when no broker
// answered in time, else the Java form of the error.
func requestErr(call string, err error) error {
	if cli.Unreachable(err) {
		return &javaFailure{exc: "org.apache.kafka.common.errors.TimeoutException: " + cli.TimeoutError(call, err).Error()}
	}
	return &javaFailure{exc: javaExceptionOf(err)}
}

// wrapped is err as Kafka's tool reports it after wrapping the
// ExecutionException in a RuntimeException.
func wrapped(err error) error {
	var jf *javaFailure
	if errors.As(err, &jf) {
		return cli.Messagef("java.util.concurrent.ExecutionException: %s", jf.exc)
	}
	return err
}
