package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

const (
	toolName = "kafka-console-producer"
	helpMsg  = "This tool helps to read data from standard input and publish it to Kafka."
)

// run is the whole tool: it reads stdin line by line, produces one record
// per line and returns the exit status (0 when every record was written,
// 1 on an argument, parse or send error, 130 after an interrupt).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p := &producer{out: bufio.NewWriter(stdout), errw: stderr}
	defer p.flush()
	return p.main(ctx, args, stdin)
}

type producer struct {
	mu     sync.Mutex // guards out, errw and failed: the prompt and send callbacks write from other goroutines
	out    *bufio.Writer
	errw   io.Writer
	failed int
}

func (p *producer) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.Flush()
}

// errorf prints one line on stderr (after whatever stdout holds, so that a
// terminal shows both in order).
func (p *producer) errorf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.out.Flush()
	fmt.Fprintf(p.errw, format+"\n", args...)
}

func (p *producer) usage(msg string) int {
	p.errorf("%s\n%s", msg, strings.TrimSuffix(parser.Help(), "\n"))
	return 1
}

func (p *producer) main(ctx context.Context, args []string, stdin io.Reader) int {
	o, err := parser.Parse(args)
	if err != nil {
		p.errorf("%s", err)
		return 1
	}
	if !o.Has("help") && !o.Has("version") && !o.Has("bootstrap-server") && !o.Has("broker-list") {
		if len(args) == 0 {
			return p.usage("Missing required option(s) [bootstrap-server]")
		}
		p.errorf("Missing required option(s) [bootstrap-server]")
		return 1
	}
	if o.Has("help") {
		return p.usage(helpMsg)
	}
	if o.Has("version") {
		p.mu.Lock()
		fmt.Fprintln(p.out, cli.KafkaVersion)
		p.mu.Unlock()
		return 0
	}
	if !o.Has("topic") {
		p.errorf("%s", cli.Missing("topic"))
		return 1
	}
	cfg, err := p.configure(o)
	if err != nil {
		p.errorf("%s", err)
		return 1
	}
	cl, err := cli.NewClient(ctx, cli.ClientConfig{
		Bootstrap: cfg.bootstrap, Props: cfg.props, ClientID: "console-producer", Opts: cfg.opts,
	})
	if err != nil {
		p.errorf("%s", err)
		return 1
	}
	defer cl.Close()
	cli.NoteIgnored(p.errw, toolName, cfg.props)
	return p.loop(ctx, cl.Client, cfg, stdin)
}

// config is everything the loop needs.
type config struct {
	bootstrap string
	lines     *lineParser
	sync      bool
	props     cli.Props // producer properties not yet consumed
	opts      []kgo.Opt
}

