package main

import (
	"errors"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// deleteOffsets is --delete-offsets: OffsetDelete for the --topic topics
// (all their partitions) and topic:P,P partitions of one group, then
// Kafka's verdict line and a TOPIC/PARTITION/STATUS table. The exit status
// is 0 whatever the verdict, as in Kafka.
func (c *command) deleteOffsets() error {
	group, _, err := c.o.Value("group")
	if err != nil {
		return asUsage(err)
	}
	topics := c.o.Values("topic")

	status := map[tp]string{} // "" for success
	var partitions []tp
	var whole []string
	for _, arg := range topics {
		if strings.Contains(arg, ":") {
			tps, err := parseTopicWithPartitions(arg)
			if err != nil {
				return err
			}
			partitions = append(partitions, tps...)
		} else {
			whole = append(whole, arg)
		}
	}
	described, unknown, err := c.topicPartitions(whole)
	if err != nil {
		return err
	}
	for t, code := range unknown {
		status[tp{t, -1}] = "Error: :" + javaException(code, nil)
	}
	partitions = dedupTPs(append(partitions, described...))

	topLevel, results, err := c.sendOffsetDelete(group, partitions)
	if err != nil {
		return err
	}
	for _, t := range partitions {
		if msg := results[t]; msg != "" {
			status[t] = "Error: :" + msg
		} else {
			status[t] = ""
		}
	}

	switch topLevel {
	case "NONE":
		c.out.WriteString("Request succeed for deleting offsets with topic " + strings.Join(topics, ", ") + " group " + group + "\n")
	case kerr.InvalidGroupID.Message:
		c.printError("'" + group + "' is not valid.")
	case kerr.GroupIDNotFound.Message:
		c.printError("'" + group + "' does not exist.")
	case kerr.GroupAuthorizationFailed.Message:
		c.printError("Access to '" + group + "' is not authorized.")
	case kerr.NonEmptyGroup.Message:
		c.printError("Deleting offsets of a consumer group '" + group + "' is forbidden if the group is not empty.")
	case kerr.GroupSubscribedToTopic.Message, kerr.TopicAuthorizationFailed.Message, kerr.UnknownTopicOrPartition.Message:
		c.printError("Encounter some partition level error, see the follow-up details:")
	default:
		c.printError("Encounter some unknown error: " + topLevel)
	}

	keys := make([]tp, 0, len(status))
	for t := range status {
		keys = append(keys, t)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].topic+itoa(int64(keys[i].partition)) < keys[j].topic+itoa(int64(keys[j].partition))
	})
	widths := []int{30, 15, 15}
	c.out.WriteString("\n" + row(widths, "TOPIC", "PARTITION", "STATUS") + "\n")
	for _, t := range keys {
		partition, result := itoa(int64(t.partition)), status[t]
		if t.partition < 0 {
			partition = "Not Provided"
		}
		if result == "" {
			result = "Successful"
		}
		c.out.WriteString(row(widths, t.topic, partition, result) + "\n")
	}
	return nil
}

// sendOffsetDelete sends one OffsetDelete to the group's coordinator. It
// returns the name of the error Kafka's tool sees for the whole call ("NONE",
// the group's error, else the first partition's) and each failed
// partition's exception text. A call that could not be completed fails every
// partition with its exception.
func (c *command) sendOffsetDelete(group string, partitions []tp) (string, map[tp]string, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	req := kmsg.NewPtrOffsetDeleteRequest()
	req.Group = group
	index := map[string]int{}
	for _, t := range partitions {
		i, ok := index[t.topic]
		if !ok {
			i = len(req.Topics)
			index[t.topic] = i
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = t.topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewOffsetDeleteRequestTopicPartition()
		rp.Partition = t.partition
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	results := map[tp]string{}
	failAll := func(msg string) {
		for _, t := range partitions {
			results[t] = msg
		}
	}
	resp, err := req.RequestWith(ctx, c.cl.Client)
	if err != nil {
		var ke *kerr.Error
		if errors.As(err, &ke) {
			failAll(javaException(ke.Code, nil))
			return ke.Message, results, nil
		}
		failAll(requestErr("deleteConsumerGroupOffsets", err).Error())
		return kerr.RequestTimedOut.Message, results, nil
	}
	if resp.ErrorCode != 0 {
		failAll(javaException(resp.ErrorCode, nil))
		return errorName(resp.ErrorCode), results, nil
	}
	top := "NONE"
	codes := map[tp]int16{}
	var failed []tp
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				k := tp{t.Topic, p.Partition}
				results[k] = javaException(p.ErrorCode, nil)
				codes[k] = p.ErrorCode
				failed = append(failed, k)
			}
		}
	}
	if len(failed) > 0 {
		top = errorName(codes[sortByPartition(failed)[0]])
	}
	return top, results, nil
}

// errorName is the Errors enum name of a code.
func errorName(code int16) string {
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
		return e.Message
	}
	return "UNKNOWN_SERVER_ERROR"
}
