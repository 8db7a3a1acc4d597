package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// configEntry is one entry of a topic's DescribeConfigs result.
type configEntry struct {
	name      string
	value     *string
	isDefault bool
}

// topicConfig is a topic's configs in the order Kafka's Config object (a
// java.util.HashMap keyed by name) iterates them.
type topicConfig []configEntry

func (tc topicConfig) get(name string) (configEntry, bool) {
	for _, e := range tc {
		if e.name == name {
			return e, true
		}
	}
	return configEntry{}, false
}

// reassignment is a partition's ongoing reassignment.
type reassignment struct{ replicas, adding, removing []int32 }

// partitionInfo is TopicPartitionInfo: leader is -1 when there is none or it
// is not a live broker.
type partitionInfo struct {
	partition int32
	leader    int32
	replicas  []int32
	isr       []int32
}

func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

func contains(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// inProgress is TopicCommand.isReassignmentInProgress.
func inProgress(p partitionInfo, ra *reassignment) bool {
	if ra == nil {
		return false
	}
	for _, r := range p.replicas {
		if contains(ra.adding, r) || contains(ra.removing, r) {
			return true
		}
	}
	return false
}

func replicationFactor(p partitionInfo, ra *reassignment) int {
	if inProgress(p, ra) {
		return len(ra.replicas) - len(ra.adding)
	}
	return len(p.replicas)
}

func (c *command) describe(ctx context.Context) error {
	o := c.o
	var names []string
	if idText, ok, _ := o.Value("topic-id"); ok {
		id, err := parseUUID(idText)
		if err != nil {
			return err
		}
		if id != ([16]byte{}) {
			return c.describeByID(ctx, idText, id)
		}
	}
	names, err := c.topics(ctx)
	if err != nil {
		return err
	}
	if err := c.ensureExists(names); err != nil {
		return err
	}
	if len(names) == 0 {
		return nil
	}
	meta, err := cli.Metadata(ctx, c.cl.Client, names)
	if err != nil {
		return requestErr("describeTopics", err)
	}
	return c.printDescriptions(ctx, meta, names)
}

func (c *command) describeByID(ctx context.Context, idText string, id [16]byte) error {
	exclude := c.o.Has("exclude-internal")
	meta, err := cli.Metadata(ctx, c.cl.Client, nil)
	if err != nil {
		return requestErr("listTopics", err)
	}
	var names []string
	for _, t := range meta.Topics {
		if t.Topic != nil && t.TopicID == id && !(t.IsInternal && exclude) {
			names = append(names, *t.Topic)
		}
	}
	if len(names) == 0 {
		if c.o.Has("if-exists") {
			return nil
		}
		return usage("TopicId '%s' does not exist as expected", idText)
	}
	return c.printDescriptions(ctx, meta, names)
}

// printDescriptions is the second half of TopicService.describeTopic: the
// metadata of the wanted topics, their configs, the live brokers and ongoing
// reassignments, printed topic by topic in the order Kafka's tool uses (that
// of a java.util.HashMap of the names).
func (c *command) printDescriptions(ctx context.Context, meta *kmsg.MetadataResponse, names []string) error {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	live := map[int32]bool{}
	for _, b := range meta.Brokers {
		live[b.NodeID] = true
	}
	byName := map[string]*kmsg.MetadataResponseTopic{}
	for i := range meta.Topics {
		t := &meta.Topics[i]
		if t.Topic == nil || !want[*t.Topic] {
			continue
		}
		if t.ErrorCode != 0 {
			return kafkaErr(t.ErrorCode, nil)
		}
		byName[*t.Topic] = t
	}
	for _, n := range names {
		if byName[n] == nil {
			return kafkaErr(kerr.UnknownTopicOrPartition.Code, nil)
		}
	}

	configs, err := c.describeConfigs(ctx, names)
	if err != nil {
		return err
	}
	reassignments, err := c.reassignments(ctx, byName, names)
	if err != nil {
		return err
	}

	describeConfigs := !c.anyOption(reportOptions...)
	describePartitions := !c.o.Has("topics-with-overrides")
	for _, i := range cli.HashMapOrder(names, len(names)) {
		name := names[i]
		t := byName[name]
		parts := make([]partitionInfo, 0, len(t.Partitions))
		for _, p := range t.Partitions {
			leader := p.Leader
			if !live[leader] {
				leader = -1
			}
			parts = append(parts, partitionInfo{partition: p.Partition, leader: leader, replicas: p.Replicas, isr: p.ISR})
		}
		sort.Slice(parts, func(a, b int) bool { return parts[a].partition < parts[b].partition })
		cfg := configs[name]
		if describeConfigs && len(parts) > 0 {
			hasOverride := false
			var shown []string
			for _, e := range cfg {
				if !e.isDefault {
					hasOverride = true
					v := "null"
					if e.value != nil {
						v = *e.value
					}
					shown = append(shown, e.name+"="+v)
				}
			}
			if !c.o.Has("topics-with-overrides") || hasOverride {
				first := parts[0]
				fmt.Fprintf(c.out, "Topic: %s", name)
				if t.TopicID != ([16]byte{}) {
					fmt.Fprintf(c.out, "\tTopicId: %s", cli.UUIDString(t.TopicID))
				}
				fmt.Fprintf(c.out, "\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n",
					len(parts), replicationFactor(first, reassignments[tp{name, first.partition}]), strings.Join(shown, ","))
			}
		}
		if !describePartitions {
			continue
		}
		minISR := 1
		if e, ok := cfg.get(minISRConfig); ok && e.value != nil {
			if n, err := strconv.Atoi(*e.value); err == nil {
				minISR = n
			}
		}
		for _, p := range parts {
			ra := reassignments[tp{name, p.partition}]
			show := describeConfigs ||
				(c.o.Has("under-replicated-partitions") && replicationFactor(p, ra)-len(p.isr) > 0) ||
				(c.o.Has("unavailable-partitions") && (p.leader < 0 || !live[p.leader])) ||
				(c.o.Has("under-min-isr-partitions") && (p.leader < 0 || len(p.isr) < minISR)) ||
				(c.o.Has("at-min-isr-partitions") && len(p.isr) == minISR)
			if !show {
				continue
			}
			leader := "none"
			if p.leader >= 0 {
				leader = strconv.Itoa(int(p.leader))
			}
			fmt.Fprintf(c.out, "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s",
				name, p.partition, leader, joinIDs(p.replicas), joinIDs(p.isr))
			if ra != nil {
				fmt.Fprintf(c.out, "\tAdding Replicas: %s\tRemoving Replicas: %s", joinIDs(ra.adding), joinIDs(ra.removing))
			}
			// ZooKeeper-mode brokers have no eligible leader replicas
			// (KIP-966): Kafka's tool, falling back to Metadata, prints N/A.
			fmt.Fprint(c.out, "\tElr: N/A\tLastKnownElr: N/A\n")
		}
	}
	return nil
}

// anyOption reports whether any of the options was given.
func (c *command) anyOption(names ...string) bool {
	for _, n := range names {
		if c.o.Has(n) {
			return true
		}
	}
	return false
}

// describeConfigs fetches every topic's configs in one DescribeConfigs
// request and orders each topic's entries as Kafka's Config does.
func (c *command) describeConfigs(ctx context.Context, names []string) (map[string]topicConfig, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	for _, n := range names {
		r := kmsg.NewDescribeConfigsRequestResource()
		r.ResourceType = kmsg.ConfigResourceTypeTopic
		r.ResourceName = n
		req.Resources = append(req.Resources, r)
	}
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		return nil, requestErr("describeConfigs", err)
	}
	out := map[string]topicConfig{}
	for _, r := range resp.Resources {
		if r.ErrorCode != 0 {
			return nil, kafkaErr(r.ErrorCode, r.ErrorMessage)
		}
		keys := make([]string, len(r.Configs))
		for i, e := range r.Configs {
			keys[i] = e.Name
		}
		var tc topicConfig
		for _, i := range cli.HashMapOrder(keys, 0) {
			e := r.Configs[i]
			isDefault := e.Source == defaultSrc
			if resp.Version == 0 {
				isDefault = e.IsDefault
			}
			tc = append(tc, configEntry{name: e.Name, value: e.Value, isDefault: isDefault})
		}
		out[r.ResourceName] = tc
	}
	return out, nil
}

