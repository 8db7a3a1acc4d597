package api

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/admin"
	"github.com/kbroker/kbroker/model"
)

// createTopics is served by the controller only (NOT_CONTROLLER elsewhere,
// as in ZooKeeper-mode Kafka). It writes the topics' znodes and waits until
// this broker's metadata shows a leader for every new partition, or the
// request's timeout (REQUEST_TIMED_OUT).
func (h *Handler) createTopics(ctx context.Context, req *kmsg.CreateTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	results := make([]admin.CreateResult, len(req.Topics))
	if h.d.IsController() {
		var topics []admin.CreatableTopic
		for _, rt := range req.Topics {
			t := admin.CreatableTopic{Name: rt.Topic, NumPartitions: rt.NumPartitions, ReplicationFactor: rt.ReplicationFactor}
			for _, a := range rt.ReplicaAssignment {
				t.Assignments = append(t.Assignments, admin.PartitionReplicas{Partition: a.Partition, Replicas: brokerIDs(a.Replicas)})
			}
			for _, c := range rt.Configs {
				t.Configs = append(t.Configs, admin.TopicConfig{Name: c.Name, Value: c.Value})
			}
			topics = append(topics, t)
		}
		results = h.d.Admin.CreateTopics(ctx, topics, req.ValidateOnly, h.brokerMetadatas(), h.cached)
		if !req.ValidateOnly {
			h.waitForTopics(ctx, req.TimeoutMillis, results)
		}
	} else {
		for i, rt := range req.Topics {
			results[i] = admin.CreateResult{Name: rt.Topic, Err: kerr.NotController, NumPartitions: -1, ReplicationFactor: -1}
		}
	}
	for _, r := range results {
		t := kmsg.NewCreateTopicsResponseTopic()
		t.Topic = r.Name
		t.ErrorCode = errorCode(r.Err)
		t.ErrorMessage = errorMessage(r.Err)
		t.NumPartitions, t.ReplicationFactor = -1, -1
		if r.Err == nil {
			t.TopicID = r.TopicID
			t.NumPartitions, t.ReplicationFactor = r.NumPartitions, r.ReplicationFactor
			if h.d.DescribeNewTopicConfigs != nil {
				for _, e := range h.d.DescribeNewTopicConfigs(r.Configs) {
					c := kmsg.NewCreateTopicsResponseTopicConfig()
					c.Name, c.Value, c.ReadOnly, c.Source, c.IsSensitive = e.Name, e.Value, e.ReadOnly, e.Source, e.Sensitive
					t.Configs = append(t.Configs, c)
				}
			}
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// waitForTopics waits until the created topics have a leader for every
// partition in the metadata cache; those still missing at the deadline get
// REQUEST_TIMED_OUT.
func (h *Handler) waitForTopics(ctx context.Context, timeoutMs int32, results []admin.CreateResult) {
	ready := func(r admin.CreateResult) bool {
		parts, _, ok := h.d.Cache.Topic(r.Name)
		if !ok || int32(len(parts)) < r.NumPartitions {
			return false
		}
		for _, p := range parts {
			if p.Leader < 0 {
				return false
			}
		}
		return true
	}
	allReady := func() bool {
		for _, r := range results {
			if r.Err == nil && !ready(r) {
				return false
			}
		}
		return true
	}
	if h.d.Cache.WaitFor(ctx, timeoutOf(timeoutMs), allReady) {
		return
	}
	for i, r := range results {
		if r.Err == nil && !ready(r) {
			results[i].Err = fmt.Errorf("topic %s was created but its partitions have no leader yet: %w", r.Name, kerr.RequestTimedOut)
		}
	}
}

// brokerIDs converts wire broker ids.
func brokerIDs(ids []int32) []model.BrokerID {
	out := make([]model.BrokerID, len(ids))
	for i, v := range ids {
		out[i] = model.BrokerID(v)
	}
	return out
}
