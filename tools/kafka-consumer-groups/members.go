package main

import (
	"sort"
	"strconv"
	"strings"
)

// printMembers is ConsumerGroupService.printMembers for one group (--describe
// --members): a line per member with its number of partitions and, with
// --verbose, the partitions. GROUP-INSTANCE-ID appears when a member has
// one. As in Kafka 3.9 the header is printed even for a dead or empty group.
func (c *command) printMembers(d *groupDescription, verbose bool) error {
	show, err := c.shouldPrintMemberState(d.id, d.state, len(d.members))
	if err != nil {
		return err
	}
	groupW, consumerW, instanceW, hostW, clientW := 15, 15, 17, 15, 15
	withInstance := false
	if show {
		for _, m := range d.members {
			groupW = widest(groupW, d.id)
			consumerW = widest(consumerW, m.id)
			instanceW = widest(instanceW, m.instanceID)
			hostW = widest(hostW, m.host)
			clientW = widest(clientW, m.clientID)
			withInstance = withInstance || m.instanceID != ""
		}
	}
	line := func(group, id, instance, host, client, partitions string) string {
		if withInstance {
			return row([]int{groupW, consumerW, instanceW, hostW, clientW, 15}, group, id, instance, host, client, partitions) + " "
		}
		return row([]int{groupW, consumerW, hostW, clientW, 15}, group, id, host, client, partitions) + " "
	}
	c.out.WriteString("\n" + line("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "HOST", "CLIENT-ID", "#PARTITIONS"))
	if verbose {
		c.out.WriteString("ASSIGNMENT")
	}
	c.out.WriteString("\n")
	for _, m := range d.members {
		c.out.WriteString(line(d.id, m.id, m.instanceID, m.host, m.clientID, strconv.Itoa(len(m.assignment))))
		if verbose {
			c.out.WriteString(assignmentString(m.assignment))
		}
		c.out.WriteString("\n")
	}
	return nil
}

// assignmentString is the ASSIGNMENT column: "topic(0,1), other(2)", the
// topics sorted, each topic's partitions in numeric order; "-" for none.
// (Kafka 3.9's Java port drops the topic names and prints "(0,1), (2)";
// this is the layout of Kafka's Scala tool, which later Kafka releases
// restored in their own form.)
func assignmentString(tps []tp) string {
	if len(tps) == 0 {
		return missing
	}
	byTopic := map[string][]int{}
	for _, t := range tps {
		byTopic[t.topic] = append(byTopic[t.topic], int(t.partition))
	}
	var parts []string
	for topic, ps := range byTopic {
		sort.Ints(ps)
		nums := make([]string, len(ps))
		for i, p := range ps {
			nums[i] = strconv.Itoa(p)
		}
		parts = append(parts, topic+"("+strings.Join(nums, ",")+")")
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
