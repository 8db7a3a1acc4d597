package main

import (
	"strings"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const alterConfigsHint = " (To alter topic configurations, the kafka-configs tool can be used.)"

// The options of Kafka 3.9's kafka-topics.sh (TopicCommand). The help texts
// are this project's own words.
var parser = &cli.Parser{Specs: []cli.Spec{
	{Name: "bootstrap-server", Arg: cli.RequiredArg, Describer: "server to connect to",
		Desc: "REQUIRED: host:port of one or more brokers, comma-separated."},
	{Name: "command-config", Arg: cli.RequiredArg, Describer: "command config property file",
		Desc: "A client properties file (client.id, request.timeout.ms, default.api.timeout.ms, ...)."},
	{Name: "list", Desc: "Print the names of the topics."},
	{Name: "create", Desc: "Create a topic."},
	{Name: "delete", Desc: "Delete the matching topics."},
	{Name: "alter", Desc: "Add partitions to the matching topics." + alterConfigsHint},
	{Name: "describe", Desc: "Show partitions, leaders, replicas, ISR and overridden configs of the matching topics."},
	{Name: "topic", Arg: cli.RequiredArg, Describer: "topic",
		Desc: "The topic name; except with --create, a regular expression that must match the whole name (commas separate alternatives)."},
	{Name: "topic-id", Arg: cli.RequiredArg, Describer: "topic-id", Desc: "Describe the topic with this id."},
	{Name: "config", Arg: cli.RequiredArg, Describer: "name=value",
		Desc: "A config override for the topic being created; repeat for several. Known names:\n\t" +
			strings.Join(topicConfigNames, "\n\t") + "\nOnly with --create." + alterConfigsHint},
	{Name: "partitions", Arg: cli.RequiredArg, Type: "Integer", Describer: "# of partitions",
		Desc: "Partition count for --create (default: the broker's num.partitions) or the new count for --alter. Adding partitions changes where keys are placed."},
	{Name: "replication-factor", Arg: cli.RequiredArg, Type: "Integer", Describer: "replication factor",
		Desc: "Replicas per partition for --create (default: the broker's default.replication.factor)."},
	{Name: "replica-assignment", Arg: cli.RequiredArg,
		Describer: "broker_id_for_part1_replica1 : broker_id_for_part1_replica2 , broker_id_for_part2_replica1 : broker_id_for_part2_replica2 , ...",
		Desc:      "Explicit replicas per partition for --create or --alter: partitions separated by commas, broker ids by colons."},
	{Name: "under-replicated-partitions", Desc: "With --describe: only partitions whose ISR is smaller than their replica set."},
	{Name: "unavailable-partitions", Desc: "With --describe: only partitions without a live leader."},
	{Name: "under-min-isr-partitions", Desc: "With --describe: only partitions whose ISR is smaller than min.insync.replicas."},
	{Name: "at-min-isr-partitions", Desc: "With --describe: only partitions whose ISR size equals min.insync.replicas."},
	{Name: "topics-with-overrides", Desc: "With --describe: only topics with overridden configs, without their partitions."},
	{Name: "if-exists", Desc: "With --alter, --delete or --describe: do nothing, without error, when no topic matches."},
	{Name: "if-not-exists", Desc: "With --create: no error when the topic already exists."},
	{Name: "exclude-internal", Desc: "With --list or --describe: leave out internal topics (__consumer_offsets, __transaction_state)."},
	{Name: "partition-size-limit-per-response", Arg: cli.RequiredArg, Type: "Integer",
		Describer: "maximum number of partitions in one page.",
		Desc:      "Accepted for compatibility; ZooKeeper-mode brokers describe topics through Metadata, which has no paging."},
	cli.HelpSpec,
	cli.VersionSpec,
}}

var (
	actions          = []string{"create", "list", "alter", "describe", "delete"}
	reportOptions    = []string{"under-replicated-partitions", "under-min-isr-partitions", "at-min-isr-partitions", "unavailable-partitions"}
	topicLevelOrders = []string{"alter", "create", "describe", "list", "delete"}
)

// allActionsExcept is TopicCommandOptions.invalidOptions: the actions other
// than keep, plus extra.
func allActionsExcept(extra []string, keep ...string) []string {
	var out []string
	for _, a := range topicLevelOrders {
		kept := false
		for _, k := range keep {
			kept = kept || a == k
		}
		if !kept {
			out = append(out, a)
		}
	}
	return append(out, extra...)
}

// usageError is an error Kafka's tool reports with
// CommandLineUtils.printUsageAndExit or an IllegalArgumentException: the
// message alone on stderr (Kafka adds the usage text, which --help shows).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usage(format string, args ...any) error {
	return &usageError{msg: cli.Errorf(format, args...).Error()}
}

func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{msg: err.Error()}
}

// checkArgs is TopicCommandOptions.checkArgs after the help and version
// checks: exactly one action, the required options, and the forbidden
// combinations, in Kafka's order.
func checkArgs(o *cli.Options) error {
	n := 0
	for _, a := range actions {
		if o.Has(a) {
			n++
		}
	}
	if n != 1 {
		return usage("Command must include exactly one action: --list, --describe, --create, --alter or --delete")
	}
	if !o.Has("bootstrap-server") {
		return usage("--bootstrap-server must be specified")
	}
	if o.Has("describe") && o.Has("if-exists") {
		if !o.Has("topic") && !o.Has("topic-id") {
			return usage("--topic or --topic-id is required to describe a topic")
		}
	}
	if !o.Has("list") && !o.Has("describe") && !o.Has("topic") {
		return asUsage(cli.Missing("topic"))
	}
	if o.Has("alter") {
		if o.Has("bootstrap-server") && o.Has("config") {
			return usage("Option combination \"[bootstrap-server, config]\" can't be used with option \"[alter]\"%s", alterConfigsHint)
		}
		if !o.Has("partitions") {
			return asUsage(cli.Missing("partitions"))
		}
	}
	invalid := func(used string, others []string) error {
		if !o.Has(used) {
			return nil
		}
		for _, other := range others {
			if o.Has(other) {
				return asUsage(cli.CantCombine(used, other))
			}
		}
		return nil
	}
	checks := []struct {
		used   string
		others []string
	}{
		{"config", allActionsExcept(nil, "alter", "create")},
		{"partitions", allActionsExcept(nil, "alter", "create")},
		{"replication-factor", allActionsExcept(nil, "create")},
		{"replica-assignment", allActionsExcept(nil, "alter", "create")},
	}
	if o.Has("create") {
		checks = append(checks, struct {
			used   string
			others []string
		}{"replica-assignment", []string{"partitions", "replication-factor"}})
	}
	for _, r := range reportOptions {
		checks = append(checks, struct {
			used   string
			others []string
		}{r, allActionsExcept([]string{"topics-with-overrides"}, "describe", r)})
	}
	checks = append(checks, []struct {
		used   string
		others []string
	}{
		{"topics-with-overrides", allActionsExcept(reportOptions, "describe")},
		{"if-exists", allActionsExcept(nil, "alter", "delete", "describe")},
		{"if-not-exists", allActionsExcept(nil, "create")},
		{"exclude-internal", allActionsExcept(nil, "list", "describe")},
	}...)
	for _, c := range checks {
		if err := invalid(c.used, c.others); err != nil {
			return err
		}
	}
	return nil
}
