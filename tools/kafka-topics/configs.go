package main

import (
	"regexp"
	"sort"
	"strings"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// topicConfigNames are the topic-level configs a Kafka 3.9 broker accepts
// (LogConfig's non-internal names), sorted. --config names outside this list
// fail before anything is sent, as in Kafka's tool.
var topicConfigNames = []string{
	"cleanup.policy",
	"compression.gzip.level",
	"compression.lz4.level",
	"compression.type",
	"compression.zstd.level",
	"delete.retention.ms",
	"file.delete.delay.ms",
	"flush.messages",
	"flush.ms",
	"follower.replication.throttled.replicas",
	"index.interval.bytes",
	"leader.replication.throttled.replicas",
	"local.retention.bytes",
	"local.retention.ms",
	"max.compaction.lag.ms",
	"max.message.bytes",
	"message.downconversion.enable",
	"message.format.version",
	"message.timestamp.after.max.ms",
	"message.timestamp.before.max.ms",
	"message.timestamp.difference.max.ms",
	"message.timestamp.type",
	"min.cleanable.dirty.ratio",
	"min.compaction.lag.ms",
	"min.insync.replicas",
	"preallocate",
	"remote.log.copy.disable",
	"remote.log.delete.on.disable",
	"remote.storage.enable",
	"retention.bytes",
	"retention.ms",
	"segment.bytes",
	"segment.index.bytes",
	"segment.jitter.ms",
	"segment.ms",
	"unclean.leader.election.enable",
}

var configSplit = regexp.MustCompile(`\s*=\s*`)

// parseTopicConfigs turns the --config arguments into a config map as
// TopicCommand does: each must split at "=" (with optional spaces) into
// exactly a name and a non-empty value, and each name must be a topic config.
func parseTopicConfigs(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range args {
		parts := configSplit.Split(a, -1)
		for len(parts) > 1 && parts[len(parts)-1] == "" { // Java's split drops trailing empties
			parts = parts[:len(parts)-1]
		}
		if len(parts) != 2 {
			return nil, usage("requirement failed: Invalid topic config: all configs to be added must be in the format \"key=val\".")
		}
		out[strings.TrimSpace(parts[0])] = strings.TrimSpace(parts[1])
	}
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !knownTopicConfig(name) {
			return nil, cli.Messagef("Unknown topic config name: %s", name)
		}
	}
	return out, nil
}

func knownTopicConfig(name string) bool {
	for _, n := range topicConfigNames {
		if n == name {
			return true
		}
	}
	return false
}
