package itest

// Pieces of TestNoLoss (noloss_test.go): the record format, the producers
// and their ledger of outcomes, the consumers and what they saw, the
// partition states in ZooKeeper, and the final verification.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// --- records ---

// recKey names one record a producer sent: producer id, partition, and the
// producer's sequence number within that partition (from 0, no gaps).
type recKey struct {
	producer  int
	partition int32
	seq       int64
}

func (k recKey) String() string { return fmt.Sprintf("P%d/p%d/s%d", k.producer, k.partition, k.seq) }

const nolossValuePrefix = "noloss "

// nolossValue is a record's value: the key in text, padded with a
// filler derived from it to size bytes (so a value cut or mixed with
// another's is noticed).
func nolossValue(k recKey, size int) []byte {
	head := fmt.Sprintf("%sP%d p%d s%d |", nolossValuePrefix, k.producer, k.partition, k.seq)
	b := []byte(head)
	for i := 0; len(b) < size; i++ {
		b = append(b, 'a'+byte((int(k.seq)+i)%26))
	}
	return b
}

// parseNolossValue recovers the key from a value and checks the filler.
func parseNolossValue(v []byte) (recKey, error) {
	var k recKey
	s := string(v)
	if !strings.HasPrefix(s, nolossValuePrefix) {
		return k, fmt.Errorf("not a noloss value: %.40q", s)
	}
	if _, err := fmt.Sscanf(s[len(nolossValuePrefix):], "P%d p%d s%d |", &k.producer, &k.partition, &k.seq); err != nil {
		return k, fmt.Errorf("value %.40q: %v", s, err)
	}
	if want := nolossValue(k, len(v)); string(want) != s {
		return k, fmt.Errorf("value %.60q is not the one %v sent", s, k)
	}
	return k, nil
}

// --- producers and their ledger ---

// ledger holds the outcome of every send: acknowledged (with its offset)
// or unknown (the send failed: the record may or may not be in the log).
type ledger struct {
	parts   int
	perPart []atomic.Int64 // acknowledgements per partition, for progress waits

	mu      sync.Mutex
	acked   map[recKey]int64
	unknown map[recKey]string
	errs    map[string]int // failure reasons, counted
}

func newLedger(parts int) *ledger {
	return &ledger{parts: parts, perPart: make([]atomic.Int64, parts),
		acked: map[recKey]int64{}, unknown: map[recKey]string{}, errs: map[string]int{}}
}

func (l *ledger) ack(k recKey, offset int64) {
	l.mu.Lock()
	l.acked[k] = offset
	l.mu.Unlock()
	l.perPart[k.partition].Add(1)
}

// reAddr matches the addresses in network errors, so that failures
// differing only by port are counted together.
var reAddr = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

func (l *ledger) fail(k recKey, err error) {
	why := "unknown error"
	if err != nil {
		why = reAddr.ReplaceAllString(err.Error(), "ADDR")
	}
	l.mu.Lock()
	l.unknown[k] = why
	l.errs[why]++
	l.mu.Unlock()
}

// ackCounts is a snapshot of the acknowledgements per partition.
func (l *ledger) ackCounts() []int64 {
	out := make([]int64, l.parts)
	for i := range out {
		out[i] = l.perPart[i].Load()
	}
	return out
}

// waitAcks waits until every partition has at least n more
// acknowledgements than in from, or d passes.
func (l *ledger) waitAcks(ctx context.Context, from []int64, n int64, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		now := l.ackCounts()
		var behind []string
		for p := range now {
			if now[p]-from[p] < n {
				behind = append(behind, fmt.Sprintf("p%d:+%d", p, now[p]-from[p]))
			}
		}
		if len(behind) == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("fewer than %d new acknowledged records within %v on %s", n, d, strings.Join(behind, " "))
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

func (l *ledger) errorSummary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range l.errs {
		all = append(all, kv{k, n})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n || (all[i].n == all[j].n && all[i].k < all[j].k) })
	var parts []string
	for _, e := range all {
		parts = append(parts, fmt.Sprintf("%d× %s", e.n, e.k))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// nolossProducerConfig is the sarama configuration of the producers.
//
// Without idempotence (-noloss.idempotent=false) retries are off:
// a record the broker acknowledged was then written exactly once, and a
// failed send is "unknown" (in the log at most once). With idempotence
// (-noloss.idempotent, the default) sarama retries and the broker
// deduplicates by sequence; the checks stay the same and unknown outcomes
// become rare.
func nolossProducerConfig(idempotent bool) *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_9_0_0
	cfg.ClientID = "kbroker-noloss-producer"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Producer.Return.Errors = true
	cfg.Producer.Partitioner = sarama.NewManualPartitioner
	cfg.Producer.Compression = sarama.CompressionNone
	cfg.Producer.Timeout = 10 * time.Second // the broker's wait for the ISR
	cfg.Producer.Retry.Backoff = 100 * time.Millisecond
	if idempotent {
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
		cfg.Producer.Retry.Max = 1000
	} else {
		cfg.Producer.Retry.Max = 0
	}
	cfg.Metadata.Retry.Max = 100
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = 20 * time.Second
	cfg.Net.WriteTimeout = 20 * time.Second
	return cfg
}

