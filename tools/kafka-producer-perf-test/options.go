package main

import (
	"strings"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// The options of Kafka 3.9's kafka-producer-perf-test.sh
// (org.apache.kafka.tools.ProducerPerformance), plus --bootstrap-server,
// with this project's own help texts.
var parser = &cli.Parser{Specs: []cli.Spec{
	{Name: "topic", Arg: cli.RequiredArg, Describer: "TOPIC", Desc: "REQUIRED: the topic to write to."},
	{Name: "num-records", Arg: cli.RequiredArg, Type: "Long", Describer: "NUM-RECORDS",
		Desc: "REQUIRED: how many records to send."},
	{Name: "record-size", Arg: cli.RequiredArg, Type: "Integer", Describer: "RECORD-SIZE",
		Desc: "Bytes in each record's value (a fixed random text). Either this or --payload-file is required."},
	{Name: "payload-file", Arg: cli.RequiredArg, Describer: "PAYLOAD-FILE",
		Desc: "A file of payloads separated by --payload-delimiter; each record takes one at random. Either this or --record-size is required."},
	{Name: "payload-delimiter", Arg: cli.RequiredArg, Describer: "PAYLOAD-DELIMITER", Default: `\n`,
		Desc: "What separates the payloads in --payload-file."},
	{Name: "throughput", Arg: cli.RequiredArg, Type: "Double", Describer: "THROUGHPUT",
		Desc: "REQUIRED: send at most about this many records per second; -1 (any negative number) for no limit."},
	{Name: "producer-props", Arg: cli.RequiredArg, Describer: "PROP-NAME=PROP-VALUE [PROP-NAME=PROP-VALUE ...]",
		Desc: "Producer properties (bootstrap.servers, acks, linger.ms, batch.size, compression.type, ...): one or more key=value after the option. They win over --producer.config."},
	{Name: "producer.config", Arg: cli.RequiredArg, Describer: "CONFIG-FILE", Desc: "A producer properties file."},
	{Name: "bootstrap-server", Arg: cli.RequiredArg, Describer: "BOOTSTRAP-SERVER",
		Desc: "host:port of one or more brokers, comma-separated; wins over bootstrap.servers in the producer properties."},
	{Name: "print-metrics", Desc: "Not supported: the Go client has no Java client metrics to print."},
	{Name: "transactional-id", Arg: cli.RequiredArg, Describer: "TRANSACTIONAL-ID", Desc: "Not supported (no transactions yet)."},
	{Name: "transaction-duration-ms", Arg: cli.RequiredArg, Type: "Long", Describer: "TRANSACTION-DURATION",
		Desc: "Not supported (no transactions yet)."},
	cli.HelpSpec,
	cli.VersionSpec,
}}

// expandPropsArgs rewrites "--producer-props a=1 b=2" (the option takes
// every following argument up to the next option, as argparse's nargs="+"
// does) into one "--producer-props" per value for the joptsimple-style
// parser. An abbreviation such as "--producer-" counts too.
func expandPropsArgs(args []string) ([]string, error) {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...), nil
		}
		name, inline, hasInline := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || len(name) < len("producer-") || !strings.HasPrefix("producer-props", name) {
			out = append(out, a)
			continue
		}
		if hasInline {
			out = append(out, "--producer-props", inline)
		}
		n := 0
		for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
			i++
			n++
			out = append(out, "--producer-props", args[i])
		}
		if !hasInline && n == 0 {
			return nil, usageError("argument --producer-props: expected at least one argument")
		}
	}
	return out, nil
}
