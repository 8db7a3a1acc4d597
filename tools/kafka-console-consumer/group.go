package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// checkGroups is ConsoleConsumerOptions.checkConsumerGroup: the group ids
// of --group, --consumer-property and --consumer.config must agree, and a
// group excludes --partition. It returns the group id ("" for none) and
// takes group.id out of props.
func checkGroups(o *cli.Options, props cli.Props, hasPartition bool) (string, error) {
	groups := map[string]bool{}
	var group string
	if o.Has("group") {
		g, _, err := o.Value("group")
		if err != nil {
			return "", err
		}
		groups[g] = true
		group = g
	}
	if g, ok := props.Take("group.id"); ok {
		groups[g] = true
		group = g
	}
	if len(groups) > 1 {
		var ids []string
		for g := range groups {
			ids = append(ids, "'"+g+"'")
		}
		sort.Strings(ids)
		return "", cli.Messagef("The group ids provided in different places (directly using '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group ids: %s", strings.Join(ids, ", "))
	}
	if len(groups) > 0 && hasPartition {
		return "", cli.Messagef("%s", "Options group and partition cannot be specified together.")
	}
	return group, nil
}

// assignors are the partition.assignment.strategy classes of Java's
// consumer and the kgo balancers that speak the same protocols.
var assignors = map[string]func() kgo.GroupBalancer{
	"org.apache.kafka.clients.consumer.RangeAssignor":             kgo.RangeBalancer,
	"org.apache.kafka.clients.consumer.RoundRobinAssignor":        kgo.RoundRobinBalancer,
	"org.apache.kafka.clients.consumer.StickyAssignor":            kgo.StickyBalancer,
	"org.apache.kafka.clients.consumer.CooperativeStickyAssignor": kgo.CooperativeStickyBalancer,
}

// groupSettings sets the client id, the log prefix and, with a group, the
// options of a member of it, from the group properties of Java's consumer:
// enable.auto.commit (default true), auto.commit.interval.ms (5000),
// session.timeout.ms, heartbeat.interval.ms, max.poll.interval.ms (the
// rebalance timeout), group.instance.id and partition.assignment.strategy
// (default range, then cooperative-sticky, as Java's consumer). Without a
// group the tool commits nothing, as Kafka's does with its throw-away group.
func (s *settings) groupSettings(p cli.Props) error {
	if s.group == "" {
		s.clientID = "console-consumer"
		if id, ok := p["client.id"]; ok {
			s.clientID = id
		}
		s.logPrefix = "[Consumer clientId=" + s.clientID + "]"
		for _, k := range []string{"enable.auto.commit", "auto.commit.interval.ms"} {
			p.Take(k)
		}
		return nil
	}
	s.clientID = "consumer-" + s.group + "-1" // Java's default client.id
	if id, ok := p["client.id"]; ok {
		s.clientID = id
	}
	s.logPrefix = "[Consumer clientId=" + s.clientID + ", groupId=" + s.group + "]"
	s.opts = append(s.opts, kgo.ConsumerGroup(s.group))

	s.autoCommit = true
	if v, ok := p.Take("enable.auto.commit"); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
		case "false":
			s.autoCommit = false
			s.opts = append(s.opts, kgo.DisableAutoCommit())
		default:
			return cli.Messagef("Invalid value %s for configuration enable.auto.commit: Expected value to be either true or false", v)
		}
	}
	for _, d := range []struct {
		key string
		opt func(time.Duration) kgo.GroupOpt
	}{
		{"auto.commit.interval.ms", kgo.AutoCommitInterval},
		{"session.timeout.ms", kgo.SessionTimeout},
		{"heartbeat.interval.ms", kgo.HeartbeatInterval},
		{"max.poll.interval.ms", kgo.RebalanceTimeout},
	} {
		n, ok, err := intProp(p, d.key, "INT")
		if err != nil {
			return err
		}
		if ok {
			s.opts = append(s.opts, d.opt(time.Duration(n)*time.Millisecond))
		}
	}
	if id, ok := p.Take("group.instance.id"); ok && id != "" {
		s.opts = append(s.opts, kgo.InstanceID(id))
	}
	if v, ok := p["group.protocol"]; ok && strings.EqualFold(strings.TrimSpace(v), "classic") {
		p.Take("group.protocol") // the only protocol this tool speaks
	}
	balancers := []kgo.GroupBalancer{kgo.RangeBalancer(), kgo.CooperativeStickyBalancer()}
	if v, ok := p.Take("partition.assignment.strategy"); ok {
		balancers = nil
		for _, class := range strings.Split(v, ",") {
			class = strings.TrimSpace(class)
			if class == "" {
				continue
			}
			b, known := assignors[class]
			if !known {
				return cli.Messagef("Invalid value %s for configuration partition.assignment.strategy: Class %s could not be found.", v, class)
			}
			balancers = append(balancers, b())
		}
	}
	if len(balancers) > 0 {
		s.opts = append(s.opts, kgo.Balancers(balancers...))
	}
	return nil
}

// commitOnClose commits the offsets of every record read, as closing Java's
// consumer does when it auto-commits (also after Ctrl-C).
func (c *consumer) commitOnClose(cl *cli.Client, s *settings) {
	if s.group == "" || !s.autoCommit {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cl.Timeout)
	defer cancel()
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		fmt.Fprintf(c.errw, "WARN %s Synchronous auto-commit of offsets failed: %v\n", s.logPrefix, err)
	}
}
