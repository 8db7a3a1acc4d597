package group

import (
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DescribeGroup answers DescribeGroups for one group. A group unknown
// here is reported Dead with no members, as Kafka does; the member
// metadata and assignments are given only for a Stable group. The error
// is a coordinator error (the caller sets its code).
func (c *Coordinator) DescribeGroup(groupID string) (kmsg.DescribeGroupsResponseGroup, error) {
	d := kmsg.NewDescribeGroupsResponseGroup()
	d.Group = groupID
	g, err := c.lookup(groupID, false)
	if err != nil {
		return d, err
	}
	if g == nil {
		d.State = Dead.String()
		return d, nil
	}
	defer g.mu.Unlock()
	d.State, d.ProtocolType = g.state.String(), g.protocolType
	if g.state == Stable {
		d.Protocol = g.protocol
	}
	for _, m := range g.sortedMembers() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		dm.ProtocolMetadata, dm.MemberAssignment = []byte{}, []byte{}
		if g.state == Stable {
			if md := m.metadataFor(g.protocol); md != nil {
				dm.ProtocolMetadata = md
			}
			if m.assignment != nil {
				dm.MemberAssignment = m.assignment
			}
		}
		d.Members = append(d.Members, dm)
	}
	return d, nil
}

// GroupOverview is one group of a ListGroups answer.
type GroupOverview struct {
	ID           string
	ProtocolType string
	State        string
}

// ListGroups lists the groups coordinated here, optionally only those in
// the given states (by name). The error is COORDINATOR_LOAD_IN_PROGRESS
// while a partition is still loading (the groups loaded so far are listed
// all the same, as Kafka does).
func (c *Coordinator) ListGroups(states []string) ([]GroupOverview, error) {
	var out []GroupOverview
	var err error
	for _, s := range c.allShards() {
		s.mu.Lock()
		if !s.loaded {
			err = kerr.CoordinatorLoadInProgress
		}
		groups := make([]*group, 0, len(s.groups))
		for _, g := range s.groups {
			groups = append(groups, g)
		}
		s.mu.Unlock()
		for _, g := range groups {
			g.mu.Lock()
			o := GroupOverview{ID: g.id, ProtocolType: g.protocolType, State: g.state.String()}
			dead := g.state == Dead
			g.mu.Unlock()
			if dead || (len(states) > 0 && !contains(states, o.State)) {
				continue
			}
			out = append(out, o)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// DeleteGroup deletes an Empty group with its offsets (DeleteGroups):
// GROUP_ID_NOT_FOUND when unknown, NON_EMPTY_GROUP while it has members.
func (c *Coordinator) DeleteGroup(groupID string) error {
	g, err := c.lookup(groupID, false)
	if err != nil {
		return err
	}
	if g == nil {
		return kerr.GroupIDNotFound
	}
	if g.state != Empty {
		g.mu.Unlock()
		return kerr.NonEmptyGroup
	}
	var all []topicPartition
	for tp := range g.offsets {
		all = append(all, tp)
	}
	return c.removeOffsets(g, all)
}

// DeleteOffsets deletes committed offsets of a group (OffsetDelete). It
// returns a group-level error, or an error per partition: partitions of a
// topic a member of a live consumer group subscribes to get
// GROUP_SUBSCRIBED_TO_TOPIC.
func (c *Coordinator) DeleteOffsets(groupID string, topics []TopicPartitions) (map[string]map[int32]error, error) {
	g, err := c.lookup(groupID, false)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, kerr.GroupIDNotFound
	}
	out := map[string]map[int32]error{}
	var subscribed map[string]bool
	switch {
	case g.state == Empty:
	case g.protocolType == "consumer":
		subscribed, _ = g.subscribedTopics()
	default:
		g.mu.Unlock()
		return nil, kerr.NonEmptyGroup
	}
	var eligible []topicPartition
	for _, t := range topics {
		out[t.Topic] = map[int32]error{}
		for _, p := range t.Partitions {
			if subscribed[t.Topic] {
				out[t.Topic][p] = kerr.GroupSubscribedToTopic
				continue
			}
			out[t.Topic][p] = nil
			eligible = append(eligible, topicPartition{t.Topic, p})
		}
	}
	if err := c.removeOffsets(g, eligible); err != nil {
		return nil, err
	}
	return out, nil
}

// removeOffsets (called with g locked; unlocks it) drops offsets and
// writes their tombstones; an Empty group left without offsets becomes
// Dead, with a group tombstone when it ever had a generation.
func (c *Coordinator) removeOffsets(g *group, tps []topicPartition) error {
	var entries []Entry
	for _, tp := range tps {
		if _, ok := g.offsets[tp]; ok {
			delete(g.offsets, tp)
			entries = append(entries, Entry{Key: OffsetKeyBytes(g.id, tp.topic, tp.partition)})
		}
	}
	s := g.s
	if g.state == Empty && len(g.offsets) == 0 && !g.hasAnyPending() {
		g.state = Dead
		s.removeGroup(g)
		if g.generation > 0 {
			entries = append(entries, Entry{Key: GroupKeyBytes(g.id)})
		}
	}
	g.mu.Unlock()
	if len(entries) == 0 {
		return nil
	}
	_, err := c.append(s, entries)
	return storeOffsetsError(err)
}
