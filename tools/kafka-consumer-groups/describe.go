package main

import (
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// member is a MemberDescription of a classic consumer group.
type member struct {
	id, instanceID, clientID, host string
	// assignment is the member's partitions in the order of the admin
	// client's HashSet of them.
	assignment []tp
}

// groupDescription is a ConsumerGroupDescription.
type groupDescription struct {
	id          string
	state       string // a name of groupStates
	assignor    string // the protocol (partition assignor), which brokers send for a stable group
	members     []member
	coordinator kgo.BrokerMetadata
}

// describeGroups is Admin.describeConsumerGroups: DescribeGroups sent to
// each group's coordinator. A group the coordinator does not know is in
// state Dead (newer brokers say GROUP_ID_NOT_FOUND, which the admin client
// of Kafka 4 maps to Dead as well). Any other error, or a group that is not
// a consumer group, fails the command as in Kafka.
func (c *command) describeGroups(ids []string) (map[string]*groupDescription, error) {
	out := make(map[string]*groupDescription, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	ctx, cancel := c.ctx()
	defer cancel()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = ids
	for _, shard := range c.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			return nil, requestErr("describeConsumerGroups", shard.Err)
		}
		for _, g := range shard.Resp.(*kmsg.DescribeGroupsResponse).Groups {
			d := &groupDescription{id: g.Group, coordinator: shard.Meta, state: canonical(groupStates, g.State), assignor: g.Protocol}
			switch {
			case g.ErrorCode == kerr.GroupIDNotFound.Code:
				d.state = "Dead"
			case g.ErrorCode != 0:
				return nil, failure(g.ErrorCode, g.ErrorMessage)
			case g.ProtocolType != "consumer" && g.ProtocolType != "":
				return nil, &javaFailure{exc: fmt.Sprintf("java.lang.IllegalArgumentException: GroupId %s is not a consumer group (%s).", g.Group, g.ProtocolType)}
			}
			for _, m := range g.Members {
				dm := member{id: m.MemberID, clientID: m.ClientID, host: m.ClientHost, assignment: decodeAssignment(m.MemberAssignment)}
				if m.InstanceID != nil {
					dm.instanceID = *m.InstanceID
				}
				d.members = append(d.members, dm)
			}
			out[g.Group] = d
		}
	}
	return out, nil
}

// decodeAssignment reads a ConsumerProtocol assignment. The admin client
// keeps the partitions in a HashSet, so they are returned in its order.
func decodeAssignment(b []byte) []tp {
	if len(b) == 0 {
		return nil
	}
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(b); err != nil {
		return nil
	}
	var tps []tp
	for _, t := range a.Topics {
		for _, p := range t.Partitions {
			tps = append(tps, tp{t.Topic, p})
		}
	}
	tps = dedupTPs(tps)
	return hashMapOfTPs(newJavaHashSetOf(len(tps)), tps)
}

// sortedGroupIDs returns the described groups in the order of Kafka's
// TreeMap of them.
func sortedGroupIDs(ds map[string]*groupDescription) []string {
	ids := make([]string, 0, len(ds))
	for id := range ds {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// committed is a group's committed offsets (ListConsumerGroupOffsets):
// offset -1 where the broker lists a partition without an offset.
type committed struct {
	offsets map[tp]int64
	order   []tp // the order of the admin client's HashMap
}

// committedOffsets is Admin.listConsumerGroupOffsets for every partition of
// the group. A group the coordinator does not know has none.
func (c *command) committedOffsets(group string) (*committed, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	res := &committed{offsets: map[tp]int64{}}
	resp, err := c.adm.FetchOffsets(ctx, group)
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		return res, nil
	case err != nil:
		return nil, wrapped(requestErr("listConsumerGroupOffsets", err))
	}
	var tps []tp
	for topic, ps := range resp {
		for p, r := range ps {
			if r.Err != nil {
				return nil, wrapped(requestErr("listConsumerGroupOffsets", r.Err))
			}
			t := tp{topic, p}
			res.offsets[t] = r.At
			tps = append(tps, t)
		}
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].topic != tps[j].topic {
			return tps[i].topic < tps[j].topic
		}
		return tps[i].partition < tps[j].partition
	})
	res.order = hashMapOfTPs(newJavaHashMap(), tps)
	return res, nil
}
