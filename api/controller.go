package api

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// ControllerRequests is the active controller's intake of the requests
// brokers send it. Each call blocks until the controller's event loop has
// handled the request (or ctx ends) and returns the whole response.
type ControllerRequests interface {
	AlterPartition(ctx context.Context, req *kmsg.AlterPartitionRequest) *kmsg.AlterPartitionResponse
	ControlledShutdown(ctx context.Context, req *kmsg.ControlledShutdownRequest) *kmsg.ControlledShutdownResponse
}

// ProducerIDSource hands out producer ids never used before in the cluster
// (txn.ProducerIDs in the broker).
type ProducerIDSource interface {
	Next(ctx context.Context) (int64, error)
}
