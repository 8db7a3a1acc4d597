package api

import (
	"context"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/admin"
	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/metacache"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/netserver"
	"github.com/kbroker/kbroker/replica"
	"github.com/kbroker/kbroker/txn"
)

// Deps are the services the handlers use.
type Deps struct {
	BrokerID  model.BrokerID
	ClusterID string
	Cache     *metacache.Cache
	Replicas  *replica.Manager
	Admin     *admin.Service
	// IsController reports whether this broker is the active controller.
	IsController func() bool
	// Controller takes the requests brokers send to the active controller
	// (ControlledShutdown, AlterPartition); nil answers NOT_CONTROLLER.
	Controller ControllerRequests
	// AutoCreateTopics is auto.create.topics.enable.
	AutoCreateTopics bool
	// DescribeTopicConfigs and DescribeBrokerConfigs answer
	// DescribeConfigs (the broker wires them to the config package).
	DescribeTopicConfigs  func(ctx context.Context, topic string) ([]ConfigEntry, error)
	DescribeBrokerConfigs func(ctx context.Context, broker string) ([]ConfigEntry, error)
	// DescribeNewTopicConfigs lists the configs a topic with these
	// overrides has (CreateTopics v5+ answers them).
	DescribeNewTopicConfigs func(overrides map[string]string) []ConfigEntry
	// ProducerIDs hands out producer ids (InitProducerId); nil answers
	// COORDINATOR_NOT_AVAILABLE.
	ProducerIDs ProducerIDSource
	// Groups is the group coordinator.
	Groups *group.Coordinator
	// Txn is the transaction coordinator; nil answers
	// COORDINATOR_NOT_AVAILABLE to transactional requests.
	Txn *txn.Coordinator
	// VerifyTxn asks the transactional id's coordinator which of the
	// partitions are in the producer's transaction (KIP-890 verification
	// of transactional produces, AddPartitionsToTxn v4 VerifyOnly) and
	// returns the error of each partition that is not (nil entries and
	// absent ones are verified). nil when
	// transaction.partition.verification.enable is off.
	VerifyTxn func(ctx context.Context, transactionalID string, producerID int64, producerEpoch int16, tps []model.TopicPartition) map[model.TopicPartition]error
	// TxnMarkerWritten, if set, is told of each transaction marker this
	// broker wrote (Kafka completes pending transactional offset commits of
	// __consumer_offsets partitions there).
	TxnMarkerWritten func(tp model.TopicPartition, producerID int64, commit bool)
	// TxnTopic holds the settings __transaction_state is created with.
	TxnTopic TxnTopicSettings
	// OffsetsTopic holds the settings __consumer_offsets is created with.
	OffsetsTopic OffsetsTopicSettings
	// TopicCompression is a topic's compression.type ("producer",
	// "zstd", ...); nil means "producer" for every topic.
	TopicCompression func(topic string) string
	Logger           zerolog.Logger
}

// ConfigEntry is one config of a DescribeConfigs answer.
type ConfigEntry struct {
	Name      string
	Value     *string
	Source    int8
	ReadOnly  bool
	Sensitive bool
	Type      int8
	Synonyms  []ConfigSynonym
}

// ConfigSynonym is one synonym of a config entry.
type ConfigSynonym struct {
	Name   string
	Value  *string
	Source int8
}

// Handler implements netserver.Handler.
type Handler struct {
	d   Deps
	log zerolog.Logger
}

// New returns a Handler.
func New(d Deps) *Handler {
	return &Handler{d: d, log: d.Logger.With().Str("component", "api").Logger()}
}

// VersionRange is the advertised range of a key (ApiVersions table).
func (h *Handler) VersionRange(key int16) (int16, int16, bool) {
	r, ok := versions[key]
	return r.min, r.max, ok
}

