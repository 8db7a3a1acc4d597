package main

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
)

// plan is the new offsets of one group, in the order of Kafka's HashMap of
// them.
type plan struct {
	group   string
	offsets map[tp]int64
	order   []tp
}

func newPlan(group string, offsets map[tp]int64, order []tp) *plan {
	return &plan{group: group, offsets: offsets, order: order}
}

// resetOffsets is --reset-offsets: for each inactive group (Empty, or Dead:
// unknown to the coordinator) the new offsets of the scenario over the
// scope, committed with --execute, then printed (a table, or CSV with
// --export). An active group gets Kafka's "can only be reset if ...
// inactive" error line and no offsets.
func (c *command) resetOffsets() error {
	ids, err := c.groupIDs()
	if err != nil {
		return err
	}
	ds, err := c.describeGroups(ids)
	if err != nil {
		return wrapped(err)
	}
	dryRun := c.o.Has("dry-run") || !c.o.Has("execute")
	var plans []*plan
	// Kafka walks the admin client's map of described groups.
	for _, id := range hashMapOfStrings(newJavaHashMap(), ids) {
		state := "Dead"
		if d := ds[id]; d != nil {
			state = d.state
		}
		if state != "Empty" && state != "Dead" {
			c.printError("Assignments can only be reset if the group '" + id + "' is inactive, but the current state is " + state + ".")
			plans = append(plans, newPlan(id, nil, nil))
			continue
		}
		tps, err := c.partitionsToReset(id)
		if err != nil {
			return err
		}
		p, err := c.prepareOffsets(id, tps)
		if err != nil {
			return err
		}
		if !dryRun {
			if err := c.commit(p); err != nil {
				return err
			}
		}
		plans = append(plans, p)
	}

	// The result is a HashMap of the groups.
	names := make([]string, len(plans))
	byName := map[string]*plan{}
	for i, p := range plans {
		names[i] = p.group
		byName[p.group] = p
	}
	var ordered []*plan
	for _, n := range hashMapOfStrings(newJavaHashMap(), names) {
		ordered = append(ordered, byName[n])
	}
	if c.o.Has("export") {
		c.exportCSV(ordered)
		return nil
	}
	if len(ordered) > 0 {
		widths := []int{30, 30, 10, 15}
		c.out.WriteString("\n" + row(widths, "GROUP", "TOPIC", "PARTITION", "NEW-OFFSET") + "\n")
		for _, p := range ordered {
			for _, t := range p.order {
				c.out.WriteString(row(widths, p.group, t.topic, itoa(int64(t.partition)), itoa(p.offsets[t])) + "\n")
			}
		}
	}
	return nil
}

// exportCSV is exportOffsetsToCsv and the println of it: a line per
// partition, "topic,partition,offset", or "group,topic,partition,offset"
// unless exactly one --group was given.
func (c *command) exportCSV(plans []*plan) {
	single := len(c.o.Values("group")) == 1
	for _, p := range plans {
		for _, t := range p.order {
			fields := []string{t.topic, itoa(int64(t.partition)), itoa(p.offsets[t])}
			if !single {
				fields = append([]string{p.group}, fields...)
			}
			for i, f := range fields {
				fields[i] = csvField(f)
			}
			c.out.WriteString(strings.Join(fields, ",") + "\n")
		}
	}
	c.out.WriteString("\n")
}

// csvField quotes a value the way a CSV writer must.
func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\r\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// partitionsToReset is the scope: --all-topics (the partitions with
// committed offsets), --topic (given partitions, then every partition of
// the whole topics), or nothing with --from-file.
func (c *command) partitionsToReset(group string) ([]tp, error) {
	switch {
	case c.o.Has("all-topics"):
		com, err := c.committedOffsets(group)
		if err != nil {
			return nil, err
		}
		return com.order, nil
	case c.o.Has("topic"):
		var specified []tp
		var whole []string
		for _, arg := range c.o.Values("topic") {
			if strings.Contains(arg, ":") {
				tps, err := parseTopicWithPartitions(arg)
				if err != nil {
					return nil, err
				}
				specified = append(specified, tps...)
			} else {
				whole = append(whole, arg)
			}
		}
		described, failed, err := c.topicPartitions(whole)
		if err != nil {
			return nil, err
		}
		for _, t := range whole {
			if code, bad := failed[t]; bad {
				return nil, wrapped(failure(code, nil))
			}
		}
		return dedupTPs(append(specified, described...)), nil
	case c.o.Has("from-file"):
		return nil, nil
	}
	return nil, usagef("One of the reset scopes should be defined: --all-topics, --topic.")
}

// commit is Admin.alterConsumerGroupOffsets for a plan (--execute).
func (c *command) commit(p *plan) error {
	if len(p.order) == 0 {
		return nil
	}
	ctx, cancel := c.ctx()
	defer cancel()
	var os kadm.Offsets
	for _, t := range p.order {
		os.Add(kadm.Offset{Topic: t.topic, Partition: t.partition, At: p.offsets[t], LeaderEpoch: -1})
	}
	resp, err := c.adm.CommitOffsets(ctx, p.group, os)
	if err != nil {
		return wrapped(requestErr("alterConsumerGroupOffsets", err))
	}
	if err := resp.Error(); err != nil {
		return wrapped(requestErr("alterConsumerGroupOffsets", err))
	}
	return nil
}
