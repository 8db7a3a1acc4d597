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

const usage = "USAGE: kbroker server.properties [--override property=value]* [--log-level trace|debug|info|warn|error]"

func main() { os.Exit(run(os.Args[1:], os.Stderr)) }

// run parses the arguments, starts the broker and waits for a signal.
func run(args []string, stderr io.Writer) int {
	file, overrides, level, err := parseArgs(args)
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
	log := zerolog.New(stderr).Level(level).With().Timestamp().Logger()
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

// parseArgs reads "server.properties [--override k=v]... [--log-level l]".
// The log level defaults to info (debug adds connections, trace every
// request).
func parseArgs(args []string) (string, []string, zerolog.Level, error) {
	level := zerolog.InfoLevel
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, level, fmt.Errorf("kbroker: the first argument must be a server.properties file")
	}
	file := args[0]
	var overrides []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		var lv string
		switch {
		case a == "--override" && i+1 < len(args):
			overrides = append(overrides, args[i+1])
			i++
			continue
		case strings.HasPrefix(a, "--override="):
			overrides = append(overrides, strings.TrimPrefix(a, "--override="))
			continue
		case a == "--log-level" && i+1 < len(args):
			lv = args[i+1]
			i++
		case strings.HasPrefix(a, "--log-level="):
			lv = strings.TrimPrefix(a, "--log-level=")
		default:
			return "", nil, level, fmt.Errorf("kbroker: unexpected argument %q", a)
		}
		l, err := zerolog.ParseLevel(lv)
		if err != nil || lv == "" || l > zerolog.ErrorLevel || l < zerolog.TraceLevel {
			return "", nil, level, fmt.Errorf("kbroker: --log-level must be trace, debug, info, warn or error, not %q", lv)
		}
		level = l
	}
	return file, overrides, level, nil
}
