package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

type config struct {
	seeds      []string
	topic      string
	members    int
	partitions int
	rounds     int
	committers int
	duration   time.Duration
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench-groups", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bootstrap := fs.String("bootstrap", "", "bootstrap servers, host:port[,...]")
	cfg := config{}
	fs.StringVar(&cfg.topic, "topic", "bench-groups", "topic the members consume")
	fs.IntVar(&cfg.members, "members", 100, "group members")
	fs.IntVar(&cfg.partitions, "partitions", 100, "partitions of the topic when it is created")
	fs.IntVar(&cfg.rounds, "rounds", 3, "rebalances measured")
	fs.IntVar(&cfg.committers, "committers", 8, "parallel committing clients")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long the commit loop runs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *bootstrap == "" || cfg.members < 1 || cfg.rounds < 1 || cfg.committers < 1 || cfg.partitions < 1 {
		fmt.Fprintln(stderr, "bench-groups: -bootstrap is required; counts must be positive")
		return 2
	}
	cfg.seeds = strings.Split(*bootstrap, ",")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := bench(ctx, cfg, stdout); err != nil {
		fmt.Fprintf(stderr, "bench-groups: %v\n", err)
		return 1
	}
	return 0
}

func bench(ctx context.Context, cfg config, out io.Writer) error {
	admCl, err := kgo.NewClient(kgo.SeedBrokers(cfg.seeds...))
	if err != nil {
		return err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	if _, err := adm.CreateTopic(ctx, int32(cfg.partitions), 1, nil, cfg.topic); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating %s: %w", cfg.topic, err)
	}
	first, times, err := rebalances(ctx, cfg)
	if err != nil {
		return err
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Fprintf(out, "rebalance: %d members, first join %v (includes group.initial.rebalance.delay.ms), one more member: median %v (min %v, max %v, %d rounds)\n",
		cfg.members, first.Round(time.Millisecond), times[len(times)/2].Round(time.Millisecond),
		times[0].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), len(times))
	n, err := commits(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "commits: %d committers, %.0f commits/s over %v\n", cfg.committers, float64(n)/cfg.duration.Seconds(), cfg.duration)
	return nil
}

// member is one group member and the generation its latest assignment
// came with.
type member struct {
	cl  *kgo.Client
	gen atomic.Int32
}

func newMember(cfg config, group string) (*member, error) {
	m := &member{}
	cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.seeds...), kgo.ConsumerGroup(group), kgo.ConsumeTopics(cfg.topic),
		kgo.OnPartitionsAssigned(func(_ context.Context, c *kgo.Client, _ map[string][]int32) {
			_, g := c.GroupMetadata()
			m.gen.Store(g)
		}))
	if err != nil {
		return nil, err
	}
	m.cl = cl
	go func() {
		for {
			fs := cl.PollFetches(context.Background())
			if fs.IsClientClosed() {
				return
			}
		}
	}()
	return m, nil
}

// rebalances forms the group, then adds one member per round and
// measures until every member is in a newer generation.
func rebalances(ctx context.Context, cfg config) (time.Duration, []time.Duration, error) {
	group := fmt.Sprintf("bench-groups-%d", time.Now().UnixNano())
	var members []*member
	defer func() {
		var wg sync.WaitGroup
		for _, m := range members {
			wg.Add(1)
			go func() { defer wg.Done(); m.cl.Close() }()
		}
		wg.Wait()
	}()
	start := time.Now()
	for range cfg.members {
		m, err := newMember(cfg, group)
		if err != nil {
			return 0, nil, err
		}
		members = append(members, m)
	}
	gen, err := waitGeneration(ctx, members, 0)
	if err != nil {
		return 0, nil, err
	}
	first := time.Since(start)
	var times []time.Duration
	for range cfg.rounds {
		start := time.Now()
		m, err := newMember(cfg, group)
		if err != nil {
			return 0, nil, err
		}
		members = append(members, m)
		if gen, err = waitGeneration(ctx, members, gen); err != nil {
			return 0, nil, err
		}
		times = append(times, time.Since(start))
	}
	return first, times, nil
}

// waitGeneration waits until every member has an assignment from one
// generation newer than after and returns it.
func waitGeneration(ctx context.Context, members []*member, after int32) (int32, error) {
	for {
		g := members[0].gen.Load()
		same := g > after
		for _, m := range members[1:] {
			if m.gen.Load() != g {
				same = false
				break
			}
		}
		if same {
			return g, nil
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("waiting for generation > %d: %w", after, ctx.Err())
		case <-time.After(2 * time.Millisecond): // poll interval
		}
	}
}

// commits runs the commit loop and returns how many commits succeeded.
// commits runs the committers, each with its own client (its own
// connections): a broker handles one request per connection at a time, as
// Kafka does, so committers sharing a client would wait for each other.
func commits(ctx context.Context, cfg config) (int64, error) {
	var n atomic.Int64
	var firstErr error
	var mu sync.Mutex
	deadline := time.Now().Add(cfg.duration)
	var wg sync.WaitGroup
	for i := range cfg.committers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := kgo.NewClient(kgo.SeedBrokers(cfg.seeds...))
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				return
			}
			defer cl.Close()
			adm := kadm.NewClient(cl)
			group := fmt.Sprintf("bench-commits-%d-%d", time.Now().UnixNano(), i)
			off := kadm.Offsets{}
			for o := int64(1); time.Now().Before(deadline); o++ {
				off.AddOffset(cfg.topic, int32(i%cfg.partitions), o, -1)
				r, err := adm.CommitOffsets(ctx, group, off)
				if err == nil {
					err = r.Error()
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return n.Load(), firstErr
}
