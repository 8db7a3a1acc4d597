package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// The options of Kafka 3.9's kafka-consumer-groups.sh
// (ConsumerGroupCommandOptions). The help texts are this project's own
// words.
var parser = &cli.Parser{Specs: []cli.Spec{
	{Name: "bootstrap-server", Arg: cli.RequiredArg, Describer: "server to connect to",
		Desc: "REQUIRED: host:port of one or more brokers, comma-separated."},
	{Name: "group", Arg: cli.RequiredArg, Describer: "consumer group",
		Desc: "The consumer group to act on; repeat for several (--describe, --delete, --reset-offsets)."},
	{Name: "topic", Arg: cli.RequiredArg, Describer: "topic",
		Desc: "With --delete-offsets or --reset-offsets: a topic, or topic:P,P,... for some of its partitions; repeat for several."},
	{Name: "all-topics", Desc: "With --reset-offsets: every topic the group has committed offsets for."},
	{Name: "list", Desc: "Print the consumer groups."},
	{Name: "describe", Desc: "Show a group's committed offsets and lag (default), its members (--members) or its state (--state)."},
	{Name: "all-groups", Desc: "Act on every consumer group (--describe, --delete, --reset-offsets)."},
	{Name: "delete", Desc: "Delete groups that have no active members, with their committed offsets."},
	{Name: "timeout", Arg: cli.RequiredArg, Type: "Long", Describer: "timeout (ms)", Default: "5000",
		Desc: "How long each request to the cluster may take, in milliseconds."},
	{Name: "command-config", Arg: cli.RequiredArg, Describer: "command config property file",
		Desc: "A client properties file (client.id, request.timeout.ms, ...)."},
	{Name: "reset-offsets", Desc: "Set the committed offsets of inactive groups. Plans only (--dry-run, the default) unless --execute. " +
		"Needs one scenario (--to-earliest, --to-latest, --to-current, --to-offset, --shift-by, --to-datetime, --by-duration, --from-file) " +
		"and, except with --from-file, a scope (--topic or --all-topics)."},
	{Name: "delete-offsets", Desc: "Delete one group's committed offsets for the --topic topics or partitions."},
	{Name: "dry-run", Desc: "With --reset-offsets: print the new offsets without committing them."},
	{Name: "execute", Desc: "With --reset-offsets: commit the new offsets."},
	{Name: "export", Desc: "With --reset-offsets: print the plan as CSV (topic,partition,offset; group first for several groups)."},
	{Name: "to-offset", Arg: cli.RequiredArg, Type: "Long", Describer: "offset", Desc: "Reset to this offset (kept within each partition's range)."},
	{Name: "from-file", Arg: cli.RequiredArg, Describer: "path to CSV file", Desc: "Reset to the offsets in this CSV file (as --export writes it)."},
	{Name: "to-datetime", Arg: cli.RequiredArg, Describer: "datetime",
		Desc: "Reset to the first offset at or after this time, YYYY-MM-DDTHH:mm:SS.sss with an optional zone (default UTC)."},
	{Name: "by-duration", Arg: cli.RequiredArg, Describer: "duration",
		Desc: "Reset to the first offset at or after now minus this ISO-8601 duration (PnDTnHnMnS)."},
	{Name: "to-earliest", Desc: "Reset to each partition's earliest offset."},
	{Name: "to-latest", Desc: "Reset to each partition's end offset."},
	{Name: "to-current", Desc: "Reset to the committed offset (the end offset where none is committed)."},
	{Name: "shift-by", Arg: cli.RequiredArg, Type: "Long", Describer: "number-of-offsets",
		Desc: "Move each committed offset by this many (negative: back), kept within the partition's range."},
	{Name: "members", Desc: "With --describe: one line per group member."},
	{Name: "verbose", Desc: "With --describe --members: add each member's assigned partitions."},
	{Name: "offsets", Desc: "With --describe: committed offsets, end offsets and lag per partition (the default)."},
	{Name: "state", Arg: cli.OptionalArg,
		Desc: "With --describe: the group's coordinator, assignor, state and member count. " +
			"With --list: add each group's state; a comma-separated list of states keeps only those."},
	{Name: "type", Arg: cli.OptionalArg,
		Desc: "With --list: add each group's type; a comma-separated list of types (classic, consumer) keeps only those."},
	cli.HelpSpec,
	cli.VersionSpec,
}}

const (
	helpMsg = "This tool helps to list all consumer groups, describe a consumer group, delete consumer group info, or reset consumer group offsets."

	actionsMsg = "Command must include exactly one action: --list, --describe, --delete, --reset-offsets, --delete-offsets"

	dryRunWarning = "WARN: No action will be performed as the --execute option is missing." +
		"In a future major release, the default behavior of this command will be to prompt the user before " +
		"executing the reset rather than doing a dry run. You should add the --dry-run option explicitly " +
		"if you are scripting this command and want to keep the current default behavior without prompting."
)

