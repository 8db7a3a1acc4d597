package main

import "github.com/kbroker/kbroker/tools/internal/cli"

// The options of Kafka 3.9's kafka-leader-election.sh. The help texts are
// this project's own words.
var parser = &cli.Parser{Specs: []cli.Spec{
	{Name: "bootstrap-server", Arg: cli.RequiredArg, Describer: "host:port",
		Desc: "REQUIRED: host:port of one or more brokers, comma-separated."},
	{Name: "admin.config", Arg: cli.RequiredArg, Describer: "config file",
		Desc: "A client properties file (client.id, request.timeout.ms, default.api.timeout.ms, ...)."},
	{Name: "path-to-json-file", Arg: cli.RequiredArg, Describer: "Path to JSON file",
		Desc: "A JSON file naming the partitions to elect leaders for:\n" +
			"{\"partitions\":\n\t[{\"topic\": \"foo\", \"partition\": 1},\n\t {\"topic\": \"foobar\", \"partition\": 2}]\n}\n" +
			"Not with --all-topic-partitions or --topic."},
	{Name: "topic", Arg: cli.RequiredArg, Describer: "topic name",
		Desc: "The topic of the one partition to elect a leader for (with --partition). Not with --path-to-json-file or --all-topic-partitions."},
	{Name: "partition", Arg: cli.RequiredArg, Type: "Integer", Describer: "partition id",
		Desc: "The partition to elect a leader for. REQUIRED with --topic."},
	{Name: "all-topic-partitions",
		Desc: "Elect leaders for every partition that needs it under --election-type. Not with --topic or --path-to-json-file."},
	{Name: "election-type", Arg: cli.RequiredArg, Type: "ElectionType", Describer: "election type",
		Desc: "REQUIRED: \"preferred\" moves leadership to the preferred replica (the first of the assignment) where another replica leads; " +
			"\"unclean\" elects a leader, possibly one outside the ISR, where no live leader exists."},
	cli.HelpSpec,
	cli.VersionSpec,
}}
