package main

import (
	"sort"
)

// missing is what Kafka's tool prints for a value it does not have.
const missing = "-"

// partitionRow is a PartitionAssignmentState: one line of the default
// describe table, every value already as printed.
type partitionRow struct {
	group, topic, partition, offset, logEnd, lag, consumerID, host, clientID string
}

// groupOffsets is what collectGroupsOffsets gathers for one group.
type groupOffsets struct {
	state string
	rows  []partitionRow
}

// collectOffsets is ConsumerGroupService.collectGroupsOffsets for one
// group: the partitions of each member that has some (members with more
// partitions first), then the partitions with a committed offset that no
// member owns.
func (c *command) collectOffsets(d *groupDescription) (*groupOffsets, error) {
	com, err := c.committedOffsets(d.id)
	if err != nil {
		return nil, err
	}
	res := &groupOffsets{state: d.state}
	var withPartitions []member
	for _, m := range d.members {
		if len(m.assignment) > 0 {
			withPartitions = append(withPartitions, m)
		}
	}
	sort.SliceStable(withPartitions, func(i, j int) bool {
		return len(withPartitions[i].assignment) > len(withPartitions[j].assignment)
	})
	assigned := map[tp]bool{}
	for _, m := range withPartitions {
		for _, t := range m.assignment {
			assigned[t] = true
		}
		rows, err := c.describePartitions(d.id, m.assignment, com, m.id, m.host, m.clientID)
		if err != nil {
			return nil, err
		}
		res.rows = append(res.rows, rows...)
	}
	var unassigned []tp
	for _, t := range com.order {
		if !assigned[t] {
			unassigned = append(unassigned, t)
		}
	}
	if len(unassigned) > 0 {
		// The admin client's HashMap of them, then its key set.
		unassigned = hashMapOfTPs(newJavaHashMap(), unassigned)
		rows, err := c.describePartitions(d.id, unassigned, com, missing, missing, missing)
		if err != nil {
			return nil, err
		}
		res.rows = append(res.rows, rows...)
	}
	return res, nil
}

// describePartitions is ConsumerGroupService.describePartitions: the
// partitions sorted by number, then in the order of the HashMap their end
// offsets are collected in.
func (c *command) describePartitions(group string, tps []tp, com *committed, consumerID, host, clientID string) ([]partitionRow, error) {
	sorted := sortByPartition(tps)
	ends, err := c.logOffsets(sorted, latestTimestamp)
	if err != nil {
		return nil, err
	}
	var rows []partitionRow
	for _, t := range hashMapOfTPs(newJavaHashMap(), sorted) {
		r := partitionRow{group: group, topic: t.topic, partition: itoa(int64(t.partition)),
			offset: missing, logEnd: missing, lag: missing, consumerID: consumerID, host: host, clientID: clientID}
		offset, hasOffset := com.offsets[t]
		if hasOffset && offset >= 0 {
			r.offset = itoa(offset)
		}
		end, hasEnd := ends[t]
		if hasEnd {
			r.logEnd = itoa(end)
		}
		if hasOffset && offset != -1 && hasEnd {
			r.lag = itoa(end - offset)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// printOffsets is ConsumerGroupService.printOffsets for one group.
func (c *command) printOffsets(group string, g *groupOffsets) error {
	show, err := c.shouldPrintMemberState(group, g.state, len(g.rows))
	if err != nil || !show {
		return err
	}
	groupW, topicW, consumerW, hostW := 15, 15, 15, 15
	for _, r := range g.rows {
		groupW = widest(groupW, r.group)
		topicW = widest(topicW, r.topic)
		consumerW = widest(consumerW, r.consumerID)
		hostW = widest(hostW, r.host)
	}
	widths := []int{groupW, topicW, 10, 15, 15, 15, consumerW, hostW}
	c.out.WriteString("\n" + row(widths, "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"))
	for _, r := range g.rows {
		c.out.WriteString("\n" + row(widths, r.group, r.topic, r.partition, r.offset, r.logEnd, r.lag, r.consumerID, r.host, r.clientID))
	}
	c.out.WriteString("\n")
	return nil
}

// shouldPrintMemberState is Kafka's check before each group's table: a
// dead group "does not exist" (on stdout), an empty one "has no active
// members" and a rebalancing one gets a warning (both on stderr). The table
// follows when the group is not dead and has rows.
func (c *command) shouldPrintMemberState(group, state string, rows int) (bool, error) {
	switch state {
	case "Dead":
		c.printError("Consumer group '" + group + "' does not exist.")
	case "Empty":
		c.stderrLine("\nConsumer group '" + group + "' has no active members.")
	case "PreparingRebalance", "CompletingRebalance", "Assigning", "Reconciling":
		c.stderrLine("\nWarning: Consumer group '" + group + "' is rebalancing.")
	case "Stable":
	default:
		return false, &javaFailure{exc: "Expected a valid consumer group state, but found '" + state + "'."}
	}
	return state != "Dead" && rows > 0, nil
}
