package main

import "strconv"

// printState is ConsumerGroupService.printStates for one group (--describe
// --state): its coordinator ("host:port  (id)"), partition assignor, state
// and member count. As in Kafka, the first column is as wide as the
// coordinator column (at least 25).
func (c *command) printState(d *groupDescription) error {
	show, err := c.shouldPrintMemberState(d.id, d.state, 1)
	if err != nil || !show {
		return err
	}
	coordinator := d.coordinator.Host + ":" + strconv.Itoa(int(d.coordinator.Port)) + "  (" + strconv.Itoa(int(d.coordinator.NodeID)) + ")"
	widths := []int{widest(25, coordinator), 25, 20, 15}
	c.out.WriteString("\n" + row(widths, "GROUP", "COORDINATOR (ID)", "ASSIGNMENT-STRATEGY", "STATE", "#MEMBERS"))
	c.out.WriteString("\n" + row(widths, d.id, coordinator, d.assignor, d.state, strconv.Itoa(len(d.members))))
	c.out.WriteString("\n")
	return nil
}

// describe is --describe: --offsets (the default), --members or --state for
// each group, in the order of the group ids. Everything is collected before
// anything is printed, as in Kafka.
func (c *command) describe() error {
	ids, err := c.groupIDs()
	if err != nil {
		return err
	}
	ds, err := c.describeGroups(ids)
	if err != nil {
		return err
	}
	order := sortedGroupIDs(ds)
	switch {
	case c.o.Has("members") && !c.o.Has("offsets"):
		for _, id := range order {
			if err := c.printMembers(ds[id], c.o.Has("verbose")); err != nil {
				return err
			}
		}
	case c.o.Has("state") && !c.o.Has("offsets"):
		for _, id := range order {
			if err := c.printState(ds[id]); err != nil {
				return err
			}
		}
	default:
		collected := make(map[string]*groupOffsets, len(order))
		for _, id := range order {
			g, err := c.collectOffsets(ds[id])
			if err != nil {
				return err
			}
			collected[id] = g
		}
		for _, id := range order {
			if err := c.printOffsets(id, collected[id]); err != nil {
				return err
			}
		}
	}
	return nil
}
