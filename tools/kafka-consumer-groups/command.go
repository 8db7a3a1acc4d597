package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const (
	toolName    = "kafka-consumer-groups"
	failureText = "Error: Executing consumer group command failed due to "
)

// run is the whole tool: it parses args, runs the one action, prints its
// output on stdout and returns the exit status.
func run(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := &command{out: bufio.NewWriter(stdout), errw: stderr}
	defer c.out.Flush()
	return c.main(args)
}

type command struct {
	out     *bufio.Writer
	errw    io.Writer
	o       *cli.Options
	cl      *cli.Client
	adm     *kadm.Client
	timeout time.Duration
}

// settings are the typed option values, converted up front so that a bad
// number is reported before anything is sent.
func (c *command) settings() error {
	ms, _, err := c.o.Long("timeout")
	if err != nil {
		return asUsage(err)
	}
	c.timeout = time.Duration(max(ms, 0)) * time.Millisecond
	for _, name := range []string{"to-offset", "shift-by"} {
		if _, _, err := c.o.Long(name); err != nil {
			return asUsage(err)
		}
	}
	return nil
}

func (c *command) main(args []string) int {
	o, err := parser.Parse(args)
	if err == nil {
		err = checkAvailable(o)
	}
	if err != nil {
		return c.fail(asUsage(err))
	}
	c.o = o
	switch {
	case len(args) == 0 || o.Has("help"):
		fmt.Fprintf(c.errw, "%s\n%s", helpMsg, parser.Help())
		return 1
	case o.Has("version"):
		fmt.Fprintln(c.out, cli.KafkaVersion)
		return 0
	}
	if err := checkArgs(o, c.errw); err != nil {
		return c.fail(err)
	}
	if countActions(o) != 1 {
		return c.fail(usagef("%s", actionsMsg))
	}
	if err := c.settings(); err != nil {
		return c.fail(err)
	}
	if err := c.connect(); err != nil {
		return c.fail(err)
	}
	defer c.cl.Close()

	switch {
	case o.Has("list"):
		err = c.list()
	case o.Has("describe"):
		err = c.describe()
	case o.Has("delete"):
		err = c.deleteGroups()
	case o.Has("reset-offsets"):
		err = c.resetOffsets()
	case o.Has("delete-offsets"):
		err = c.deleteOffsets()
	}
	if err != nil {
		return c.fail(err)
	}
	return 0
}

// connect builds the client from --bootstrap-server and --command-config.
// Every request is bounded by --timeout, as Kafka's tool passes it to
// each admin call.
func (c *command) connect() error {
	props := cli.Props{}
	if path, ok, err := c.o.Value("command-config"); err != nil {
		return asUsage(err)
	} else if ok {
		if props, err = cli.LoadProps(path); err != nil {
			return cli.Messagef("java.io.FileNotFoundException: %s", err)
		}
	}
	bootstrap, _, err := c.o.Value("bootstrap-server")
	if err != nil {
		return asUsage(err)
	}
	props["default.api.timeout.ms"] = strconv.FormatInt(c.timeout.Milliseconds(), 10)
	cl, err := cli.NewClient(context.Background(), cli.ClientConfig{Bootstrap: bootstrap, Props: props, ClientID: "adminclient-1"})
	if err != nil {
		return err
	}
	cli.NoteIgnored(c.errw, toolName, props)
	c.cl = cl
	c.adm = kadm.NewClient(cl.Client)
	return nil
}

// ctx bounds one request (one admin call of Kafka's tool) by --timeout.
func (c *command) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// fail reports err and returns the exit status: usage errors alone on
// stderr; anything else as Kafka's "Error: Executing consumer group command
// failed due to ..." line, also on stderr (Kafka prints it on stdout with a
// stack trace and exits 0; this tool keeps stdout for results and exits 1).
func (c *command) fail(err error) int {
	c.out.Flush()
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(c.errw, ue.msg)
	} else {
		fmt.Fprintln(c.errw, failureText+oneLine(err.Error()))
	}
	return 1
}

func oneLine(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "\n", " ") }

// printError is ConsumerGroupCommand.printError for the messages Kafka
// prints as part of an action's output (a missing group, groups that could
// not be deleted, ...): a blank line and "Error: msg" on stdout. Kafka's
// exit status stays 0 after these, and so does this tool's.
func (c *command) printError(msg string) {
	fmt.Fprintf(c.out, "\nError: %s\n", msg)
}

// stderrLine writes Kafka's stderr notices ("has no active members", "is
// rebalancing") after what is already on stdout.
func (c *command) stderrLine(s string) {
	c.out.Flush()
	fmt.Fprintln(c.errw, s)
}

// groupIDs is --group (in order, repeats dropped) or, with --all-groups,
// every consumer group.
func (c *command) groupIDs() ([]string, error) {
	if c.o.Has("all-groups") {
		ls, err := c.listConsumerGroups(nil, nil)
		if err != nil {
			return nil, wrapped(err)
		}
		ids := make([]string, len(ls))
		for i, l := range ls {
			ids[i] = l.group
		}
		return ids, nil
	}
	var ids []string
	seen := map[string]bool{}
	for _, g := range c.o.Values("group") {
		if !seen[g] {
			seen[g] = true
			ids = append(ids, g)
		}
	}
	return ids, nil
}