type tp struct {
	topic     string
	partition int32
}

// reassignments lists the ongoing reassignments of the described
// partitions. Brokers that do not support the request, or refuse it for
// lack of cluster authorization, simply have none, as in Kafka's tool.
func (c *command) reassignments(ctx context.Context, byName map[string]*kmsg.MetadataResponseTopic, names []string) (map[tp]*reassignment, error) {
	req := kmsg.NewPtrListPartitionReassignmentsRequest()
	req.TimeoutMillis = c.timeoutMillis()
	for _, n := range names {
		rt := kmsg.NewListPartitionReassignmentsRequestTopic()
		rt.Topic = n
		for _, p := range byName[n].Partitions {
			rt.Partitions = append(rt.Partitions, p.Partition)
		}
		sort.Slice(rt.Partitions, func(a, b int) bool { return rt.Partitions[a] < rt.Partitions[b] })
		req.Topics = append(req.Topics, rt)
	}
	out := map[tp]*reassignment{}
	resp, err := req.RequestWith(ctx, c.cl)
	if err != nil {
		if unsupported(err) {
			return out, nil
		}
		return nil, requestErr("listPartitionReassignments", err)
	}
	if resp.ErrorCode != 0 {
		if resp.ErrorCode == kerr.UnsupportedVersion.Code || resp.ErrorCode == kerr.ClusterAuthorizationFailed.Code {
			return out, nil
		}
		return nil, kafkaErr(resp.ErrorCode, resp.ErrorMessage)
	}
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			out[tp{t.Topic, p.Partition}] = &reassignment{replicas: p.Replicas, adding: p.AddingReplicas, removing: p.RemovingReplicas}
		}
	}
	return out, nil
}

// unsupported reports whether a request failed because the broker does not
// know the API (kgo then refuses to send it) or refused it in a way Kafka's
// tool tolerates.
func unsupported(err error) bool {
	return strings.Contains(err.Error(), "broker is too old") ||
		errors.Is(err, kerr.UnsupportedVersion) || errors.Is(err, kerr.ClusterAuthorizationFailed)
}
