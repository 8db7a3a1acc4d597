package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

// run is the whole program: it serves until SIGINT or SIGTERM and returns
// the exit status (0 after an orderly stop, 1 on a bad flag or a start
// failure, 2 for flag syntax errors).
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serve(ctx, args, stdout, stderr)
}

// topicFlag collects -topic NAME:PARTITIONS values.
type topicFlag map[string]int32

func (t topicFlag) String() string { return "" }

func (t topicFlag) Set(v string) error {
	name, parts, ok := strings.Cut(v, ":")
	n, err := strconv.ParseInt(parts, 10, 32)
	if !ok || name == "" || err != nil || n < 1 {
		return fmt.Errorf("want NAME:PARTITIONS with PARTITIONS >= 1, got %q", v)
	}
	t[name] = int32(n)
	return nil
}

// serve runs the cluster until ctx ends.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench-kfake-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 0, "port on 127.0.0.1 (0: any free port)")
	dataDir := fs.String("data-dir", "", "directory for kfake's segment files (default: keep everything in memory)")
	autoCreate := fs.Bool("auto-create", false, "let Metadata requests create missing topics")
	addrFile := fs.String("addr-file", "", "write the listen address to this file once serving")
	topics := topicFlag{}
	fs.Var(topics, "topic", "seed topic as NAME:PARTITIONS (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "bench-kfake-server: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *port < 0 || *port > 65535 {
		fmt.Fprintf(stderr, "bench-kfake-server: -port %d out of range\n", *port)
		return 1
	}

	opts := []kfake.Opt{kfake.NumBrokers(1), kfake.Ports(*port)}
	if *dataDir != "" {
		opts = append(opts, kfake.DataDir(*dataDir))
	}
	if *autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	for name, n := range topics {
		opts = append(opts, kfake.SeedTopics(n, name))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		fmt.Fprintf(stderr, "bench-kfake-server: %v\n", err)
		return 1
	}
	defer c.Close()
	addr := c.ListenAddrs()[0]
	if *addrFile != "" {
		if err := writeAtomically(*addrFile, addr+"\n"); err != nil {
			fmt.Fprintf(stderr, "bench-kfake-server: %v\n", err)
			return 1
		}
	}
	fmt.Fprintf(stdout, "listening on %s\n", addr)
	<-ctx.Done()
	return 0
}

// writeAtomically writes data to a temporary file beside path and renames
// it into place.
func writeAtomically(path, data string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".addr-*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}
