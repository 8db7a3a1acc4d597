package cli

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Metadata sends one Metadata request: for every topic when topics is nil,
// otherwise for the named ones, never creating topics.
func Metadata(ctx context.Context, cl *kgo.Client, topics []string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	if topics != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	req.AllowAutoTopicCreation = false
	return req.RequestWith(ctx, cl)
}

// ListTopics is Admin.listTopics: the names of every topic, sorted, leaving
// out internal ones unless listInternal.
func ListTopics(ctx context.Context, cl *kgo.Client, listInternal bool) ([]string, error) {
	resp, err := Metadata(ctx, cl, nil)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range resp.Topics {
		if t.Topic == nil {
			continue
		}
		if t.IsInternal && !listInternal {
			continue
		}
		names = append(names, *t.Topic)
	}
	sort.Strings(names)
	return names, nil
}