// nolossProducer is one sarama async producer sending sequenced records to
// every partition, round robin, at a bounded rate with a bounded number of
// records in flight.
type nolossProducer struct {
	id      int
	prod    sarama.AsyncProducer
	led     *ledger
	sent    atomic.Int64
	results sync.WaitGroup
	closing sync.Once
}

func startNolossProducer(ctx context.Context, wg *sync.WaitGroup, id int, seeds []string, topic string, parts, valueSize int,
	rate float64, idempotent bool, led *ledger) (*nolossProducer, error) {
	prod, err := sarama.NewAsyncProducer(seeds, nolossProducerConfig(idempotent))
	if err != nil {
		return nil, err
	}
	p := &nolossProducer{id: id, prod: prod, led: led}
	window := make(chan struct{}, 256) // records in flight
	p.results.Add(2)
	go func() {
		defer p.results.Done()
		for m := range prod.Successes() {
			led.ack(m.Metadata.(recKey), m.Offset)
			<-window
		}
	}()
	go func() {
		defer p.results.Done()
		for e := range prod.Errors() {
			led.fail(e.Msg.Metadata.(recKey), e.Err)
			<-window
		}
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		seq := make([]int64, parts)
		tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer tick.Stop()
		for n := 0; ; n++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C: // rate limit
			}
			select {
			case <-ctx.Done():
				return
			case window <- struct{}{}:
			}
			part := int32(n % parts)
			k := recKey{producer: id, partition: part, seq: seq[part]}
			seq[part]++
			prod.Input() <- &sarama.ProducerMessage{Topic: topic, Partition: part, Value: sarama.ByteEncoder(nolossValue(k, valueSize)), Metadata: k}
			p.sent.Add(1)
		}
	}()
	return p, nil
}

// close flushes what is in flight, waits for every outcome and closes the
// producer. The sending goroutine must have stopped.
func (p *nolossProducer) close() {
	p.closing.Do(p.prod.AsyncClose)
	p.results.Wait()
}

// --- consumers ---

// pos is a record's place in the topic.
type pos struct {
	partition int32
	offset    int64
}

// observer remembers every (partition, offset) → value any consumer saw,
// and every time two sightings disagreed.
type observer struct {
	mu          sync.Mutex
	seen        map[pos][]byte
	deliveries  int64
	conflicts   []string
	outOfRange  int64
	fetchErrors map[string]int
	next        map[[2]int32]int64 // (consumer, partition) → next offset
}

func newObserver() *observer {
	return &observer{seen: map[pos][]byte{}, fetchErrors: map[string]int{}, next: map[[2]int32]int64{}}
}

func (o *observer) saw(consumer int, m *sarama.ConsumerMessage) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.deliveries++
	at := pos{m.Partition, m.Offset}
	if old, ok := o.seen[at]; ok && string(old) != string(m.Value) {
		o.conflicts = append(o.conflicts, fmt.Sprintf("p%d@%d: consumer %d read %.40q, earlier %.40q was read there",
			m.Partition, m.Offset, consumer, m.Value, old))
	} else if !ok {
		o.seen[at] = slices.Clone(m.Value)
	}
	o.next[[2]int32{int32(consumer), m.Partition}] = m.Offset + 1
}

func (o *observer) fetchError(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if errors.Is(err, sarama.ErrOffsetOutOfRange) {
		o.outOfRange++
	}
	o.fetchErrors[err.Error()]++
}

// position is where consumer reads partition next.
func (o *observer) position(consumer int, p int32) int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.next[[2]int32{int32(consumer), p}]
}

