package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/broker"
	"github.com/kbroker/kbroker/config"
)

const usage = "USAGE: kbroker server.properties [--override property=value]*"

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// run parses the arguments, starts the broker and waits for a signal.
func run(args []string, stderr io.Writer) int {
	file, overrides, err := parseArgs(args)
	if err != nil {
		fmt.Fprintln(stderr, err)
		fmt.Fprintln(stderr, usage)
		return 2
	}
	cfg, err := config.Load(config.Options{File: file, Overrides: overrides})
	if err != nil {
		fmt.Fprintf(stderr, "kbroker: invalid configuration: %v\n", err)
		return 1
	}
	log := zerolog.New(stderr).With().Timestamp().Logger()
	b := broker.New(cfg, log)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	// Startup (log recovery included) may take long; a signal cancels it.
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan error, 1)
	go func() { started <- b.Start(ctx) }()
	var s os.Signal
	select {
	case err = <-started:
	case s = <-sig:
		cancel()
		err = <-started
	}
	cancel()
	if err != nil {
		log.Error().Err(err).Msg("kbroker failed to start")
		return 1
	}
	if s == nil {
		s = <-sig
	}
	log.Info().Str("signal", s.String()).Msg("shutting down")
	if err := b.Close(); err != nil {
		log.Error().Err(err).Msg("shutdown finished with errors")
		return 1
	}
	return 0
}

// parseArgs reads "server.properties [--override k=v]...".
func parseArgs(args []string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, fmt.Errorf("kbroker: the first argument must be a server.properties file")
	}
	file := args[0]
	var overrides []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--override" && i+1 < len(args):
			overrides = append(overrides, args[i+1])
			i++
		case strings.HasPrefix(a, "--override="):
			overrides = append(overrides, strings.TrimPrefix(a, "--override="))
		default:
			return "", nil, fmt.Errorf("kbroker: unexpected argument %q", a)
		}
	}
	return file, overrides, nil
}
