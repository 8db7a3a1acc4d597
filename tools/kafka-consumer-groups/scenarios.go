package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// prepareOffsets is prepareOffsetsToReset: the scenario's offset for each
// partition of the scope.
func (c *command) prepareOffsets(group string, tps []tp) (*plan, error) {
	switch {
	case c.o.Has("to-offset"):
		n, _, _ := c.o.Long("to-offset")
		requested := map[tp]int64{}
		for _, t := range tps {
			requested[t] = n
		}
		return c.checkedPlan(group, tps, requested)
	case c.o.Has("to-earliest"):
		return c.logOffsetPlan(group, tps, earliestTimestamp, "Error getting starting offset of topic partition: ")
	case c.o.Has("to-latest"):
		return c.logOffsetPlan(group, tps, latestTimestamp, "Error getting ending offset of topic partition: ")
	case c.o.Has("shift-by"):
		n, _, _ := c.o.Long("shift-by")
		com, err := c.committedOffsets(group)
		if err != nil {
			return nil, err
		}
		requested := map[tp]int64{}
		for _, t := range tps {
			cur, ok := com.offsets[t]
			if !ok || cur < 0 {
				return nil, usagef("Cannot shift offset for partition %s since there is no current committed offset", t)
			}
			requested[t] = cur + n
		}
		return c.checkedPlan(group, tps, requested)
	case c.o.Has("to-datetime"):
		arg, _, err := c.o.Value("to-datetime")
		if err != nil {
			return nil, asUsage(err)
		}
		ts, err := parseDateTime(arg)
		if err != nil {
			return nil, err
		}
		return c.timestampPlan(group, tps, ts)
	case c.o.Has("by-duration"):
		arg, _, err := c.o.Value("by-duration")
		if err != nil {
			return nil, asUsage(err)
		}
		d, err := parseDuration(arg)
		if err != nil {
			return nil, err
		}
		return c.timestampPlan(group, tps, time.Now().Add(-d).UnixMilli())
	case c.o.Has("from-file"):
		return c.filePlan(group)
	case c.o.Has("to-current"):
		return c.currentPlan(group, tps)
	}
	return nil, usagef("Option '[reset-offsets]' requires one of the following scenarios: [%s]", strings.Join(resetScenarioOpts, ", "))
}

// logOffsetPlan resets to each partition's start or end; a partition whose
// offset cannot be listed is Kafka's usage error naming it.
func (c *command) logOffsetPlan(group string, tps []tp, timestamp int64, errPrefix string) (*plan, error) {
	listed, err := c.logOffsets(tps, timestamp)
	if err != nil {
		return nil, err
	}
	offsets := map[tp]int64{}
	for _, t := range tps {
		o, ok := listed[t]
		if !ok {
			return nil, usagef("%s%s", errPrefix, t)
		}
		offsets[t] = o
	}
	return newPlan(group, offsets, hashMapOfTPs(newJavaHashMap(), tps)), nil
}

// timestampPlan is getLogTimestampOffsets: the first offset at or after ts;
// a partition without such a record falls back to its end, with Kafka's
// "Warn: ..." line on stdout.
func (c *command) timestampPlan(group string, tps []tp, ts int64) (*plan, error) {
	listed, err := c.logOffsets(tps, ts)
	if err != nil {
		return nil, err
	}
	var fallback []tp
	for _, t := range hashMapOfTPs(newJavaHashMap(), tps) {
		if o, ok := listed[t]; ok && o == -1 {
			fallback = append(fallback, t)
		}
	}
	fallback = hashMapOfTPs(newJavaHashMap(), fallback)
	for _, t := range fallback {
		fmt.Fprintf(c.out, "\nWarn: Partition %d from topic %s is empty. Falling back to latest known offset.\n", t.partition, t.topic)
	}
	ends, err := c.logOffsets(fallback, latestTimestamp)
	if err != nil {
		return nil, err
	}
	offsets := map[tp]int64{}
	for _, t := range tps {
		o, ok := listed[t]
		if ok && o == -1 {
			o, ok = ends[t]
		}
		if !ok {
			return nil, usagef("Error getting offset by timestamp of topic partition: %s", t)
		}
		offsets[t] = o
	}
	return newPlan(group, offsets, hashMapOfTPs(newJavaHashMap(), tps)), nil
}

// currentPlan is --to-current: the committed offset, or the end offset for
// partitions without one.
func (c *command) currentPlan(group string, tps []tp) (*plan, error) {
	com, err := c.committedOffsets(group)
	if err != nil {
		return nil, err
	}
	var with, without []tp
	for _, t := range tps {
		if _, ok := com.offsets[t]; ok {
			with = append(with, t)
		} else {
			without = append(without, t)
		}
	}
	offsets := map[tp]int64{}
	for _, t := range with {
		if com.offsets[t] < 0 {
			return nil, cli.Messagef("Expected a valid current offset for topic partition: %s", t)
		}
		offsets[t] = com.offsets[t]
	}
	ends, err := c.logOffsets(without, latestTimestamp)
	if err != nil {
		return nil, err
	}
	for _, t := range without {
		o, ok := ends[t]
		if !ok {
			return nil, usagef("Error getting ending offset of topic partition: %s", t)
		}
		offsets[t] = o
	}
	// A HashMap of the committed ones, then putAll of a HashMap of the
	// others.
	m := newJavaHashMap()
	for _, t := range with {
		m.put(t.hash())
	}
	withoutOrder := hashMapOfTPs(newJavaHashMap(), without)
	hs := make([]int32, len(withoutOrder))
	for i, t := range withoutOrder {
		hs[i] = t.hash()
	}
	m.putAll(hs)
	return newPlan(group, offsets, reorder(m, append(append([]tp(nil), with...), withoutOrder...))), nil
}

// checkedPlan is checkOffsetsRange: requested offsets beyond a partition's
// end or before its start are moved there, with Kafka's warning.
func (c *command) checkedPlan(group string, tps []tp, requested map[tp]int64) (*plan, error) {
	order := hashMapOfTPs(newJavaHashMap(), tps)
	starts, err := c.logOffsets(order, earliestTimestamp)
	if err != nil {
		return nil, err
	}
	ends, err := c.logOffsets(order, latestTimestamp)
	if err != nil {
		return nil, err
	}
	offsets := map[tp]int64{}
	for _, t := range order {
		o := requested[t]
		if end, ok := ends[t]; ok && o > end {
			c.stderrLine(fmt.Sprintf("WARN New offset (%d) is higher than latest offset for topic partition %s. Value will be set to %d", o, t, end))
			o = end
		} else if start, ok := starts[t]; ok && o < start {
			c.stderrLine(fmt.Sprintf("WARN New offset (%d) is lower than earliest offset for topic partition %s. Value will be set to %d", o, t, start))
			o = start
		}
		offsets[t] = o
	}
	return newPlan(group, offsets, order), nil
}