func nolossConsumerConfig() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_9_0_0
	cfg.ClientID = "kbroker-noloss-consumer"
	cfg.Consumer.Return.Errors = true
	cfg.Consumer.IsolationLevel = sarama.ReadUncommitted
	cfg.Consumer.MaxWaitTime = 250 * time.Millisecond
	cfg.Consumer.Retry.Backoff = 100 * time.Millisecond
	cfg.Metadata.Retry.Max = 100
	cfg.Metadata.Retry.Backoff = 100 * time.Millisecond
	cfg.Net.DialTimeout = 5 * time.Second
	cfg.Net.ReadTimeout = 20 * time.Second
	return cfg
}

// startNolossConsumer reads every partition from offset 0 until ctx ends,
// reporting each record to obs. A partition consumer that stops (sarama
// gives up on OFFSET_OUT_OF_RANGE) is started again at the next offset
// not yet read, as soon as the broker accepts it.
func startNolossConsumer(ctx context.Context, wg *sync.WaitGroup, id int, seeds []string, topic string, parts int, obs *observer) (sarama.Consumer, error) {
	cons, err := sarama.NewConsumer(seeds, nolossConsumerConfig())
	if err != nil {
		return nil, err
	}
	for p := range int32(parts) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				next := obs.position(id, p)
				pc, err := cons.ConsumePartition(topic, p, next)
				if err != nil {
					obs.fetchError(err)
					select { // poll interval before asking again
					case <-ctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
					continue
				}
				consumePartition(ctx, id, pc, obs)
				pc.Close()
			}
		}()
	}
	return cons, nil
}

func consumePartition(ctx context.Context, id int, pc sarama.PartitionConsumer, obs *observer) {
	msgs, errs := pc.Messages(), pc.Errors()
	for msgs != nil {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				msgs = nil
				continue
			}
			obs.saw(id, m)
		case e, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			obs.fetchError(e.Err)
		}
	}
}

// --- partition states in ZooKeeper ---

func partitionStates(c *testcluster.Cluster, topic string, parts int) (map[int32]zkPartitionStateJSON, error) {
	out := map[int32]zkPartitionStateJSON{}
	for p := range int32(parts) {
		var st zkPartitionStateJSON
		if _, err := c.ZK().GetJSON(fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, p), &st); err != nil {
			return nil, err
		}
		out[p] = st
	}
	return out, nil
}

// waitStates polls the partition states until ok holds for every
// partition, or d passes; the error describes the partitions that did not
// get there.
func waitStates(ctx context.Context, c *testcluster.Cluster, topic string, parts int, d time.Duration, what string, ok func(zkPartitionStateJSON) bool) error {
	deadline := time.Now().Add(d)
	for {
		sts, err := partitionStates(c, topic, parts)
		var bad []string
		if err == nil {
			for p := range int32(parts) {
				if st := sts[p]; !ok(st) {
					bad = append(bad, fmt.Sprintf("p%d leader %d epoch %d isr %v", p, st.Leader, st.LeaderEpoch, st.ISR))
				}
			}
			if len(bad) == 0 {
				return nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err != nil {
				return fmt.Errorf("%s: not within %v: %v", what, d, err)
			}
			return fmt.Errorf("%s: not within %v: %s", what, d, strings.Join(bad, "; "))
		}
		time.Sleep(pollEvery)
	}
}

func fullISR(n int) func(zkPartitionStateJSON) bool {
	return func(st zkPartitionStateJSON) bool { return st.Leader >= 0 && len(st.ISR) == n }
}

// --- the final read ---

// logRecord is one record of the final read.
type logRecord struct {
	offset int64
	value  []byte
}

// readAll reads partition p from its log start to end with a fresh
// consumer.
func readAll(seeds []string, topic string, p int32, end int64, d time.Duration) ([]logRecord, int64, error) {
	cl, err := sarama.NewClient(seeds, nolossConsumerConfig())
	if err != nil {
		return nil, 0, err
	}
	defer cl.Close()
	start, err := cl.GetOffset(topic, p, sarama.OffsetOldest)
	if err != nil {
		return nil, 0, err
	}
	if start >= end {
		return nil, start, nil
	}
	cons, err := sarama.NewConsumerFromClient(cl)
	if err != nil {
		return nil, start, err
	}
	defer cons.Close()
	pc, err := cons.ConsumePartition(topic, p, start)
	if err != nil {
		return nil, start, err
	}
	defer pc.Close()
	var out []logRecord
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-pc.Messages():
			if !ok {
				return out, start, fmt.Errorf("partition consumer closed at %d records", len(out))
			}
			if m.Offset >= end {
				return out, start, nil
			}
			out = append(out, logRecord{m.Offset, slices.Clone(m.Value)})
			if m.Offset == end-1 {
				return out, start, nil
			}
		case e := <-pc.Errors():
			return out, start, fmt.Errorf("after %d records: %w", len(out), e.Err)
		case <-timeout:
			return out, start, fmt.Errorf("only %d records within %v", len(out), d)
		}
	}
}

