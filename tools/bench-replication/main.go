package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

type config struct {
	seeds       []string
	records     int
	recordSize  int
	partitions  int
	syncRecords int
	prefix      string
	keep        bool
	warmup      int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench-replication", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bootstrap := fs.String("bootstrap-server", "", "bootstrap servers, host:port[,...]")
	var cfg config
	fs.IntVar(&cfg.records, "records", 200000, "records produced per topic in the pipelined mode")
	fs.IntVar(&cfg.recordSize, "record-size", 1024, "value size in bytes")
	fs.IntVar(&cfg.partitions, "partitions", 3, "partitions of each topic")
	fs.IntVar(&cfg.syncRecords, "sync-records", 2000, "records produced one at a time per topic (0: skip that mode)")
	fs.StringVar(&cfg.prefix, "topic-prefix", "bench-replication", "prefix of the two topics' names")
	fs.BoolVar(&cfg.keep, "keep-topics", false, "do not delete the topics at the end")
	fs.IntVar(&cfg.warmup, "warmup", 200, "unmeasured records sent to each topic first")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bootstrap == "" || cfg.records < 1 || cfg.recordSize < 0 || cfg.partitions < 1 || cfg.syncRecords < 0 || cfg.warmup < 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "bench-replication: --bootstrap-server is required; --records and --partitions must be positive, other counts not negative")
		return 2
	}
	cfg.seeds = strings.Split(*bootstrap, ",")
	if err := bench(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "bench-replication: %v\n", err)
		return 1
	}
	return 0
}

// setup is one side of the comparison.
type setup struct {
	label  string
	topic  string
	rf     int16
	acks   kgo.Acks
	config map[string]*string
}

// result is one measured mode of one setup.
type result struct {
	records int
	elapsed time.Duration
	lat     []time.Duration // sorted
}

func (r result) perSec() float64 { return float64(r.records) / r.elapsed.Seconds() }

func (r result) percentile(q float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(r.lat)))) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

func bench(ctx context.Context, cfg config, out io.Writer) error {
	admCl, err := kgo.NewClient(kgo.SeedBrokers(cfg.seeds...))
	if err != nil {
		return err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	adm.SetTimeoutMillis(30000)

	stamp := time.Now().Format("20060102-150405")
	minISR := "2"
	setups := []setup{
		{label: "acks=all RF=3", topic: fmt.Sprintf("%s-rf3-%s", cfg.prefix, stamp), rf: 3, acks: kgo.AllISRAcks(),
			config: map[string]*string{"min.insync.replicas": &minISR}},
		{label: "acks=1 RF=1", topic: fmt.Sprintf("%s-rf1-%s", cfg.prefix, stamp), rf: 1, acks: kgo.LeaderAck()},
	}
	for _, s := range setups {
		if _, err := adm.CreateTopic(ctx, int32(cfg.partitions), s.rf, s.config, s.topic); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating %s: %w", s.topic, err)
		}
		if !cfg.keep {
			defer func() {
				dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, _ = adm.DeleteTopic(dctx, s.topic)
			}()
		}
		if err := waitReplicated(ctx, adm, s.topic, cfg.partitions, int(s.rf)); err != nil {
			return err
		}
	}

	value := make([]byte, cfg.recordSize)
	for i := range value {
		value[i] = byte('a' + i%26)
	}
	fmt.Fprintf(out, "bench-replication: %d records of %d B, %d partitions per topic, bootstrap %s\n",
		cfg.records, cfg.recordSize, cfg.partitions, strings.Join(cfg.seeds, ","))

	pipelined := make([]result, len(setups))
	syncs := make([]result, len(setups))
	for i, s := range setups {
		cl, err := newProducer(cfg, s)
		if err != nil {
			return err
		}
		if cfg.warmup > 0 {
			if _, err := produceSync(ctx, cl, s.topic, value, cfg.warmup); err != nil {
				cl.Close()
				return fmt.Errorf("%s warm-up: %w", s.label, err)
			}
		}
		pipelined[i], err = producePipelined(ctx, cl, s.topic, value, cfg.records)
		if err == nil && cfg.syncRecords > 0 {
			syncs[i], err = produceSync(ctx, cl, s.topic, value, cfg.syncRecords)
		}
		cl.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", s.label, err)
		}
	}

	printTable(out, fmt.Sprintf("pipelined (%d records, up to 10000 in flight)", cfg.records), setups, pipelined, cfg.recordSize)
	if cfg.syncRecords > 0 {
		printTable(out, fmt.Sprintf("one record in flight (%d records, each waits for its acknowledgement)", cfg.syncRecords), setups, syncs, cfg.recordSize)
	}
	return nil
}

