package main

import "github.com/kbroker/kbroker/tools/internal/cli"

// The options of Kafka 3.9's kafka-console-producer.sh (ConsoleProducer),
// with this project's own help texts.
var parser = &cli.Parser{Specs: []cli.Spec{
	{Name: "topic", Arg: cli.RequiredArg, Describer: "topic", Desc: "REQUIRED: the topic to write to."},
	{Name: "broker-list", Arg: cli.RequiredArg, Describer: "broker-list",
		Desc: "Deprecated spelling of --bootstrap-server, used only when that is absent."},
	{Name: "bootstrap-server", Arg: cli.RequiredArg, Describer: "server to connect to",
		Desc: "REQUIRED (unless --broker-list): host:port of one or more brokers, comma-separated."},
	{Name: "sync", Desc: "Send each record on its own and wait for its acknowledgement before reading the next line."},
	{Name: "compression-codec", Arg: cli.OptionalArg, Describer: "compression-codec",
		Desc: "none, gzip, snappy, lz4 or zstd; gzip when given without a value. Replaces any compression.type producer property."},
	{Name: "batch-size", Arg: cli.RequiredArg, Type: "Integer", Describer: "size", Default: "16384",
		Desc: "batch.size of the producer, in bytes (also settable as --max-partition-memory-bytes, which wins)."},
	{Name: "message-send-max-retries", Arg: cli.RequiredArg, Type: "Integer", Default: "3",
		Desc: "retries: how often a failed send is retried before the record is given up."},
	{Name: "retry-backoff-ms", Arg: cli.RequiredArg, Type: "Long", Default: "100",
		Desc: "retry.backoff.ms: the pause before a retry."},
	{Name: "timeout", Arg: cli.RequiredArg, Type: "Long", Describer: "timeout_ms", Default: "1000",
		Desc: "linger.ms: how long a batch waits for more records before it is sent."},
	{Name: "request-required-acks", Arg: cli.RequiredArg, Describer: "request required acks", Default: "-1",
		Desc: "acks: -1 or all (every in-sync replica), 1 (the leader) or 0 (none)."},
	{Name: "request-timeout-ms", Arg: cli.RequiredArg, Type: "Integer", Describer: "request timeout ms", Default: "1500",
		Desc: "request.timeout.ms: how long the broker may take to acknowledge a produce request."},
	{Name: "metadata-expiry-ms", Arg: cli.RequiredArg, Type: "Long", Describer: "metadata expiration interval", Default: "300000",
		Desc: "metadata.max.age.ms: the longest time between two metadata refreshes."},
	{Name: "max-block-ms", Arg: cli.RequiredArg, Type: "Long", Describer: "max block on send", Default: "60000",
		Desc: "max.block.ms (accepted; the Go client does not block sends on metadata)."},
	{Name: "max-memory-bytes", Arg: cli.RequiredArg, Type: "Long", Describer: "total memory in bytes", Default: "33554432",
		Desc: "buffer.memory: the most bytes of records buffered before reading stdin pauses."},
	{Name: "max-partition-memory-bytes", Arg: cli.RequiredArg, Type: "Integer", Describer: "memory in bytes per partition", Default: "16384",
		Desc: "batch.size, see --batch-size."},
	{Name: "line-reader", Arg: cli.RequiredArg, Describer: "reader_class", Default: lineReaderClass,
		Desc: "Only Kafka's line reader (one record per line) is available."},
	{Name: "socket-buffer-size", Arg: cli.RequiredArg, Type: "Integer", Describer: "size", Default: "102400",
		Desc: "send.buffer.bytes (accepted and ignored)."},
	{Name: "property", Arg: cli.RequiredArg, Describer: "prop",
		Desc: "A line reader setting as key=value; repeat for several:\n parse.key=false\n key.separator=\\t\n parse.headers=false\n" +
			" headers.delimiter=\\t\n headers.separator=,\n headers.key.separator=:\n ignore.error=false\n" +
			" null.marker=<text that stands for null in key, value and header values>\n" +
			"With parse.headers and parse.key a line is \"h1:v1,h2:v2<TAB>key<TAB>value\"."},
	{Name: "reader-config", Arg: cli.RequiredArg, Describer: "config file",
		Desc: "A properties file of line reader settings; --property wins."},
	{Name: "producer-property", Arg: cli.RequiredArg, Describer: "producer_prop",
		Desc: "A producer property as key=value (acks, linger.ms, client.id, enable.idempotence, ...); repeat for several."},
	{Name: "producer.config", Arg: cli.RequiredArg, Describer: "config file",
		Desc: "A producer properties file; --producer-property wins."},
	cli.HelpSpec,
	cli.VersionSpec,
}}

const lineReaderClass = "org.apache.kafka.tools.LineMessageReader"
