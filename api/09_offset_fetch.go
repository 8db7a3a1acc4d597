package api

import (
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/group"
)

// offsetFetch serves OffsetFetch (key 9): one group before v8, a batch of
// groups from v8. No topic list (v2+) means every committed offset of the
// group. A partition without a committed offset answers -1, "" and -1.
func (h *Handler) offsetFetch(req *kmsg.OffsetFetchRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			g := kmsg.NewOffsetFetchResponseGroup()
			g.Group = rg.Group
			var topics []group.TopicPartitions
			if rg.Topics != nil {
				topics = []group.TopicPartitions{}
				for _, t := range rg.Topics {
					topics = append(topics, group.TopicPartitions{Topic: t.Topic, Partitions: t.Partitions})
				}
			}
			offsets, err := h.d.Groups.FetchOffsets(rg.Group, req.RequireStable, topics)
			g.ErrorCode = errorCode(err)
			if err == nil {
				g.Topics = groupFetchTopics(offsets)
			}
			resp.Groups = append(resp.Groups, g)
		}
		return resp
	}
	var topics []group.TopicPartitions
	if req.Topics != nil || req.Version < 2 {
		topics = []group.TopicPartitions{}
		for _, t := range req.Topics {
			topics = append(topics, group.TopicPartitions{Topic: t.Topic, Partitions: t.Partitions})
		}
	}
	offsets, err := h.d.Groups.FetchOffsets(req.Group, req.Version >= 7 && req.RequireStable, topics)
	if err != nil {
		if req.Version >= 2 {
			resp.ErrorCode = errorCode(err)
			return resp
		}
		// v0-v1 have no top-level error: every partition carries it.
		offsets = nil
		for _, t := range topics {
			for _, p := range t.Partitions {
				offsets = append(offsets, group.FetchedOffset{Topic: t.Topic, Partition: p, Offset: -1, LeaderEpoch: -1, Err: err})
			}
		}
	}
	for _, gt := range groupFetchTopics(offsets) {
		t := kmsg.NewOffsetFetchResponseTopic()
		t.Topic = gt.Topic
		for _, gp := range gt.Partitions {
			p := kmsg.NewOffsetFetchResponseTopicPartition()
			p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = gp.Partition, gp.Offset, gp.LeaderEpoch, gp.Metadata, gp.ErrorCode
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	return resp
}

// groupFetchTopics groups fetched offsets by topic, in the order met.
func groupFetchTopics(offsets []group.FetchedOffset) []kmsg.OffsetFetchResponseGroupTopic {
	var out []kmsg.OffsetFetchResponseGroupTopic
	idx := map[string]int{}
	for _, o := range offsets {
		i, ok := idx[o.Topic]
		if !ok {
			t := kmsg.NewOffsetFetchResponseGroupTopic()
			t.Topic = o.Topic
			out = append(out, t)
			i = len(out) - 1
			idx[o.Topic] = i
		}
		p := kmsg.NewOffsetFetchResponseGroupTopicPartition()
		md := o.Metadata
		p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode = o.Partition, o.Offset, o.LeaderEpoch, &md, errorCode(o.Err)
		out[i].Partitions = append(out[i].Partitions, p)
	}
	return out
}