func newProducer(cfg config, s setup) (*kgo.Client, error) {
	return kgo.NewClient(
		kgo.SeedBrokers(cfg.seeds...),
		kgo.DefaultProduceTopic(s.topic),
		kgo.RequiredAcks(s.acks),
		kgo.DisableIdempotentWrite(),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(10000),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.ProduceRequestTimeout(30*time.Second),
	)
}

// waitReplicated waits until every partition of topic has a leader and
// an ISR of rf replicas.
func waitReplicated(ctx context.Context, adm *kadm.Client, topic string, partitions, rf int) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var why string
		md, err := adm.Metadata(ctx, topic)
		switch {
		case err != nil:
			why = err.Error()
		default:
			td, ok := md.Topics[topic]
			switch {
			case !ok:
				why = "not in metadata"
			case td.Err != nil:
				why = td.Err.Error()
			case len(td.Partitions) != partitions:
				why = fmt.Sprintf("%d partitions", len(td.Partitions))
			default:
				for _, p := range td.Partitions {
					if p.Leader < 0 || len(p.ISR) != rf {
						why = fmt.Sprintf("partition %d: leader %d, isr %v", p.Partition, p.Leader, p.ISR)
						break
					}
				}
			}
		}
		if why == "" {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("topic %s not ready within 60s: %s", topic, why)
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond): // poll interval
		}
	}
}

// producePipelined sends n records without waiting between them and
// measures each one's time from Produce to its acknowledgement.
func producePipelined(ctx context.Context, cl *kgo.Client, topic string, value []byte, n int) (result, error) {
	lat := make([]time.Duration, n)
	var (
		mu       sync.Mutex
		firstErr error
		failed   int
		wg       sync.WaitGroup
	)
	wg.Add(n)
	start := time.Now()
	for i := range n {
		sent := time.Now()
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: value}, func(_ *kgo.Record, err error) {
			lat[i] = time.Since(sent)
			if err != nil {
				mu.Lock()
				failed++
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return result{}, fmt.Errorf("%d of %d records failed, first: %w", failed, n, firstErr)
	}
	slices.Sort(lat)
	return result{records: n, elapsed: elapsed, lat: lat}, nil
}

// produceSync sends n records one at a time.
func produceSync(ctx context.Context, cl *kgo.Client, topic string, value []byte, n int) (result, error) {
	lat := make([]time.Duration, n)
	start := time.Now()
	for i := range n {
		sent := time.Now()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: value}).FirstErr(); err != nil {
			return result{}, fmt.Errorf("record %d of %d: %w", i+1, n, err)
		}
		lat[i] = time.Since(sent)
	}
	elapsed := time.Since(start)
	slices.Sort(lat)
	return result{records: n, elapsed: elapsed, lat: lat}, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

// printTable prints one mode: a line per setup and the ratio of the first
// to the second.
func printTable(out io.Writer, title string, setups []setup, rs []result, size int) {
	const row = "%-22s %12s %10s %10s %10s\n"
	fmt.Fprintf(out, "\n%s\n", title)
	fmt.Fprintf(out, row, "", "records/s", "MiB/s", "p50 ms", "p99 ms")
	for i, s := range setups {
		r := rs[i]
		fmt.Fprintf(out, row, s.label,
			fmt.Sprintf("%.0f", r.perSec()),
			fmt.Sprintf("%.2f", r.perSec()*float64(size)/(1<<20)),
			fmt.Sprintf("%.2f", ms(r.percentile(0.50))),
			fmt.Sprintf("%.2f", ms(r.percentile(0.99))))
	}
	a, b := rs[0], rs[1]
	fmt.Fprintf(out, row, "ratio all-RF3/1-RF1",
		ratio(a.perSec(), b.perSec()), ratio(a.perSec(), b.perSec()),
		ratio(ms(a.percentile(0.50)), ms(b.percentile(0.50))),
		ratio(ms(a.percentile(0.99)), ms(b.percentile(0.99))))
}
