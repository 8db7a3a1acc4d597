package main

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// The Java admin client turns an error code into an exception whose
// toString() the tool prints: "org.apache.kafka.common.errors.<Class>:
// <message>", the broker's message or else the code's default message.
// The class is the code's name in CamelCase plus "Exception" except for
// these.
var exceptionClasses = map[int16]string{
	kerr.UnknownServerError.Code:         "UnknownServerException",
	kerr.RequestTimedOut.Code:            "TimeoutException",
	kerr.InvalidTopicException.Code:      "InvalidTopicException",
	kerr.ClusterAuthorizationFailed.Code: "ClusterAuthorizationException",
	kerr.TopicAuthorizationFailed.Code:   "TopicAuthorizationException",
	kerr.NotLeaderForPartition.Code:      "NotLeaderOrFollowerException",
}

// defaultMessages are Kafka's texts (Errors.java) for the codes an
// ElectLeaders answer carries, where they differ from franz-go's.
var defaultMessages = map[int16]string{
	kerr.UnknownServerError.Code:          "The server experienced an unexpected error when processing the request.",
	kerr.UnknownTopicOrPartition.Code:     "This server does not host this topic-partition.",
	kerr.RequestTimedOut.Code:             "The request timed out.",
	kerr.InvalidTopicException.Code:       "The request attempted to perform an operation on an invalid topic.",
	kerr.ClusterAuthorizationFailed.Code:  "Cluster authorization failed.",
	kerr.NotController.Code:               "This is not the correct controller for this cluster.",
	kerr.PreferredLeaderNotAvailable.Code: "The preferred leader was not available.",
	kerr.EligibleLeadersNotAvailable.Code: "Eligible topic partition leaders are not available.",
	kerr.ElectionNotNeeded.Code:           "Leader election not needed for topic partition.",
}

// javaException is the toString() of the Java exception for a code.
func javaException(code int16, brokerMsg *string) string {
	class, ok := exceptionClasses[code]
	if !ok {
		class = "UnknownServerException"
		if e, isKerr := kerr.ErrorForCode(code).(*kerr.Error); isKerr {
			class = camel(e.Message) + "Exception"
		}
	}
	msg := ""
	switch {
	case brokerMsg != nil:
		msg = *brokerMsg
	case defaultMessages[code] != "":
		msg = defaultMessages[code]
	default:
		msg = cli.ErrorMessage(code, nil)
	}
	return "org.apache.kafka.common.errors." + class + ": " + msg
}

// camel turns PREFERRED_LEADER_NOT_AVAILABLE into PreferredLeaderNotAvailable.
func camel(name string) string {
	var b strings.Builder
	for _, w := range strings.Split(strings.ToLower(name), "_") {
		if w != "" {
			b.WriteString(strings.ToUpper(w[:1]) + w[1:])
		}
	}
	return b.String()
}