// Handle dispatches a request to its handler.
func (h *Handler) Handle(ctx context.Context, req *netserver.Request) *netserver.Response {
	switch r := req.Msg.(type) {
	case *kmsg.ProduceRequest:
		return h.produce(ctx, req, r)
	case *kmsg.FetchRequest:
		return h.fetch(ctx, req, r)
	case *kmsg.ListOffsetsRequest:
		return reply(h.listOffsets(r))
	case *kmsg.WriteTxnMarkersRequest:
		return reply(h.writeTxnMarkers(ctx, r))
	case *kmsg.MetadataRequest:
		return reply(h.metadata(ctx, req, r))
	case *kmsg.LeaderAndISRRequest:
		return reply(h.leaderAndIsr(r))
	case *kmsg.StopReplicaRequest:
		return reply(h.stopReplica(r))
	case *kmsg.UpdateMetadataRequest:
		return reply(h.updateMetadata(r))
	case *kmsg.ApiVersionsRequest:
		return reply(h.apiVersions(r))
	case *kmsg.CreateTopicsRequest:
		return reply(h.createTopics(ctx, r))
	case *kmsg.DeleteTopicsRequest:
		return reply(h.deleteTopics(ctx, r))
	case *kmsg.DescribeConfigsRequest:
		return reply(h.describeConfigs(ctx, r))
	case *kmsg.CreatePartitionsRequest:
		return reply(h.createPartitions(ctx, r))
	case *kmsg.DescribeClusterRequest:
		return reply(h.describeCluster(req, r))
	case *kmsg.FindCoordinatorRequest:
		return reply(h.findCoordinator(ctx, req, r))
	case *kmsg.InitProducerIDRequest:
		return reply(h.initProducerID(ctx, r))
	case *kmsg.OffsetForLeaderEpochRequest:
		return reply(h.offsetForLeaderEpoch(r))
	case *kmsg.ControlledShutdownRequest:
		return reply(h.controlledShutdown(ctx, r))
	case *kmsg.AlterPartitionRequest:
		return reply(h.alterPartition(ctx, r))
	case *kmsg.ElectLeadersRequest:
		return reply(h.electLeaders(ctx, r))
	case *kmsg.AddPartitionsToTxnRequest:
		return reply(h.addPartitionsToTxn(ctx, r))
	case *kmsg.AddOffsetsToTxnRequest:
		return reply(h.addOffsetsToTxn(ctx, r))
	case *kmsg.EndTxnRequest:
		return reply(h.endTxn(ctx, r))
	case *kmsg.DescribeProducersRequest:
		return reply(h.describeProducers(r))
	case *kmsg.DescribeTransactionsRequest:
		return reply(h.describeTransactions(r))
	case *kmsg.ListTransactionsRequest:
		return reply(h.listTransactions(r))
	}
	if h.d.Groups == nil {
		h.log.Warn().Int16("key", req.Key).Msg("group request without a group coordinator; closing the connection")
		return nil
	}
	switch r := req.Msg.(type) {
	case *kmsg.OffsetCommitRequest:
		return reply(h.offsetCommit(ctx, r))
	case *kmsg.OffsetFetchRequest:
		return reply(h.offsetFetch(r))
	case *kmsg.TxnOffsetCommitRequest:
		return reply(h.txnOffsetCommit(ctx, r))
	case *kmsg.JoinGroupRequest:
		return reply(h.joinGroup(ctx, req, r))
	case *kmsg.HeartbeatRequest:
		return reply(h.heartbeat(r))
	case *kmsg.LeaveGroupRequest:
		return reply(h.leaveGroup(r))
	case *kmsg.SyncGroupRequest:
		return reply(h.syncGroup(ctx, r))
	case *kmsg.DescribeGroupsRequest:
		return reply(h.describeGroups(r))
	case *kmsg.ListGroupsRequest:
		return reply(h.listGroups(r))
	case *kmsg.DeleteGroupsRequest:
		return reply(h.deleteGroups(r))
	case *kmsg.OffsetDeleteRequest:
		return reply(h.offsetDelete(r))
	}
	h.log.Warn().Int16("key", req.Key).Msg("request for an API without a handler; closing the connection")
	return nil
}

func reply(msg kmsg.Response) *netserver.Response {
	if msg == nil {
		return nil
	}
	return &netserver.Response{Msg: msg}
}

// timeoutOf turns a request timeout in ms into a duration (at least 0).
func timeoutOf(ms int32) time.Duration {
	if ms < 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}