// endOffsets asks each partition's leader for its high watermark.
func endOffsets(seeds []string, topic string, parts int) (map[int32]int64, error) {
	cl, err := sarama.NewClient(seeds, nolossConsumerConfig())
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	out := map[int32]int64{}
	for p := range int32(parts) {
		o, err := cl.GetOffset(topic, p, sarama.OffsetNewest)
		if err != nil {
			return nil, fmt.Errorf("partition %d: %w", p, err)
		}
		out[p] = o
	}
	return out, nil
}

// --- verification ---

// violations collects what the final check found, by rule, keeping the
// first few lines of each and a count.
type violations struct {
	byRule map[string][]string
	counts map[string]int
}

const violationsShown = 20

func (v *violations) add(rule, format string, args ...any) {
	if v.byRule == nil {
		v.byRule, v.counts = map[string][]string{}, map[string]int{}
	}
	v.counts[rule]++
	if len(v.byRule[rule]) < violationsShown {
		v.byRule[rule] = append(v.byRule[rule], fmt.Sprintf(format, args...))
	}
}

func (v *violations) report(t testing.TB) {
	t.Helper()
	rules := make([]string, 0, len(v.byRule))
	for r := range v.byRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	for _, r := range rules {
		t.Errorf("%s: %d violation(s), first ones:\n  %s", r, v.counts[r], strings.Join(v.byRule[r], "\n  "))
	}
}

// verifyNoLoss checks the final content of every partition (records in
// offset order, starting at start[p]) against the producers' ledger and
// what consumers saw.
func verifyNoLoss(final map[int32][]logRecord, start map[int32]int64, led *ledger, obs *observer) (v violations, inLog map[recKey]int) {
	at := map[pos]recKey{}
	where := map[recKey][]int64{}
	inLog = map[recKey]int{}
	for p, rs := range final {
		next := start[p]
		for _, r := range rs {
			// Offsets are dense: no compaction, no transactions.
			if r.offset != next {
				v.add("(e) dense offsets", "p%d: offset %d follows %d", p, r.offset, next-1)
			}
			next = r.offset + 1
			k, err := parseNolossValue(r.value)
			if err != nil {
				v.add("(e) only records the producers sent", "p%d@%d: %v", p, r.offset, err)
				continue
			}
			if k.partition != p {
				v.add("(e) only records the producers sent", "p%d@%d holds %v, sent to partition %d", p, r.offset, k, k.partition)
			}
			at[pos{p, r.offset}] = k
			where[k] = append(where[k], r.offset)
			inLog[k]++
		}
		if start[p] != 0 {
			v.add("(e) dense offsets", "p%d: log starts at %d, not 0 (nothing was deleted)", p, start[p])
		}
	}
	led.mu.Lock()
	defer led.mu.Unlock()
	for k := range inLog {
		_, a := led.acked[k]
		_, u := led.unknown[k]
		if !a && !u {
			v.add("(e) only records the producers sent", "%v at %v was never sent", k, where[k])
		}
	}

	// (a) every acknowledged record exactly once, at its acknowledged offset.
	for k, off := range led.acked {
		switch offs := where[k]; {
		case len(offs) == 0:
			v.add("(a) acknowledged records present exactly once", "%v acknowledged at p%d@%d is missing (offset now holds %v)", k, k.partition, off, describeAt(at, pos{k.partition, off}))
		case len(offs) > 1:
			v.add("(a) acknowledged records present exactly once", "%v acknowledged at p%d@%d is in the log %d times: offsets %v", k, k.partition, off, len(offs), offs)
		case offs[0] != off:
			v.add("(a) acknowledged records present exactly once", "%v acknowledged at p%d@%d is at offset %d", k, k.partition, off, offs[0])
		}
	}

	// (b) per producer and partition, acknowledged records in sequence order.
	type stream struct {
		producer  int
		partition int32
	}
	seqs := map[stream][]recKey{}
	for k := range led.acked {
		s := stream{k.producer, k.partition}
		seqs[s] = append(seqs[s], k)
	}
	for s, ks := range seqs {
		sort.Slice(ks, func(i, j int) bool { return ks[i].seq < ks[j].seq })
		last, lastKey := int64(-1), recKey{}
		for _, k := range ks {
			offs := where[k]
			if len(offs) == 0 {
				continue // reported by (a)
			}
			if offs[0] <= last {
				v.add("(b) acknowledged records in sequence order", "producer %d partition %d: %v at offset %d, after %v at %d", s.producer, s.partition, k, offs[0], lastKey, last)
			}
			last, lastKey = offs[0], k
		}
	}

	// (c) everything a consumer saw is still there, unchanged.
	obs.mu.Lock()
	defer obs.mu.Unlock()
	for _, c := range obs.conflicts {
		v.add("(c) no consumer saw a record that later vanished", "%s", c)
	}
	for p, val := range obs.seen {
		k, err := parseNolossValue(val)
		got, ok := at[p]
		switch {
		case err != nil:
			v.add("(c) no consumer saw a record that later vanished", "p%d@%d: a consumer read %v", p.partition, p.offset, err)
		case !ok:
			v.add("(c) no consumer saw a record that later vanished", "p%d@%d: a consumer read %v (acked: %v); the offset is gone from the log", p.partition, p.offset, k, isAcked(led, k))
		case got != k:
			v.add("(c) no consumer saw a record that later vanished", "p%d@%d: a consumer read %v (acked: %v); the log now holds %v there", p.partition, p.offset, k, isAcked(led, k), got)
		}
	}

	// (d) unknown outcomes at most once.
	for k := range led.unknown {
		if offs := where[k]; len(offs) > 1 {
			v.add("(d) unknown-outcome records at most once", "%v (send failed: %s) is in the log %d times: offsets %v", k, led.unknown[k], len(offs), offs)
		}
	}
	return v, inLog
}

