package main

import "github.com/kbroker/kbroker/tools/internal/cli"

const defaultDateFormat = "yyyy-MM-dd HH:mm:ss:SSS"

// The options of Kafka 3.9's kafka-consumer-perf-test.sh
// (org.apache.kafka.tools.ConsumerPerformance), with this project's own
// help texts.
var parser = &cli.Parser{Specs: []cli.Spec{
	{Name: "bootstrap-server", Arg: cli.RequiredArg, Describer: "server to connect to",
		Desc: "REQUIRED (unless --broker-list): host:port of one or more brokers, comma-separated."},
	{Name: "broker-list", Arg: cli.RequiredArg, Describer: "broker-list",
		Desc: "Deprecated spelling of --bootstrap-server, used only when that is absent."},
	{Name: "topic", Arg: cli.RequiredArg, Describer: "topic", Desc: "REQUIRED: the topic to read."},
	{Name: "messages", Arg: cli.RequiredArg, Type: "Long", Describer: "count",
		Desc: "REQUIRED: stop after this many records."},
	{Name: "timeout", Arg: cli.RequiredArg, Type: "Long", Describer: "milliseconds", Default: "10000",
		Desc: "Stop when no record arrives for this long."},
	{Name: "fetch-size", Arg: cli.RequiredArg, Type: "Integer", Describer: "size", Default: "1048576",
		Desc: "max.partition.fetch.bytes: the most bytes fetched from one partition per request."},
	{Name: "from-latest", Desc: "Start at the end of every partition instead of the beginning."},
	{Name: "group", Arg: cli.RequiredArg, Describer: "gid",
		Desc: "Accepted and ignored: partitions are assigned directly, without a consumer group."},
	{Name: "consumer.config", Arg: cli.RequiredArg, Describer: "config file", Desc: "A consumer properties file."},
	{Name: "socket-buffer-size", Arg: cli.RequiredArg, Type: "Integer", Describer: "size", Default: "2097152",
		Desc: "receive.buffer.bytes (accepted and ignored: the operating system sizes the socket buffer)."},
	{Name: "show-detailed-stats", Desc: "Print a line of statistics every --reporting-interval instead of one summary at the end."},
	{Name: "reporting-interval", Arg: cli.RequiredArg, Type: "Long", Describer: "interval_ms", Default: "5000",
		Desc: "How often --show-detailed-stats prints, in milliseconds."},
	{Name: "date-format", Arg: cli.RequiredArg, Describer: "date format", Default: defaultDateFormat,
		Desc: "How times are printed, as a java.text.SimpleDateFormat pattern (letters y M d H h m s S a E z Z)."},
	{Name: "hide-header", Desc: "Do not print the header line."},
	{Name: "print-metrics", Desc: "Not supported: the Go client has no Java client metrics to print."},
	{Name: "threads", Arg: cli.RequiredArg, Type: "Integer", Describer: "count", Desc: "Deprecated; ignored."},
	{Name: "num-fetch-threads", Arg: cli.RequiredArg, Type: "Integer", Describer: "count", Desc: "Deprecated; ignored."},
	cli.HelpSpec,
	cli.VersionSpec,
}}
