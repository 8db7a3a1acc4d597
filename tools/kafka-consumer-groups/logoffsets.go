package main

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// The ListOffsets timestamps that ask for a partition's end and start.
const (
	latestTimestamp   = -1
	earliestTimestamp = -2
)

// logOffsets is Admin.listOffsets for partitions: the offset the broker
// returns for timestamp (latestTimestamp, earliestTimestamp or a time in
// milliseconds; -1 when no record is that recent) for every partition that
// exists and answers. A partition missing from the result is Kafka's
// LogOffsetResult.Unknown. The topics are looked up first, so that a topic
// or partition that does not exist (any more) costs no retries.
func (c *command) logOffsets(tps []tp, timestamp int64) (map[tp]int64, error) {
	out := map[tp]int64{}
	if len(tps) == 0 {
		return out, nil
	}
	ctx, cancel := c.ctx()
	defer cancel()
	var topics []string
	seen := map[string]bool{}
	for _, t := range tps {
		if !seen[t.topic] {
			seen[t.topic] = true
			topics = append(topics, t.topic)
		}
	}
	meta, err := cli.Metadata(ctx, c.cl.Client, topics)
	if err != nil {
		return nil, wrapped(requestErr("listOffsets", err))
	}
	leaders := map[tp]bool{}
	for _, t := range meta.Topics {
		if t.Topic == nil || t.ErrorCode != 0 {
			continue
		}
		for _, p := range t.Partitions {
			if p.ErrorCode == 0 && p.Leader >= 0 {
				leaders[tp{*t.Topic, p.Partition}] = true
			}
		}
	}

	req := kmsg.NewPtrListOffsetsRequest()
	req.TimeoutMillis = int32(min(c.timeout.Milliseconds(), 1<<31-1))
	index := map[string]int{}
	for _, t := range tps {
		if !leaders[t] {
			continue
		}
		i, ok := index[t.topic]
		if !ok {
			i = len(req.Topics)
			index[t.topic] = i
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = t.topic
			req.Topics = append(req.Topics, rt)
		}
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = t.partition
		rp.Timestamp = timestamp
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	if len(req.Topics) == 0 {
		return out, nil
	}
	for _, shard := range c.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			var ke *kerr.Error
			if errors.As(shard.Err, &ke) {
				continue // these partitions stay unknown
			}
			return nil, wrapped(requestErr("listOffsets", shard.Err))
		}
		for _, t := range shard.Resp.(*kmsg.ListOffsetsResponse).Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode == 0 {
					out[tp{t.Topic, p.Partition}] = p.Offset
				}
			}
		}
	}
	return out, nil
}
