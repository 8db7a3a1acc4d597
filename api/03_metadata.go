package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/admin"
	"github.com/kbroker/kbroker/metacache"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/netserver"
)

func (h *Handler) metadata(ctx context.Context, nr *netserver.Request, req *kmsg.MetadataRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	listener := nr.Conn.Listener
	for _, b := range h.d.Cache.Brokers() {
		e, ok := b.Endpoint(listener)
		if !ok {
			continue
		}
		rb := kmsg.NewMetadataResponseBroker()
		rb.NodeID, rb.Host, rb.Port, rb.Rack = int32(b.ID), e.Host, e.Port, b.Rack
		resp.Brokers = append(resp.Brokers, rb)
	}
	cid := h.d.ClusterID
	resp.ClusterID = &cid
	resp.ControllerID = int32(h.d.Cache.ControllerID())

	// v0: an empty list means all topics; v1+: null means all, empty none.
	all := req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0)
	if all {
		for _, t := range h.d.Cache.Topics() {
			resp.Topics = append(resp.Topics, h.topicMetadata(t, listener))
		}
		return resp
	}
	autoCreate := h.d.AutoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
	var toCreate []string
	for _, rt := range req.Topics {
		if rt.Topic == nil {
			// v10+: by topic id.
			name, ok := h.d.Cache.TopicByID(model.TopicID(rt.TopicID))
			if !ok {
				t := kmsg.NewMetadataResponseTopic()
				t.TopicID = rt.TopicID
				t.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, t)
				continue
			}
			resp.Topics = append(resp.Topics, h.topicMetadata(name, listener))
			continue
		}
		name := *rt.Topic
		if _, _, ok := h.d.Cache.Topic(name); ok {
			resp.Topics = append(resp.Topics, h.topicMetadata(name, listener))
			continue
		}
		t := kmsg.NewMetadataResponseTopic()
		t.Topic = kmsg.StringPtr(name)
		t.IsInternal = admin.IsInternalTopic(name)
		switch {
		case !admin.IsValidTopicName(name):
			t.ErrorCode = kerr.InvalidTopicException.Code
		case autoCreate && !admin.IsInternalTopic(name):
			t.ErrorCode = kerr.LeaderNotAvailable.Code
			toCreate = append(toCreate, name)
		default:
			t.ErrorCode = kerr.UnknownTopicOrPartition.Code
		}
		resp.Topics = append(resp.Topics, t)
	}
	if len(toCreate) > 0 {
		failed := h.autoCreate(ctx, toCreate)
		for i := range resp.Topics {
			if t := &resp.Topics[i]; t.Topic != nil && failed[*t.Topic] != 0 {
				t.ErrorCode = failed[*t.Topic]
			}
		}
	}
	return resp
}

// autoCreate creates topics with the broker defaults (auto.create.topics.enable),
// as any ZooKeeper-mode broker may: it writes the znodes and the controller
// does the rest; the client sees LEADER_NOT_AVAILABLE meanwhile. A creation
// that fails (e.g. default.replication.factor above the live brokers) is
// answered with its error code instead, as Kafka does; the result maps
// those topics to their codes.
func (h *Handler) autoCreate(ctx context.Context, names []string) map[string]int16 {
	var topics []admin.CreatableTopic
	for _, n := range names {
		topics = append(topics, admin.CreatableTopic{Name: n, NumPartitions: admin.NoNumPartitions, ReplicationFactor: admin.NoReplicationFactor})
	}
	failed := map[string]int16{}
	for _, r := range h.d.Admin.CreateTopics(ctx, topics, false, h.brokerMetadatas(), h.cached) {
		if r.Err == nil {
			continue
		}
		switch code := errorCode(r.Err); code {
		case kerr.TopicAlreadyExists.Code, kerr.RequestTimedOut.Code:
		default:
			h.log.Warn().Err(r.Err).Str("topic", r.Name).Msg("auto-creating a topic")
			failed[r.Name] = code
		}
	}
	return failed
}

func (h *Handler) cached(topic string) bool {
	_, _, ok := h.d.Cache.Topic(topic)
	return ok
}

// brokerMetadatas is the live brokers for replica assignment.
func (h *Handler) brokerMetadatas() []admin.BrokerMetadata {
	var out []admin.BrokerMetadata
	for _, b := range h.d.Cache.Brokers() {
		out = append(out, admin.BrokerMetadata{ID: b.ID, Rack: b.Rack})
	}
	return out
}

// topicMetadata describes a known topic for the listener the request came on.
func (h *Handler) topicMetadata(name, listener string) kmsg.MetadataResponseTopic {
	t := kmsg.NewMetadataResponseTopic()
	t.Topic = kmsg.StringPtr(name)
	t.IsInternal = admin.IsInternalTopic(name)
	parts, id, ok := h.d.Cache.Topic(name)
	if !ok {
		t.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return t
	}
	t.TopicID = id
	for _, p := range parts {
		t.Partitions = append(t.Partitions, h.partitionMetadata(p, listener))
	}
	return t
}

func (h *Handler) partitionMetadata(p metacache.PartitionUpdate, listener string) kmsg.MetadataResponseTopicPartition {
	rp := kmsg.NewMetadataResponseTopicPartition()
	rp.Partition = p.Partition
	rp.Leader = int32(p.Leader)
	rp.LeaderEpoch = int32(p.LeaderEpoch)
	rp.Replicas = int32s(p.Replicas)
	rp.ISR = int32s(p.ISR)
	rp.OfflineReplicas = int32s(p.OfflineReplicas)
	leader, live := h.d.Cache.Broker(p.Leader)
	switch {
	case !live:
		rp.Leader = -1
		rp.ErrorCode = kerr.LeaderNotAvailable.Code
	default:
		if _, ok := leader.Endpoint(listener); !ok {
			rp.Leader = -1
			rp.ErrorCode = kerr.ListenerNotFound.Code
		}
	}
	return rp
}

func int32s(ids []model.BrokerID) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}
