package controller

import (
	"strings"
)

// uncleanLeaderElectionKey is the topic (and broker) setting that lets an
// out-of-sync replica lead when no ISR member is live.
const uncleanLeaderElectionKey = "unclean.leader.election.enable"

// uncleanElectionEnabled resolves unclean.leader.election.enable for a
// topic as Kafka's controller does when an election finds no live ISR
// member: the override in /config/topics/<topic>, read from ZooKeeper at
// that moment, else the broker's setting. An unreadable znode or an
// invalid value counts as "not allowed" (an unclean election may lose
// acknowledged records, so the doubt goes to keeping the partition
// offline).
func (c *Controller) uncleanElectionEnabled(topic string) bool {
	cfg, err := c.zk.GetTopicConfig(c.ctx, topic)
	if err != nil {
		c.log.Error().Err(err).Str("topic", topic).Msg("reading the topic's configuration for an unclean election; not electing uncleanly")
		return false
	}
	v, ok := cfg[uncleanLeaderElectionKey]
	if !ok {
		return c.opts.UncleanLeaderElectionEnable
	}
	enabled, valid := parseBool(v)
	if !valid {
		c.log.Error().Str("topic", topic).Str("value", v).Msg("invalid " + uncleanLeaderElectionKey + " override; not electing uncleanly")
		return false
	}
	return enabled
}

// parseBool reads a boolean setting the way Kafka's ConfigDef does: "true"
// or "false", any case, surrounding blanks ignored.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
