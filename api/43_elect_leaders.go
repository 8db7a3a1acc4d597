package api

import (
	"context"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// electLeaders handles ElectLeaders (key 43) as a Kafka 3.9 ZooKeeper
// broker does (KafkaApis.handleElectLeaders, ReplicaManager.electLeaders):
//
//   - v0 has no election type: PREFERRED; a type other than 0 (PREFERRED)
//     or 1 (UNCLEAN) fails the request like Kafka's IllegalArgumentException:
//     UNKNOWN_SERVER_ERROR at the top and for every listed partition;
//   - a null topic list means every partition this broker's metadata knows;
//     the partitions that needed no election are then left out of the
//     answer;
//   - only the active controller elects; any other broker answers
//     NOT_CONTROLLER for every partition (admin clients send the request to
//     the controller they find in Metadata);
//   - after the controller wrote the elections, the answer waits until this
//     broker's metadata shows each new leader, up to the request's timeout
//     (REQUEST_TIMED_OUT for the partitions still waiting).
//
// Results come sorted by topic and partition (Kafka's order is its hash
// map's).
func (h *Handler) electLeaders(ctx context.Context, req *kmsg.ElectLeadersRequest) kmsg.Response {
	start := time.Now()
	resp := req.ResponseKind().(*kmsg.ElectLeadersResponse)
	electionType := int8(0)
	if req.Version >= 1 {
		electionType = req.ElectionType
	}
	if electionType != 0 && electionType != 1 {
		resp.ErrorCode = kerr.UnknownServerError.Code
		for _, rt := range req.Topics {
			t := kmsg.NewElectLeadersResponseTopic()
			t.Topic = rt.Topic
			for _, p := range rt.Partitions {
				rp := kmsg.NewElectLeadersResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, kerr.UnknownServerError.Code
				t.Partitions = append(t.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, t)
		}
		return resp
	}

	all := req.Topics == nil
	var tps []model.TopicPartition
	if all {
		for _, topic := range h.d.Cache.Topics() {
			parts, _, _ := h.d.Cache.Topic(topic)
			for _, p := range parts {
				tps = append(tps, model.TopicPartition{Topic: topic, Partition: p.Partition})
			}
		}
	} else {
		for _, rt := range req.Topics {
			for _, p := range rt.Partitions {
				tps = append(tps, model.TopicPartition{Topic: rt.Topic, Partition: p})
			}
		}
	}
	slices.SortFunc(tps, model.CompareTopicPartitions)
	tps = slices.Compact(tps)

	if h.d.Controller == nil || h.d.IsController == nil || !h.d.IsController() {
		resp.Topics = electionAnswers(tps, func(model.TopicPartition) int16 { return kerr.NotController.Code })
		return resp
	}
	results, leaders := h.d.Controller.ElectLeaders(ctx, electionType, tps)

	if len(leaders) > 0 {
		shown := func(tp model.TopicPartition) bool {
			info, ok := h.d.Cache.Partition(tp)
			return ok && info.Leader == leaders[tp]
		}
		remaining := timeoutOf(req.TimeoutMillis) - time.Since(start)
		h.d.Cache.WaitFor(ctx, max(remaining, 0), func() bool {
			for tp := range leaders {
				if !shown(tp) {
					return false
				}
			}
			return true
		})
		for i := range results {
			rt := &results[i]
			for j := range rt.Partitions {
				rp := &rt.Partitions[j]
				tp := model.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}
				if _, elected := leaders[tp]; elected && rp.ErrorCode == 0 && !shown(tp) {
					rp.ErrorCode, rp.ErrorMessage = kerr.RequestTimedOut.Code, nil
				}
			}
		}
	}

	if all {
		// Only the partitions that were elected or failed.
		for i := range results {
			rt := &results[i]
			rt.Partitions = slices.DeleteFunc(rt.Partitions, func(p kmsg.ElectLeadersResponseTopicPartition) bool {
				return p.ErrorCode == kerr.ElectionNotNeeded.Code
			})
		}
		results = slices.DeleteFunc(results, func(t kmsg.ElectLeadersResponseTopic) bool { return len(t.Partitions) == 0 })
	}
	resp.Topics = results
	return resp
}

// electionAnswers is one result per sorted partition with the given code
// and no message.
func electionAnswers(tps []model.TopicPartition, code func(model.TopicPartition) int16) []kmsg.ElectLeadersResponseTopic {
	var out []kmsg.ElectLeadersResponseTopic
	for _, tp := range tps {
		if n := len(out); n == 0 || out[n-1].Topic != tp.Topic {
			t := kmsg.NewElectLeadersResponseTopic()
			t.Topic = tp.Topic
			out = append(out, t)
		}
		rp := kmsg.NewElectLeadersResponseTopicPartition()
		rp.Partition, rp.ErrorCode = tp.Partition, code(tp)
		t := &out[len(out)-1]
		t.Partitions = append(t.Partitions, rp)
	}
	return out
}
