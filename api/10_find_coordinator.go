package api

import (
	"context"
	"errors"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/admin"
	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/netserver"
	"github.com/kbroker/kbroker/txn"
)

// Key types of FindCoordinator.
const (
	coordinatorGroup       int8 = 0
	coordinatorTransaction int8 = 1
)

// findCoordinator answers FindCoordinator (key 10): the leader of the
// key's __consumer_offsets partition (key type 0, groups) or
// __transaction_state partition (key type 1, transactional ids). While the topic does not exist it is
// created (as Kafka's AutoTopicCreationManager does) and the answer is
// COORDINATOR_NOT_AVAILABLE; so it is while the partition has no live
// leader. v4+ asks for several keys at once.
func (h *Handler) findCoordinator(ctx context.Context, nr *netserver.Request, req *kmsg.FindCoordinatorRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if req.Version < 4 {
		c := h.coordinatorFor(ctx, nr.Conn.Listener, req.CoordinatorType, req.CoordinatorKey)
		resp.ErrorCode, resp.ErrorMessage = c.ErrorCode, c.ErrorMessage
		resp.NodeID, resp.Host, resp.Port = c.NodeID, c.Host, c.Port
		return resp
	}
	for _, key := range req.CoordinatorKeys {
		resp.Coordinators = append(resp.Coordinators, h.coordinatorFor(ctx, nr.Conn.Listener, req.CoordinatorType, key))
	}
	return resp
}

func (h *Handler) coordinatorFor(ctx context.Context, listener string, keyType int8, key string) kmsg.FindCoordinatorResponseCoordinator {
	c := kmsg.NewFindCoordinatorResponseCoordinator()
	c.Key, c.NodeID, c.Port = key, -1, -1
	fail := func(err error) kmsg.FindCoordinatorResponseCoordinator {
		c.ErrorCode = errorCode(err)
		var ke *kerr.Error
		if errors.As(err, &ke) {
			msg := ke.Description
			c.ErrorMessage = &msg
		}
		return c
	}
	var topic string
	var p int32
	switch {
	case keyType == coordinatorTransaction && h.d.Txn != nil:
		topic = txn.StateTopic
		if _, _, ok := h.d.Cache.Topic(topic); !ok {
			h.createTxnTopic(ctx)
			return fail(kerr.CoordinatorNotAvailable)
		}
		p, _ = h.d.Txn.PartitionOf(key)
	case keyType == coordinatorTransaction:
		return fail(kerr.CoordinatorNotAvailable)
	case keyType != coordinatorGroup || h.d.Groups == nil:
		return fail(kerr.InvalidRequest)
	default:
		topic = group.OffsetsTopic
		if _, _, ok := h.d.Cache.Topic(topic); !ok {
			h.createOffsetsTopic(ctx)
			return fail(kerr.CoordinatorNotAvailable)
		}
		p, _ = h.d.Groups.PartitionOf(key)
	}
	parts, _, _ := h.d.Cache.Topic(topic)
	for _, pu := range parts {
		if pu.Partition != p || pu.Leader < 0 {
			continue
		}
		b, live := h.d.Cache.Broker(pu.Leader)
		if !live {
			break
		}
		ep, ok := b.Endpoint(listener)
		if !ok {
			break
		}
		c.NodeID, c.Host, c.Port = int32(b.ID), ep.Host, ep.Port
		return c
	}
	return fail(kerr.CoordinatorNotAvailable)
}

// createOffsetsTopic creates __consumer_offsets with Kafka's settings for
// it (offsets.topic.*: partitions, replication factor, segment bytes;
// compacted; compression.type producer). Failures (e.g. fewer live brokers
// than the replication factor) are only logged: the client keeps getting
// COORDINATOR_NOT_AVAILABLE, as from Kafka.
func (h *Handler) createOffsetsTopic(ctx context.Context) {
	o := h.d.OffsetsTopic
	t := admin.CreatableTopic{Name: group.OffsetsTopic, NumPartitions: o.Partitions, ReplicationFactor: o.ReplicationFactor,
		Configs: []admin.TopicConfig{
			{Name: "compression.type", Value: kmsg.StringPtr("producer")},
			{Name: "cleanup.policy", Value: kmsg.StringPtr("compact")},
			{Name: "segment.bytes", Value: kmsg.StringPtr(strconv.Itoa(int(o.SegmentBytes)))},
		}}
	for _, r := range h.d.Admin.CreateTopics(ctx, []admin.CreatableTopic{t}, false, h.brokerMetadatas(), h.cached) {
		if r.Err != nil && errorCode(r.Err) != kerr.TopicAlreadyExists.Code {
			h.log.Warn().Err(r.Err).Int32("partitions", o.Partitions).Int16("replicationFactor", o.ReplicationFactor).
				Msg("creating " + group.OffsetsTopic + " failed (offsets.topic.replication.factor above the live brokers?)")
		}
	}
}

// OffsetsTopicSettings are the offsets.topic.* settings.
type OffsetsTopicSettings struct {
	Partitions        int32
	ReplicationFactor int16
	SegmentBytes      int32
}

// createTxnTopic creates __transaction_state with Kafka's settings for it
// (TransactionStateManager.transactionTopicConfigs: transaction.state.log.*
// partitions, replication factor, min ISR and segment bytes; compacted,
// uncompressed, no unclean leader election). Failures are only logged: the
// client keeps getting COORDINATOR_NOT_AVAILABLE.
func (h *Handler) createTxnTopic(ctx context.Context) {
	o := h.d.TxnTopic
	t := admin.CreatableTopic{Name: txn.StateTopic, NumPartitions: o.Partitions, ReplicationFactor: o.ReplicationFactor,
		Configs: []admin.TopicConfig{
			{Name: "unclean.leader.election.enable", Value: kmsg.StringPtr("false")},
			{Name: "compression.type", Value: kmsg.StringPtr("uncompressed")},
			{Name: "cleanup.policy", Value: kmsg.StringPtr("compact")},
			{Name: "min.insync.replicas", Value: kmsg.StringPtr(strconv.Itoa(int(o.MinISR)))},
			{Name: "segment.bytes", Value: kmsg.StringPtr(strconv.Itoa(int(o.SegmentBytes)))},
		}}
	for _, r := range h.d.Admin.CreateTopics(ctx, []admin.CreatableTopic{t}, false, h.brokerMetadatas(), h.cached) {
		if r.Err != nil && errorCode(r.Err) != kerr.TopicAlreadyExists.Code {
			h.log.Warn().Err(r.Err).Int32("partitions", o.Partitions).Int16("replicationFactor", o.ReplicationFactor).
				Msg("creating " + txn.StateTopic + " failed (transaction.state.log.replication.factor above the live brokers?)")
		}
	}
}

// TxnTopicSettings are the transaction.state.log.* settings.
type TxnTopicSettings struct {
	Partitions        int32
	ReplicationFactor int16
	MinISR            int32
	SegmentBytes      int32
}
