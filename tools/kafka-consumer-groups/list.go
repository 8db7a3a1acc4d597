package main

import (
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// The group states (ConsumerGroupState) in their declaration order, and the
// group types (GroupType).
var (
	groupStates = []string{"Unknown", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Empty", "Assigning", "Reconciling"}
	groupTypes  = []string{"Unknown", "Consumer", "Classic", "Share"}
)

// canonical is ConsumerGroupState.parse / GroupType.parse: a
// case-insensitive match, "Unknown" for anything else.
func canonical(names []string, s string) string {
	for _, n := range names {
		if strings.EqualFold(n, strings.TrimSpace(s)) {
			return n
		}
	}
	return "Unknown"
}

// listing is a ConsumerGroupListing.
type listing struct {
	group, state, typ string
}

// listConsumerGroups is Admin.listConsumerGroups: every group whose
// protocol type is "consumer" or empty (groups that only commit offsets),
// optionally only those in the given states and of the given types, in the
// order of the admin client's HashMap of group ids.
func (c *command) listConsumerGroups(states, types []string) ([]listing, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	req := kmsg.NewPtrListGroupsRequest()
	req.StatesFilter = states
	for _, t := range types {
		req.TypesFilter = append(req.TypesFilter, strings.ToLower(t))
	}
	byID := map[string]listing{}
	for _, shard := range c.cl.RequestSharded(ctx, req) {
		if shard.Err != nil {
			return nil, requestErr("listConsumerGroups", shard.Err)
		}
		resp := shard.Resp.(*kmsg.ListGroupsResponse)
		if resp.ErrorCode != 0 {
			return nil, failure(resp.ErrorCode, nil)
		}
		for _, g := range resp.Groups {
			if g.ProtocolType != "consumer" && g.ProtocolType != "" {
				continue
			}
			l := listing{group: g.Group, state: canonical(groupStates, g.GroupState), typ: canonical(groupTypes, g.GroupType)}
			if g.GroupState == "" {
				l.state = "Unknown"
			}
			if !keep(states, l.state) || !keep(types, l.typ) {
				continue // a broker too old for the filter sent everything
			}
			byID[g.Group] = l
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]listing, 0, len(ids))
	for _, id := range hashMapOfStrings(newJavaHashMap(), ids) {
		out = append(out, byID[id])
	}
	return out, nil
}

// keep reports whether value passes a filter (an empty filter passes all;
// a value the broker did not report, "Unknown", is not filtered out).
func keep(filter []string, value string) bool {
	if len(filter) == 0 || value == "Unknown" {
		return true
	}
	for _, f := range filter {
		if strings.EqualFold(f, value) {
			return true
		}
	}
	return false
}

// filterValues parses the argument of --state or --type: comma-separated
// names, case-insensitive; an unknown name is Kafka's "Invalid ... list"
// usage error.
func filterValues(arg, list, valid string, names []string) ([]string, error) {
	if arg == "" {
		return nil, nil
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range strings.Split(arg, ",") {
		n := canonical(names, s)
		if n == "Unknown" {
			return nil, usagef("Invalid %s list '%s'. Valid %s are: %s", list, arg, valid, strings.Join(names[1:], ", "))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out, nil
}

// list is --list: the group names one per line or, with --state or
// --type, a table with those columns.
func (c *command) list() error {
	stateArg, _, _ := c.o.Value("state")
	typeArg, _, _ := c.o.Value("type")
	withState, withType := c.o.Has("state"), c.o.Has("type")
	if !withState && !withType {
		ls, err := c.listConsumerGroups(nil, nil)
		if err != nil {
			return wrapped(err)
		}
		for _, l := range ls {
			c.out.WriteString(l.group + "\n")
		}
		return nil
	}
	types, err := filterValues(typeArg, "types", "types", groupTypes)
	if err != nil {
		return err
	}
	states, err := filterValues(stateArg, "state", "states", groupStates)
	if err != nil {
		return err
	}
	ls, err := c.listConsumerGroups(states, types)
	if err != nil {
		return err
	}
	width := 15
	for _, l := range ls {
		width = max(width, jlen(l.group))
	}
	widths := []int{width + 10}
	header := []string{"GROUP"}
	if withType {
		widths = append(widths, 20)
		header = append(header, "TYPE")
	}
	if withState {
		widths = append(widths, 20)
		header = append(header, "STATE")
	}
	c.out.WriteString(row(widths, header...) + "\n")
	for _, l := range ls {
		cells := []string{l.group}
		if withType {
			cells = append(cells, l.typ)
		}
		if withState {
			cells = append(cells, l.state)
		}
		c.out.WriteString(row(widths, cells...) + "\n")
	}
	return nil
}