func isAcked(led *ledger, k recKey) string {
	if off, ok := led.acked[k]; ok {
		return fmt.Sprintf("yes, at %d", off)
	}
	if why, ok := led.unknown[k]; ok {
		return "no, send failed: " + why
	}
	return "never sent"
}

func describeAt(at map[pos]recKey, p pos) string {
	if k, ok := at[p]; ok {
		return k.String()
	}
	return "nothing"
}

// --- replicas ---

// replicaDiff compares what one replica's files hold below end with the
// final read; "" when identical.
func replicaDiff(dir string, want []logRecord, end int64) (string, error) {
	got, err := readPartitionDir(dir)
	if err != nil {
		return "", err
	}
	byOff := map[int64][]byte{}
	var leo int64
	for _, r := range got {
		byOff[r.Offset] = r.Value
		leo = max(leo, r.Offset+1)
	}
	if leo != end {
		return fmt.Sprintf("log end %d, leader's high watermark %d", leo, end), nil
	}
	for _, w := range want {
		g, ok := byOff[w.offset]
		if !ok {
			return fmt.Sprintf("no record at offset %d", w.offset), nil
		}
		if string(g) != string(w.value) {
			return fmt.Sprintf("offset %d holds %.40q, the leader %.40q", w.offset, g, w.value), nil
		}
	}
	return "", nil
}

// --- environment ---

// brokersUseRace reports whether testcluster builds the brokers with the
// race detector (KBROKER_TEST_RACE, else as the test binary was built).
func brokersUseRace() bool {
	if v, err := strconv.ParseBool(os.Getenv("KBROKER_TEST_RACE")); err == nil {
		return v
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" {
				return s.Value == "true"
			}
		}
	}
	return false
}

// keepEvidence copies the brokers' logs and the topic's partition
// directories out of the test's temporary directories (removed when the
// test ends) and returns where.
func keepEvidence(c *testcluster.Cluster, topic string, seed int64) (string, error) {
	dest, err := os.MkdirTemp("", fmt.Sprintf("kbroker-noloss-seed%d-", seed))
	if err != nil {
		return "", err
	}
	for _, b := range c.Brokers() {
		bdir := filepath.Join(dest, b.Name())
		if err := copyFile(b.LogPath(), filepath.Join(bdir, "broker.log")); err != nil {
			return dest, err
		}
		dirs, _ := filepath.Glob(filepath.Join(b.LogDir(), topic+"-*"))
		for _, d := range dirs {
			files, _ := os.ReadDir(d)
			for _, f := range files {
				if f.Type().IsRegular() {
					if err := copyFile(filepath.Join(d, f.Name()), filepath.Join(bdir, filepath.Base(d), f.Name())); err != nil {
						return dest, err
					}
				}
			}
		}
	}
	return dest, nil
}

func copyFile(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