func (p *producer) configure(o *cli.Options) (*config, error) {
	cfg := &config{sync: o.Has("sync")}
	topic, _, err := o.Value("topic")
	if err != nil {
		return nil, err
	}
	if o.Has("bootstrap-server") {
		cfg.bootstrap, _, err = o.Value("bootstrap-server")
	} else {
		cfg.bootstrap, _, err = o.Value("broker-list")
	}
	if err != nil {
		return nil, err
	}
	if err := cli.ValidateBootstrapShape(cfg.bootstrap); err != nil {
		return nil, err
	}
	if reader, _, _ := o.Value("line-reader"); reader != lineReaderClass && reader != "kafka.tools.ConsoleProducer$LineMessageReader" {
		return nil, cli.Messagef("%s: --line-reader %s is not supported; only %s is available", toolName, reader, lineReaderClass)
	}

	readerProps := cli.Props{}
	if path, ok, err := o.Value("reader-config"); err != nil {
		return nil, err
	} else if ok {
		if readerProps, err = cli.LoadProps(path); err != nil {
			return nil, err
		}
	}
	readerProps.Merge(cli.ParseKeyValueArgs(o.Values("property")))
	if cfg.lines, err = newLineParser(topic, readerProps); err != nil {
		return nil, err
	}

	props := cli.Props{}
	if path, ok, err := o.Value("producer.config"); err != nil {
		return nil, err
	} else if ok {
		if props, err = cli.LoadProps(path); err != nil {
			return nil, err
		}
	}
	props.Merge(cli.ParseKeyValueArgs(o.Values("producer-property")))
	codec := "none"
	if o.Has("compression-codec") {
		if v, _, _ := o.Value("compression-codec"); v != "" {
			codec = v
		} else {
			codec = "gzip"
		}
	}
	props["compression.type"] = codec // as in Kafka's tool, the option always wins
	// CommandLineUtils.maybeMergeOptions: an option given on the command
	// line wins; otherwise a property already set stays; otherwise the
	// option's default applies.
	merge := func(key, opt string) error {
		if o.Has(opt) {
			v, _, err := o.Value(opt)
			if err != nil {
				return err
			}
			props[key] = v
			return nil
		}
		if _, ok := props[key]; !ok {
			v, _, _ := o.Value(opt)
			props[key] = v
		}
		return nil
	}
	for _, m := range [][2]string{
		{"linger.ms", "timeout"},
		{"acks", "request-required-acks"},
		{"request.timeout.ms", "request-timeout-ms"},
		{"retries", "message-send-max-retries"},
		{"retry.backoff.ms", "retry-backoff-ms"},
		{"send.buffer.bytes", "socket-buffer-size"},
		{"buffer.memory", "max-memory-bytes"},
		{"batch.size", "batch-size"},
		{"batch.size", "max-partition-memory-bytes"},
		{"metadata.max.age.ms", "metadata-expiry-ms"},
		{"max.block.ms", "max-block-ms"},
	} {
		if err := merge(m[0], m[1]); err != nil {
			return nil, err
		}
	}
	if cfg.opts, err = producerOpts(props); err != nil {
		return nil, err
	}
	cfg.props = props
	return cfg, nil
}

func intProp(p cli.Props, key string, def int64, typ string) (int64, error) {
	v, ok := p.Take(key)
	if !ok {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || (typ == "INT" && (n < -1<<31 || n > 1<<31-1)) {
		return 0, cli.Messagef("Invalid value %s for configuration %s: Not a number of type %s", v, key, typ)
	}
	return n, nil
}

// producerOpts translates the producer properties kgo has an equivalent for
// and removes them from p (request.timeout.ms, retry.backoff.ms,
// metadata.max.age.ms and client.id stay for cli.NewClient). What remains
// is reported as ignored.
func producerOpts(p cli.Props) ([]kgo.Opt, error) {
	opts := []kgo.Opt{kgo.AllowAutoTopicCreation()} // Java producers ask brokers to auto-create

	acks, _ := p.Take("acks")
	switch strings.TrimSpace(strings.ToLower(acks)) {
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
		acks = "all"
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()))
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()))
	default:
		return nil, cli.Messagef("Invalid value %s for configuration acks: String must be one of: all, -1, 0, 1", acks)
	}
	idem, idemSet := p.Take("enable.idempotence")
	switch {
	case idemSet && isTrue(idem) && acks != "all":
		return nil, cli.Messagef("%s", "Must set acks to all in order to use the idempotent producer. Otherwise we cannot guarantee idempotence.")
	case acks != "all" || (idemSet && !isTrue(idem)):
		opts = append(opts, kgo.DisableIdempotentWrite())
	}

	codec, _ := p.Take("compression.type")
	switch strings.TrimSpace(codec) {
	case "none":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.NoCompression()))
	case "gzip":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.GzipCompression()))
	case "snappy":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.SnappyCompression()))
	case "lz4":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.Lz4Compression()))
	case "zstd":
		opts = append(opts, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	default:
		return nil, cli.Messagef("Invalid value %s for configuration compression.type: String must be one of: none, gzip, snappy, lz4, zstd", codec)
	}

	linger, err := intProp(p, "linger.ms", 5, "LONG")
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.ProducerLinger(time.Duration(linger)*time.Millisecond))
	// batch.size is validated but otherwise only a hint: kgo batches up to
	// max.request.size and never splits a record, as the Java producer.
	if _, err := intProp(p, "batch.size", 16384, "INT"); err != nil {
		return nil, err
	}
	maxReq, err := intProp(p, "max.request.size", 1048576, "INT")
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.ProducerBatchMaxBytes(int32(maxReq)))
	retries, err := intProp(p, "retries", 2147483647, "INT")
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.RecordRetries(int(retries)))
	delivery, err := intProp(p, "delivery.timeout.ms", 120000, "INT")
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.RecordDeliveryTimeout(time.Duration(delivery)*time.Millisecond))
	buffer, err := intProp(p, "buffer.memory", 33554432, "LONG")
	if err != nil {
		return nil, err
	}
	opts = append(opts, kgo.MaxBufferedBytes(int(buffer)))
	if v, ok := p["request.timeout.ms"]; ok { // also read by cli.NewClient
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil || n <= 0 {
			return nil, cli.Messagef("Invalid value %s for configuration request.timeout.ms: Not a number of type INT", v)
		}
		opts = append(opts, kgo.ProduceRequestTimeout(time.Duration(n)*time.Millisecond))
	}
	// Accepted with no kgo counterpart: sends never block on metadata, the
	// socket buffer is the OS's, serializers are always byte arrays.
	for _, k := range []string{"max.block.ms", "send.buffer.bytes", "key.serializer", "value.serializer"} {
		p.Take(k)
	}
	return opts, nil
}

