package api

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/admin"
	"github.com/kbroker/kbroker/model"
)

// createPartitions is served by the controller only: it rewrites the
// topics' assignments and waits until the new partitions have leaders.
func (h *Handler) createPartitions(ctx context.Context, req *kmsg.CreatePartitionsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	var names []string
	for _, t := range req.Topics {
		names = append(names, t.Topic)
	}
	dup := admin.RepeatedNames(names)
	errs := make([]error, len(req.Topics))
	for i, rt := range req.Topics {
		switch {
		case dup[rt.Topic]:
			errs[i] = admin.ErrDuplicateCreatePartitions()
		case !h.d.IsController():
			errs[i] = kerr.NotController
		default:
			t := admin.CreatePartitionsTopic{Name: rt.Topic, Count: rt.Count}
			if rt.Assignment != nil {
				t.Assignments = [][]model.BrokerID{}
				for _, a := range rt.Assignment {
					t.Assignments = append(t.Assignments, brokerIDs(a.Replicas))
				}
			}
			errs[i] = h.d.Admin.CreatePartitions(ctx, t, req.ValidateOnly, h.brokerMetadatas(), nil)
		}
	}
	if !req.ValidateOnly {
		ready := func(i int) bool {
			parts, _, ok := h.d.Cache.Topic(req.Topics[i].Topic)
			if !ok || int32(len(parts)) < req.Topics[i].Count {
				return false
			}
			for _, p := range parts {
				if p.Leader < 0 {
					return false
				}
			}
			return true
		}
		all := func() bool {
			for i := range req.Topics {
				if errs[i] == nil && !ready(i) {
					return false
				}
			}
			return true
		}
		if !h.d.Cache.WaitFor(ctx, timeoutOf(req.TimeoutMillis), all) {
			for i := range req.Topics {
				if errs[i] == nil && !ready(i) {
					errs[i] = fmt.Errorf("the new partitions of %s have no leader yet: %w", req.Topics[i].Topic, kerr.RequestTimedOut)
				}
			}
		}
	}
	for i, rt := range req.Topics {
		t := kmsg.NewCreatePartitionsResponseTopic()
		t.Topic = rt.Topic
		t.ErrorCode = errorCode(errs[i])
		if errs[i] != nil {
			t.ErrorMessage = errorMessage(errs[i])
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}
