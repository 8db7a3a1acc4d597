package api

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Config resource types of DescribeConfigs.
const (
	resourceTopic  = 2
	resourceBroker = 4
)

func (h *Handler) describeConfigs(ctx context.Context, req *kmsg.DescribeConfigsRequest) kmsg.Response {
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		r := kmsg.NewDescribeConfigsResponseResource()
		r.ResourceType, r.ResourceName = rr.ResourceType, rr.ResourceName
		var entries []ConfigEntry
		var err error
		switch rr.ResourceType {
		case resourceTopic:
			if !h.cached(rr.ResourceName) {
				err = fmt.Errorf("topic %s does not exist: %w", rr.ResourceName, kerr.UnknownTopicOrPartition)
			} else {
				entries, err = h.d.DescribeTopicConfigs(ctx, rr.ResourceName)
			}
		case resourceBroker:
			if rr.ResourceName != "" && rr.ResourceName != strconv.Itoa(int(h.d.BrokerID)) {
				err = fmt.Errorf("unexpected broker id, expected %d or empty string, but received %s: %w", h.d.BrokerID, rr.ResourceName, kerr.InvalidRequest)
			} else {
				entries, err = h.d.DescribeBrokerConfigs(ctx, rr.ResourceName)
			}
		default:
			err = fmt.Errorf("unsupported resource type %d: %w", rr.ResourceType, kerr.InvalidRequest)
		}
		if err != nil {
			r.ErrorCode = errorCode(err)
			r.ErrorMessage = errorMessage(err)
			resp.Resources = append(resp.Resources, r)
			continue
		}
		for _, e := range entries {
			if rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, e.Name) {
				continue
			}
			c := kmsg.NewDescribeConfigsResponseResourceConfig()
			c.Name, c.Value, c.ReadOnly, c.IsSensitive = e.Name, e.Value, e.ReadOnly, e.Sensitive
			c.Source = kmsg.ConfigSource(e.Source)
			c.IsDefault = e.Source == 5 // v0: DEFAULT_CONFIG
			c.ConfigType = kmsg.ConfigType(e.Type)
			if req.IncludeSynonyms {
				for _, s := range e.Synonyms {
					cs := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
					cs.Name, cs.Value, cs.Source = s.Name, s.Value, kmsg.ConfigSource(s.Source)
					c.ConfigSynonyms = append(c.ConfigSynonyms, cs)
				}
			}
			r.Configs = append(r.Configs, c)
		}
		resp.Resources = append(resp.Resources, r)
	}
	return resp
}