// loop reads stdin and produces a record per line. Asynchronous send
// failures are reported as Kafka's ErrorLoggingCallback reports them; a
// parse error stops reading (records already read are still delivered).
func (p *producer) loop(ctx context.Context, cl *kgo.Client, cfg *config, stdin io.Reader) int {
	prompt := isTerminal(stdin)
	type line struct {
		text string
		err  error
	}
	lines := make(chan line)
	lr := newLineReader(stdin)
	go func() {
		for {
			if prompt {
				p.mu.Lock()
				fmt.Fprint(p.out, ">")
				p.out.Flush()
				p.mu.Unlock()
			}
			s, err := lr.next()
			select {
			case lines <- line{s, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()

	status := 0
	lineNo := 0
read:
	for {
		var l line
		select {
		case l = <-lines:
		case <-ctx.Done():
			status = 130
			break read
		}
		if l.err != nil {
			if !errors.Is(l.err, io.EOF) {
				p.errorf("%s: reading standard input: %v", toolName, l.err)
				status = 1
			}
			break
		}
		lineNo++
		rec, err := cfg.lines.parse(l.text, lineNo)
		if err != nil {
			p.errorf("%s", err)
			status = 1
			break
		}
		// Records are produced with a context of their own: an interrupt
		// stops reading, never a record already read.
		if cfg.sync {
			if err := cl.ProduceSync(context.Background(), rec).FirstErr(); err != nil {
				p.sendFailed(rec, err)
				status = 1
				break
			}
			continue
		}
		cl.Produce(context.Background(), rec, func(r *kgo.Record, err error) {
			if err != nil {
				p.sendFailed(r, err)
			}
		})
	}
	// Deliver what was read, even after an interrupt (Kafka closes its
	// producer in a shutdown hook, which flushes).
	fctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := cl.Flush(fctx); err != nil {
		p.errorf("%s: flushing: %v", toolName, err)
		status = 1
	}
	p.mu.Lock()
	failed := p.failed
	p.mu.Unlock()
	if failed > 0 && status == 0 {
		status = 1
	}
	return status
}

// sendFailed is Kafka's ErrorLoggingCallback line.
func (p *producer) sendFailed(r *kgo.Record, err error) {
	key := "null"
	if r.Key != nil {
		key = fmt.Sprintf("%d bytes", len(r.Key))
	}
	value := "null"
	if r.Value != nil {
		value = fmt.Sprintf("%d bytes", len(r.Value))
	}
	p.mu.Lock()
	p.failed++
	p.mu.Unlock()
	p.errorf("ERROR Error when sending message to topic %s with key: %s, value: %s with error: %v", r.Topic, key, value, err)
}

// isTerminal reports whether r is a terminal, where Kafka's reader prints a
// ">" prompt before each line.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