var (
	actions = []string{"list", "describe", "delete", "reset-offsets", "delete-offsets"}

	// The option sets of ConsumerGroupCommandOptions, in the HashSet
	// order Kafka prints and checks them in.
	groupSelectionOpts = optionSet("group", "all-groups")
	groupLevelOpts     = optionSet("list", "describe", "delete", "reset-offsets")
	resetScenarioOpts  = optionSet("to-offset", "shift-by", "to-datetime", "by-duration",
		"to-earliest", "to-latest", "to-current", "from-file")
	deleteOffsetsOpts = optionSet("group", "topic")

	// Options joptsimple accepts only next to others (availableIf).
	availableIf = []struct {
		name string
		with []string
	}{
		{"members", []string{"describe"}},
		{"verbose", []string{"describe"}},
		{"offsets", []string{"describe"}},
		{"state", []string{"describe", "list"}},
		{"type", []string{"list"}},
	}
)

// usageError is an error Kafka's tool reports with
// CommandLineUtils.printUsageAndExit: the message on stderr (Kafka adds the
// option table, which --help prints) and exit status 1.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{msg: err.Error()}
}

// minus is ToolsUtils.minus over one of the option sets above.
func minus(set []string, remove ...string) []string {
	var out []string
next:
	for _, s := range set {
		for _, r := range remove {
			if s == "["+r+"]" {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

func bare(opt string) string { return strings.Trim(opt, "[]") }

// checkAvailable is joptsimple's availableIf check, which Kafka's tool
// runs while parsing, before anything else.
func checkAvailable(o *cli.Options) error {
	var unavailable []string
	for _, a := range availableIf {
		if !o.Has(a.name) {
			continue
		}
		ok := false
		for _, w := range a.with {
			ok = ok || o.Has(w)
		}
		if !ok {
			unavailable = append(unavailable, a.name)
		}
	}
	if len(unavailable) > 0 {
		return usagef("Option(s) [%s] are unavailable given other options on the command line", strings.Join(unavailable, ", "))
	}
	return nil
}

// checkArgs is ConsumerGroupCommandOptions.checkArgs after the help and
// version checks, in Kafka's order and with Kafka's messages. The dry-run
// warning goes to warn, as Kafka prints it while checking.
func checkArgs(o *cli.Options, warn io.Writer) error {
	if !o.Has("bootstrap-server") {
		return asUsage(cli.Missing("bootstrap-server"))
	}
	selection := strings.Join(groupSelectionOpts, ", ")
	hasGroups := o.Has("group") || o.Has("all-groups")
	if o.Has("describe") {
		if !hasGroups {
			return usagef("Option [describe] takes one of these options: %s", selection)
		}
		n := 0
		for _, sub := range []string{"members", "offsets", "state"} {
			if o.Has(sub) {
				n++
			}
		}
		if n > 1 {
			return usagef("Option [describe] takes at most one of these options: [members], [offsets], [state]")
		}
		if len(o.Values("state")) > 0 {
			return usagef("Option [describe] does not take a value for [state]")
		}
	}
	if o.Has("delete") {
		if !hasGroups {
			return usagef("Option [delete] takes one of these options: %s", selection)
		}
		if o.Has("topic") {
			return usagef("The consumer does not support topic-specific offset deletion from a consumer group.")
		}
	}
	if o.Has("delete-offsets") && (!o.Has("group") || !o.Has("topic")) {
		return usagef("Option [delete-offsets] takes the following options: %s", strings.Join(deleteOffsetsOpts, ", "))
	}
	if o.Has("reset-offsets") {
		if o.Has("dry-run") && o.Has("execute") {
			return usagef("Option [reset-offsets] only accepts one of [execute] and [dry-run]")
		}
		if !o.Has("dry-run") && !o.Has("execute") {
			fmt.Fprintln(warn, dryRunWarning)
		}
		if !hasGroups {
			return usagef("Option [reset-offsets] takes one of these options: %s", selection)
		}
		for _, s := range []string{"to-offset", "to-datetime", "by-duration", "to-earliest", "to-latest", "to-current", "shift-by", "from-file"} {
			if err := invalid(o, s, minus(resetScenarioOpts, s)); err != nil {
				return err
			}
		}
	}
	if err := invalid(o, "group", minus(groupSelectionOpts, "group")); err != nil {
		return err
	}
	if err := invalid(o, "group", minus(groupLevelOpts, "describe", "delete", "reset-offsets")); err != nil {
		return err
	}
	return invalid(o, "topic", minus(groupLevelOpts, "delete", "reset-offsets"))
}

// invalid is CommandLineUtils.checkInvalidArgs.
func invalid(o *cli.Options, used string, others []string) error {
	if !o.Has(used) {
		return nil
	}
	for _, other := range others {
		if o.Has(bare(other)) {
			return asUsage(cli.CantCombine(used, bare(other)))
		}
	}
	return nil
}

// countActions counts the actions given; Kafka's tool wants exactly one.
func countActions(o *cli.Options) int {
	n := 0
	for _, a := range actions {
		if o.Has(a) {
			n++
		}
	}
	return n
}
