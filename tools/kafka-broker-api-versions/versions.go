package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const (
	toolName = "kafka-broker-api-versions"
	helpMsg  = "This tool helps to retrieve broker version information."
	// requestTimeout is the legacy admin client's default request timeout,
	// which bounds each request of Kafka's tool.
	requestTimeout = 5 * time.Second
)

var parser = &cli.Parser{Specs: []cli.Spec{
	{Name: "bootstrap-server", Arg: cli.RequiredArg, Describer: "server(s) to use for bootstrapping",
		Desc: "REQUIRED: host:port of one or more brokers, comma-separated."},
	{Name: "command-config", Arg: cli.RequiredArg, Describer: "command config property file",
		Desc: "A client properties file (client.id, request.timeout.ms, ...)."},
	cli.HelpSpec,
	cli.VersionSpec,
}}

// run is the whole tool: it finds every broker of the cluster, asks each
// for its API versions and prints them as Kafka 3.9's tool does. Exit
// status 0, or 1 when no broker answers or the arguments are wrong.
func run(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	fail := func(msg string) int {
		out.Flush()
		fmt.Fprintln(stderr, msg)
		return 1
	}
	o, err := parser.Parse(args)
	if err != nil {
		return fail(err.Error())
	}
	if len(args) == 0 || o.Has("help") {
		return fail(helpMsg + "\n" + strings.TrimSuffix(parser.Help(), "\n"))
	}
	if o.Has("version") {
		fmt.Fprintln(out, cli.KafkaVersion)
		return 0
	}
	if !o.Has("bootstrap-server") {
		return fail(cli.Missing("bootstrap-server").Error())
	}
	bootstrap, _, err := o.Value("bootstrap-server")
	if err != nil {
		return fail(err.Error())
	}
	props := cli.Props{}
	if path, ok, err := o.Value("command-config"); err != nil {
		return fail(err.Error())
	} else if ok {
		if props, err = cli.LoadProps(path); err != nil {
			return fail(err.Error())
		}
	}
	// Each request of Kafka's tool is bounded by request.timeout.ms (5 s
	// by default), not by default.api.timeout.ms.
	if _, ok := props["default.api.timeout.ms"]; !ok {
		if v, ok := props["request.timeout.ms"]; ok {
			props["default.api.timeout.ms"] = v
		} else {
			props["default.api.timeout.ms"] = strconv.Itoa(int(requestTimeout.Milliseconds()))
		}
	}
	ctx := context.Background()
	cl, err := cli.NewClient(ctx, cli.ClientConfig{Bootstrap: bootstrap, Props: props, ClientID: "admin-1"})
	if err != nil {
		return fail(err.Error())
	}
	defer cl.Close()
	cli.NoteIgnored(stderr, toolName, props)

	mctx, cancel := cl.Context(ctx)
	meta, err := cli.Metadata(mctx, cl.Client, nil)
	cancel()
	if err != nil {
		return fail(fmt.Sprintf("Request METADATA failed on brokers [%s]", bootstrapNodes(bootstrap)))
	}
	if len(meta.Brokers) == 0 {
		return fail(toolName + ": the cluster's metadata lists no brokers")
	}
	// Kafka's tool prints the brokers in the order of a Java HashMap of
	// nodes; this tool sorts them by id.
	brokers := append([]kmsg.MetadataResponseBroker(nil), meta.Brokers...)
	sort.Slice(brokers, func(i, j int) bool { return brokers[i].NodeID < brokers[j].NodeID })
	for _, b := range brokers {
		rack := "null"
		if b.Rack != nil {
			rack = *b.Rack
		}
		node := fmt.Sprintf("%s:%d (id: %d rack: %s)", b.Host, b.Port, b.NodeID, rack)
		req := kmsg.NewPtrApiVersionsRequest()
		req.ClientSoftwareName = "kbroker-tools"
		req.ClientSoftwareVersion = cli.KafkaVersion
		actx, cancel := cl.Context(ctx)
		resp, err := req.RequestWith(actx, cl.Broker(int(b.NodeID)))
		cancel()
		switch {
		case err != nil:
			fmt.Fprintf(out, "%s -> ERROR: %s\n", node, err)
		case resp.ErrorCode != 0:
			fmt.Fprintf(out, "%s -> ERROR: %s\n", node, cli.ErrorMessage(resp.ErrorCode, nil))
		default:
			fmt.Fprintf(out, "%s -> %s\n", node, nodeAPIVersions(resp.ApiKeys))
		}
	}
	return 0
}

// bootstrapNodes renders the bootstrap list as Kafka's error names it:
// "host:port (id: -1 rack: null)" per entry.
func bootstrapNodes(list string) string {
	var nodes []string
	for _, hp := range strings.Split(list, ",") {
		if hp = strings.TrimSpace(hp); hp != "" {
			nodes = append(nodes, hp+" (id: -1 rack: null)")
		}
	}
	return strings.Join(nodes, ", ")
}

// nodeAPIVersions is NodeApiVersions.toString(true): "(", then one line per
// API in key order, each indented by a tab and all but the last ended by a
// comma, then ")". An API is "Name(key): min to max [usable: v]" (just
// "min" when min equals max), "UNKNOWN(key): ..." when a 3.9 client does
// not know the key, and "Name(key): UNSUPPORTED" for a client API the
// broker does not advertise.
func nodeAPIVersions(keys []kmsg.ApiVersionsResponseApiKey) string {
	lines := map[int16]string{}
	for _, k := range keys {
		versions := strconv.Itoa(int(k.MinVersion))
		if k.MinVersion != k.MaxVersion {
			versions += " to " + strconv.Itoa(int(k.MaxVersion))
		}
		known, ok := apiKeys[k.ApiKey]
		if !ok {
			lines[k.ApiKey] = fmt.Sprintf("UNKNOWN(%d): %s", k.ApiKey, versions)
			continue
		}
		var usable string
		switch {
		case known.latest < k.MinVersion:
			usable = " [unusable: node too new]"
		case k.MaxVersion < oldestVersion:
			usable = " [unusable: node too old]"
		default:
			usable = fmt.Sprintf(" [usable: %d]", min(known.latest, k.MaxVersion))
		}
		lines[k.ApiKey] = fmt.Sprintf("%s(%d): %s%s", known.name, k.ApiKey, versions, usable)
	}
	for id, k := range apiKeys {
		if _, ok := lines[id]; !ok && k.client {
			lines[id] = fmt.Sprintf("%s(%d): UNSUPPORTED", k.name, id)
		}
	}
	ids := make([]int, 0, len(lines))
	for id := range lines {
		ids = append(ids, int(id))
	}
	sort.Ints(ids)
	texts := make([]string, len(ids))
	for i, id := range ids {
		texts[i] = lines[int16(id)]
	}
	return "(\n\t" + strings.Join(texts, ",\n\t") + "\n)"
}
