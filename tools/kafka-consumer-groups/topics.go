package main

import (
	"sort"
	"strconv"
	"strings"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// javaSplit is String.split for a literal separator: trailing empty
// strings are dropped, and a string without the separator is returned
// whole.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	if len(parts) == 1 {
		return parts
	}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// parseTopicWithPartitions reads a "topic:0,1,2" argument of --topic,
// failing with Kafka's usage errors.
func parseTopicWithPartitions(arg string) ([]tp, error) {
	arr := javaSplit(arg, ":")
	if len(arr) != 2 {
		return nil, usagef("Invalid topic arg '%s', expected topic name and partitions", arg)
	}
	var tps []tp
	for _, p := range javaSplit(arr[1], ",") {
		n, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return nil, usagef("Invalid partition '%s' specified in topic arg '%s''", p, arg)
		}
		tps = append(tps, tp{arr[0], int32(n)})
	}
	return tps, nil
}

// topicPartitions is Admin.describeTopics for whole topics: the partitions
// of the topics that exist (topics in the order of the admin client's
// HashMap of descriptions, partitions in order) and, for each topic that
// could not be described, its error code.
func (c *command) topicPartitions(names []string) ([]tp, map[string]int16, error) {
	failed := map[string]int16{}
	if len(names) == 0 {
		return nil, failed, nil
	}
	var distinct []string
	seen := map[string]bool{}
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			distinct = append(distinct, n)
		}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	meta, err := cli.Metadata(ctx, c.cl.Client, distinct)
	if err != nil {
		return nil, nil, wrapped(requestErr("describeTopics", err))
	}
	partitions := map[string][]int32{}
	for _, t := range meta.Topics {
		if t.Topic == nil {
			continue
		}
		if t.ErrorCode != 0 {
			failed[*t.Topic] = t.ErrorCode
			continue
		}
		for _, p := range t.Partitions {
			partitions[*t.Topic] = append(partitions[*t.Topic], p.Partition)
		}
	}
	var tps []tp
	for _, n := range hashMapOfStrings(newJavaHashMapSized(len(distinct)), distinct) {
		ps, ok := partitions[n]
		if !ok {
			if _, bad := failed[n]; !bad {
				failed[n] = 3 // UNKNOWN_TOPIC_OR_PARTITION: the broker did not mention it
			}
			continue
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		for _, p := range ps {
			tps = append(tps, tp{n, p})
		}
	}
	return tps, failed, nil
}
