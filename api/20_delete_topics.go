package api

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// deleteTopics is served by the controller only. Topics are queued in
// /admin/delete_topics; the answer waits until this broker's metadata no
// longer shows them, or the timeout (REQUEST_TIMED_OUT).
func (h *Handler) deleteTopics(ctx context.Context, req *kmsg.DeleteTopicsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	type item struct {
		name string
		id   model.TopicID
		err  error
	}
	var items []item
	if req.Version >= 6 {
		for _, t := range req.Topics {
			it := item{id: model.TopicID(t.TopicID)}
			if t.Topic != nil {
				it.name = *t.Topic
			} else if n, ok := h.d.Cache.TopicByID(it.id); ok {
				it.name = n
			} else {
				it.err = kerr.UnknownTopicID
			}
			items = append(items, it)
		}
	} else {
		for _, n := range req.TopicNames {
			items = append(items, item{name: n})
		}
	}
	for i := range items {
		it := &items[i]
		switch {
		case it.err != nil:
		case !h.d.IsController():
			it.err = kerr.NotController
		case !h.d.Admin.DeleteTopicEnable:
			if req.Version < 3 {
				it.err = fmt.Errorf("topic deletion is disabled: %w", kerr.InvalidRequest)
			} else {
				it.err = kerr.TopicDeletionDisabled
			}
		default:
			it.err = h.d.Admin.DeleteTopic(ctx, it.name)
			if it.err == nil && it.id == model.ZeroTopicID {
				it.id = h.d.Cache.TopicID(it.name)
			}
		}
	}
	gone := func() bool {
		for _, it := range items {
			if it.err == nil && h.cached(it.name) {
				return false
			}
		}
		return true
	}
	if !h.d.Cache.WaitFor(ctx, timeoutOf(req.TimeoutMillis), gone) {
		for i := range items {
			if items[i].err == nil && h.cached(items[i].name) {
				items[i].err = fmt.Errorf("deletion of %s did not complete in time: %w", items[i].name, kerr.RequestTimedOut)
			}
		}
	}
	for _, it := range items {
		t := kmsg.NewDeleteTopicsResponseTopic()
		if it.name != "" {
			name := it.name
			t.Topic = &name
		}
		t.TopicID = it.id
		t.ErrorCode = errorCode(it.err)
		if it.err != nil {
			t.ErrorMessage = errorMessage(it.err)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}
