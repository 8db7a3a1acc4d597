package main

import (
	"fmt"
	"strconv"
	"strings"
)

// The command line of Kafka 3.9's kafka-transactions.sh (argparse4j): the
// global options come before the subcommand, each subcommand has its own.

const prog = "kafka-transactions.sh"

type argError struct{ msg string }

func (e *argError) Error() string { return prog + ": error: " + e.msg }

func argErrorf(format string, a ...any) error { return &argError{fmt.Sprintf(format, a...)} }

// option is one argparse4j argument: its type names the conversion.
type option struct {
	name     string
	typ      string // "String", "Integer", "Long", "Short"
	required bool
	help     string
}

type command struct {
	name string
	help string
	opts []option
}

var commands = []command{
	{name: "list", help: "list transactions", opts: []option{
		{name: "duration-filter", typ: "Long", help: "Duration (in millis) to filter by: if < 0, all transactions will be returned; otherwise, only transactions running longer than this duration will be returned"},
	}},
	{name: "describe", help: "describe the state of an active transactional-id", opts: []option{
		{name: "transactional-id", typ: "String", required: true, help: "transactional id"},
	}},
	{name: "describe-producers", help: "describe the states of active producers for a topic partition", opts: []option{
		{name: "broker-id", typ: "Integer", help: "optional broker id to describe the producer state on a specific replica"},
		{name: "topic", typ: "String", required: true, help: "topic name"},
		{name: "partition", typ: "Integer", required: true, help: "partition number"},
	}},
	{name: "abort", help: "abort a hanging transaction (requires administrative privileges)", opts: []option{
		{name: "topic", typ: "String", required: true, help: "topic name"},
		{name: "partition", typ: "Integer", required: true, help: "partition number"},
		{name: "start-offset", typ: "Long", help: "start offset of the transaction to abort (brokers on 3.0 and above)"},
		{name: "producer-id", typ: "Long", help: "producer id (brokers older than 3.0)"},
		{name: "producer-epoch", typ: "Short", help: "producer epoch (brokers older than 3.0)"},
		{name: "coordinator-epoch", typ: "Integer", help: "coordinator epoch (brokers older than 3.0)"},
	}},
	{name: "find-hanging", help: "find hanging transactions", opts: []option{
		{name: "broker-id", typ: "Integer", help: "broker id to search for hanging transactions"},
		{name: "max-transaction-timeout", typ: "Integer", help: "maximum transaction timeout in minutes to limit the scope of the search (15 minutes by default)"},
		{name: "topic", typ: "String", help: "topic name to limit search to (required if --partition is specified)"},
		{name: "partition", typ: "Integer", help: "partition number"},
	}},
}

// args is a parsed command line.
type args struct {
	help, version   bool
	bootstrap       string
	commandConfig   string
	command         string
	values          map[string]string
	commandHelpOnly bool
}

func (a *args) has(name string) bool { _, ok := a.values[name]; return ok }

func (a *args) str(name string) string { return a.values[name] }

// num returns an option already checked by parse.
func (a *args) num(name string) int64 {
	n, _ := strconv.ParseInt(a.values[name], 10, 64)
	return n
}

func bits(typ string) int {
	switch typ {
	case "Short":
		return 16
	case "Integer":
		return 32
	}
	return 64
}

// takeValue reads "--name=value" or "--name value" at args[i].
func takeValue(argv []string, i int, name string) (string, int, error) {
	if eq := strings.IndexByte(argv[i], '='); eq >= 0 {
		return argv[i][eq+1:], i, nil
	}
	if i+1 >= len(argv) {
		return "", i, argErrorf("argument --%s: expected one argument", name)
	}
	return argv[i+1], i + 1, nil
}

func optName(tok string) string {
	n := strings.TrimLeft(tok, "-")
	if eq := strings.IndexByte(n, '='); eq >= 0 {
		n = n[:eq]
	}
	return n
}

func parse(argv []string) (*args, error) {
	a := &args{values: map[string]string{}}
	i := 0
	for ; i < len(argv); i++ {
		tok := argv[i]
		if !strings.HasPrefix(tok, "-") || tok == "-" {
			break
		}
		var err error
		switch optName(tok) {
		case "h", "help":
			a.help = true
		case "v", "version":
			a.version = true
		case "bootstrap-server":
			a.bootstrap, i, err = takeValue(argv, i, "bootstrap-server")
		case "command-config":
			a.commandConfig, i, err = takeValue(argv, i, "command-config")
		default:
			err = argErrorf("unrecognized arguments: '%s'", tok)
		}
		if err != nil {
			return nil, err
		}
	}
	if a.help || a.version {
		return a, nil
	}
	if i >= len(argv) {
		return nil, argErrorf("too few arguments")
	}
	var cmd *command
	for k := range commands {
		if commands[k].name == argv[i] {
			cmd = &commands[k]
		}
	}
	if cmd == nil {
		names := make([]string, len(commands))
		for k, c := range commands {
			names[k] = "'" + c.name + "'"
		}
		return nil, argErrorf("argument COMMAND: invalid choice: '%s' (choose from %s)", argv[i], strings.Join(names, ", "))
	}
	a.command = cmd.name
	for i++; i < len(argv); i++ {
		tok := argv[i]
		name := optName(tok)
		if name == "h" || name == "help" {
			a.commandHelpOnly = true
			return a, nil
		}
		var opt *option
		for k := range cmd.opts {
			if strings.HasPrefix(tok, "--") && cmd.opts[k].name == name {
				opt = &cmd.opts[k]
			}
		}
		if opt == nil {
			return nil, argErrorf("unrecognized arguments: '%s'", tok)
		}
		v, next, err := takeValue(argv, i, opt.name)
		if err != nil {
			return nil, err
		}
		i = next
		if opt.typ != "String" {
			if _, err := strconv.ParseInt(v, 10, bits(opt.typ)); err != nil {
				return nil, argErrorf("argument --%s: could not convert '%s' to %s (For input string: \"%s\")", opt.name, v, opt.typ, v)
			}
		}
		a.values[opt.name] = v
	}
	if a.bootstrap == "" {
		return nil, argErrorf("argument --bootstrap-server is required")
	}
	for _, o := range cmd.opts {
		if o.required && !a.has(o.name) {
			return nil, argErrorf("argument --%s is required", o.name)
		}
	}
	return a, nil
}

// usage is the help text: the options and commands of the tool, in this
// project's layout (argparse4j's is close).
func usage() string {
	var b strings.Builder
	b.WriteString("usage: " + prog + " [-h] [-v] [--command-config FILE] --bootstrap-server host:port COMMAND ...\n\n")
	b.WriteString("This tool is used to analyze the transactional state of producers in the cluster. It can be used to detect and recover from hanging transactions.\n\n")
	b.WriteString("optional arguments:\n")
	b.WriteString("  -h, --help             show this help message and exit\n")
	b.WriteString("  -v, --version          show the version of this Kafka distribution and exit\n")
	b.WriteString("  --command-config FILE  property file containing configs to be passed to admin client\n")
	b.WriteString("  --bootstrap-server host:port\n                         hostname and port for the broker to connect to, in the form `host:port` (multiple comma-separated entries can be given)\n\n")
	b.WriteString("commands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-22s %s\n", c.name, c.help)
		for _, o := range c.opts {
			req := ""
			if o.required {
				req = " (required)"
			}
			fmt.Fprintf(&b, "      --%s %s%s: %s\n", o.name, strings.ToUpper(strings.ReplaceAll(o.name, "-", "_")), req, o.help)
		}
	}
	return b.String()
}
