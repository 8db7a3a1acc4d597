package main

import "github.com/kbroker/kbroker/tools/internal/cli"

const defaultFormatter = "org.apache.kafka.tools.consumer.DefaultMessageFormatter"

// The options of Kafka 3.9's kafka-console-consumer.sh
// (org.apache.kafka.tools.consumer.ConsoleConsumer), with this project's own
// help texts.
var parser = &cli.Parser{Specs: []cli.Spec{
	{Name: "topic", Arg: cli.RequiredArg, Describer: "topic", Desc: "The topic to read."},
	{Name: "include", Arg: cli.RequiredArg, Describer: "Java regex (String)",
		Desc: "Read every non-internal topic whose whole name matches this regular expression."},
	{Name: "whitelist", Arg: cli.RequiredArg, Describer: "Java regex (String)", Desc: "Deprecated spelling of --include."},
	{Name: "partition", Arg: cli.RequiredArg, Type: "Integer", Describer: "partition",
		Desc: "Read only this partition of --topic, from its end unless --offset or --from-beginning says otherwise."},
	{Name: "offset", Arg: cli.RequiredArg, Describer: "consume offset", Default: "latest",
		Desc: "Where --partition starts: an offset (a non-negative number), earliest or latest."},
	{Name: "consumer-property", Arg: cli.RequiredArg, Describer: "consumer_prop",
		Desc: "A consumer property as key=value (auto.offset.reset, isolation.level, client.id, ...); repeat for several."},
	{Name: "consumer.config", Arg: cli.RequiredArg, Describer: "config file",
		Desc: "A consumer properties file; --consumer-property wins."},
	{Name: "formatter", Arg: cli.RequiredArg, Describer: "class", Default: defaultFormatter,
		Desc: "Only Kafka's default formatter is available."},
	{Name: "property", Arg: cli.RequiredArg, Describer: "prop",
		Desc: "A formatter setting as key=value; repeat for several:\n print.timestamp=true|false\n print.key=true|false\n" +
			" print.offset=true|false\n print.partition=true|false\n print.headers=true|false\n print.value=true|false\n" +
			" key.separator=<text>\n line.separator=<text>\n headers.separator=<text>\n null.literal=<text>\n" +
			" key.deserializer=<class>\n value.deserializer=<class>\n headers.deserializer=<class>"},
	{Name: "formatter-config", Arg: cli.RequiredArg, Describer: "config file",
		Desc: "A properties file of formatter settings; --property wins."},
	{Name: "from-beginning", Desc: "Start at the earliest record rather than at the end."},
	{Name: "max-messages", Arg: cli.RequiredArg, Type: "Integer", Describer: "num_messages",
		Desc: "Exit after printing this many records (default: read until interrupted)."},
	{Name: "timeout-ms", Arg: cli.RequiredArg, Type: "Long", Describer: "timeout_ms",
		Desc: "Exit when no record arrives for this many milliseconds."},
	{Name: "skip-message-on-error", Desc: "Skip a record that cannot be printed instead of stopping."},
	{Name: "bootstrap-server", Arg: cli.RequiredArg, Describer: "server to connect to",
		Desc: "REQUIRED: host:port of one or more brokers, comma-separated."},
	{Name: "key-deserializer", Arg: cli.RequiredArg, Describer: "deserializer for key",
		Desc: "Same as --property key.deserializer=<class>."},
	{Name: "value-deserializer", Arg: cli.RequiredArg, Describer: "deserializer for values",
		Desc: "Same as --property value.deserializer=<class>."},
	{Name: "enable-systest-events", Desc: "Accepted for compatibility; prints nothing more."},
	{Name: "isolation-level", Arg: cli.RequiredArg, Default: "read_uncommitted",
		Desc: "read_committed hides records of open and aborted transactions; read_uncommitted shows everything."},
	{Name: "group", Arg: cli.RequiredArg, Describer: "consumer group id",
		Desc: "Read as a member of this consumer group: its partitions, from its committed offsets (auto.offset.reset where it has none), committing what was read."},
	cli.HelpSpec,
	cli.VersionSpec,
}}
