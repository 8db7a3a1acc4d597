package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// ControllerRequests is the active controller's intake of the requests
// brokers send it. Each call blocks until the controller's event loop has
// handled the request (or ctx ends) and returns the whole response.
type ControllerRequests interface {
	AlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) *kmsg.AlterPartitionResponse
	ControlledShutdown(ctx context.Context, req *kmsg.ControlledShutdownRequest) *kmsg.ControlledShutdownResponse
	// ElectLeaders runs a leader election (0 PREFERRED, 1 UNCLEAN) for the
	// listed partitions and returns one result per distinct partition, and
	// the new leader of each partition elected (the caller waits until its
	// metadata shows them, as Kafka's DelayedElectLeader does).
	ElectLeaders(ctx context.Context, electionType int8, partitions []model.TopicPartition) ([]kmsg.ElectLeadersResponseTopic, map[model.TopicPartition]model.BrokerID)
}

// ProducerIDSource hands out producer ids never used before in the cluster
// (txn.ProducerIDs in the broker).
type ProducerIDSource interface {
	Next(ctx context.Context) (int64, error)
}
