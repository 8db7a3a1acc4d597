package itest

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// Flags of TestNoLoss, for longer runs than CI's, e.g.
//
//	go test ./internal/itest -run NoLoss -v -noloss.kills 50
//	go test ./internal/itest -run NoLoss -v -timeout 2h -noloss.duration 1h -noloss.seed 42
var (
	nolossSeed       = flag.Int64("noloss.seed", 0, "TestNoLoss: random seed (0: from the clock; the seed used is logged)")
	nolossKills      = flag.Int("noloss.kills", 3, "TestNoLoss: kill -9/restart cycles")
	nolossDuration   = flag.Duration("noloss.duration", 0, "TestNoLoss: run kill cycles for this long instead of -noloss.kills")
	nolossRate       = flag.Float64("noloss.rate", 1000, "TestNoLoss: records per second, all producers together")
	nolossIdempotent = flag.Bool("noloss.idempotent", true, "TestNoLoss: idempotent producers with retries (false: no retries, failed sends have an unknown outcome)")
)

const (
	nolossTopic      = "noloss"
	nolossPartitions = 6
	nolossBrokers    = 3
	nolossProducers  = 2
	nolossConsumers  = 2
	nolossValueSize  = 120
	// Chance that a kill picks the leader of a random partition rather
	// than a random broker.
	nolossLeaderKill = 0.7
)

// TestNoLoss checks that replication loses nothing acknowledged while
// brokers die: three broker processes, a topic with replication factor 3
// and min.insync.replicas=2, idempotent producers (sarama, retrying;
// -noloss.idempotent=false for plain ones without retries) writing
// sequenced records with acks=all to every partition, consumers reading every partition up to
// the high watermark, and a loop that kill -9s a broker (the leader of
// some partition most of the time), waits until the controller has moved
// leadership and the ISRs off it and the producers got records through
// without it, restarts it, and waits until it is back in every ISR before
// the next kill. One broker is down at a time.
//
// At the end, with every broker up and in every ISR, each partition is read
// from its start to its high watermark and:
//
//	(a) every acknowledged record is there exactly once, at the offset
//	    it was acknowledged with;
//	(b) per producer and partition, acknowledged records are in sequence
//	    order;
//	(c) every record a consumer saw during the run is still at the same
//	    offset with the same value (no consumer saw a record that later
//	    vanished);
//	(d) records whose send failed (outcome unknown) are there at most once;
//	(e) offsets are dense from 0 and every record is one a producer sent;
//
// and every replica's files hold the same records as the leader.
//
// The run is seeded (-noloss.seed; the seed is logged first): the seed
// picks the victims and how many records go through before each kill and
// while a broker is down. Timing still varies from run to run.
func TestNoLoss(t *testing.T) {
	seed := *nolossSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -noloss.seed %d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	started := time.Now()

	sessionMs := 3000
	if brokersUseRace() {
		sessionMs = testcluster.DefaultSessionTimeoutMs
	}
	session := time.Duration(sessionMs) * time.Millisecond
	c := newCluster(t, nolossBrokers, map[string]string{
		"zookeeper.session.timeout.ms":   strconv.Itoa(sessionMs),
		"unclean.leader.election.enable": "false",
	})
	t.Cleanup(func() {
		if t.Failed() {
			dir, err := keepEvidence(c, nolossTopic, seed)
			t.Logf("broker logs and %s partition directories copied to %s (%v)", nolossTopic, dir, err)
		}
	})
	adm := newAdmin(t, c)
	minISR := "2"
	createTopic(t, c, adm, nolossTopic, nolossPartitions, nolossBrokers, map[string]*string{"min.insync.replicas": &minISR})
	seeds := c.BootstrapAddrs()
	ctx := testCtx(t, 24*time.Hour)
	if err := waitStates(ctx, c, nolossTopic, nolossPartitions, waitLong, "full ISRs after creation", fullISR(nolossBrokers)); err != nil {
		t.Fatal(err)
	}

	// Producers and consumers run until stopped below (or at cleanup when
	// the test stops early).
	led := newLedger(nolossPartitions)
	obs := newObserver()
	prodCtx, stopProducers := context.WithCancel(ctx)
	consCtx, stopConsumers := context.WithCancel(ctx)
	var prodWG, consWG sync.WaitGroup
	var producers []*nolossProducer
	var consumers []sarama.Consumer
	stopped := false
	stopAll := func() {
		if stopped {
			return
		}
		stopped = true
		stopProducers()
		prodWG.Wait()
		for _, p := range producers {
			p.close()
		}
		stopConsumers()
		consWG.Wait()
		for _, cons := range consumers {
			cons.Close()
		}
	}
	t.Cleanup(stopAll)
	for i := range nolossProducers {
		p, err := startNolossProducer(prodCtx, &prodWG, i, seeds, nolossTopic, nolossPartitions, nolossValueSize,
			*nolossRate/nolossProducers, *nolossIdempotent, led)
		if err != nil {
			t.Fatalf("producer %d: %v", i, err)
		}
		producers = append(producers, p)
	}
	for i := range nolossConsumers {
		cons, err := startNolossConsumer(consCtx, &consWG, i, seeds, nolossTopic, nolossPartitions, obs)
		if err != nil {
			t.Fatalf("consumer %d: %v", i, err)
		}
		consumers = append(consumers, cons)
	}

	// The kill loop. A failure here (a wait that timed out) is reported
	// and ends the loop; the final checks still run.
	kills := 0
	for cycle := 0; ; cycle++ {
		if *nolossDuration > 0 {
			if time.Since(started) >= *nolossDuration {
				break
			}
		} else if cycle >= *nolossKills {
			break
		}
		if err := nolossCycle(t, ctx, c, rng, led, session, cycle); err != nil {
			t.Errorf("cycle %d: %v", cycle, err)
			break
		}
		kills++
	}

	// Everyone up and in every ISR, and records still going through.
	for _, b := range c.Brokers() {
		if !b.Running() {
			t.Logf("restarting %s, still down after the loop", b.Name())
			b.Restart()
		}
	}
	if err := waitStates(ctx, c, nolossTopic, nolossPartitions, waitLong, "full ISRs after the loop", fullISR(nolossBrokers)); err != nil {
		t.Errorf("%v", err)
	}
	if err := led.waitAcks(ctx, led.ackCounts(), 10, waitLong); err != nil {
		t.Errorf("with every broker up: %v", err)
	}
	stopProducers()
	prodWG.Wait()
	for _, p := range producers {
		p.close()
	}

	// The logs settle: every replica holds what the leader holds, and the
	// high watermark reached the end of the leader's log.
	var ends map[int32]int64
	settleErr := func() error {
		var err error
		ends, err = endOffsets(seeds, nolossTopic, nolossPartitions)
		if err != nil {
			return err
		}
		for p, assigned := range zkAssignment(t, c, nolossTopic) {
			for _, id := range assigned {
				dir := filepath.Join(c.BrokerByID(id).LogDir(), fmt.Sprintf("%s-%d", nolossTopic, p))
				got, err := readPartitionDir(dir)
				if err != nil {
					return err
				}
				leo := int64(0)
				if len(got) > 0 {
					leo = got[len(got)-1].Offset + 1
				}
				if leo != ends[p] {
					return fmt.Errorf("p%d: broker %d's log ends at %d, the high watermark is %d", p, id, leo, ends[p])
				}
			}
		}
		return nil
	}
	deadline := time.Now().Add(waitLong)
	for {
		err := settleErr()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("logs did not settle within %v: %v", waitLong, err)
			break
		}
		time.Sleep(pollEvery)
	}
	if ends == nil {
		t.Fatal("no end offsets")
	}

	// Consumers catch up to the end, then stop.
	if err := waitConsumers(ctx, obs, ends, waitLong); err != nil {
		t.Errorf("%v", err)
	}
	stopAll()

	// The final read and the checks.
	final := map[int32][]logRecord{}
	starts := map[int32]int64{}
	total := int64(0)
	for p := range int32(nolossPartitions) {
		rs, start, err := readAll(seeds, nolossTopic, p, ends[p], waitLong)
		if err != nil {
			t.Errorf("final read of partition %d (to %d): %v", p, ends[p], err)
		}
		final[p], starts[p] = rs, start
		total += int64(len(rs))
	}
	v, inLog := verifyNoLoss(final, starts, led, obs)
	v.report(t)

	// Every replica's files hold the same records below the high watermark.
	for p, assigned := range zkAssignment(t, c, nolossTopic) {
		for _, id := range assigned {
			dir := filepath.Join(c.BrokerByID(id).LogDir(), fmt.Sprintf("%s-%d", nolossTopic, p))
			diff, err := replicaDiff(dir, final[p], ends[p])
			if err != nil {
				t.Errorf("broker %d's copy of p%d: %v", id, p, err)
			} else if diff != "" {
				t.Errorf("broker %d's copy of p%d differs from the leader's: %s", id, p, diff)
			}
		}
	}

	led.mu.Lock()
	acked, unknown := len(led.acked), len(led.unknown)
	unknownIn := 0
	for k := range led.unknown {
		if inLog[k] > 0 {
			unknownIn++
		}
	}
	led.mu.Unlock()
	sent := int64(0)
	for _, p := range producers {
		sent += p.sent.Load()
	}
	if int64(acked+unknown) != sent {
		t.Errorf("%d records sent, %d outcomes (%d acknowledged, %d failed)", sent, acked+unknown, acked, unknown)
	}
	obs.mu.Lock()
	t.Logf("summary: seed %d, %d kill cycles in %v; %d records sent, %d acknowledged, %d unknown (%d of them in the log); "+
		"%d records in the log; consumers saw %d offsets (%d deliveries, %d out-of-range answers)",
		seed, kills, time.Since(started).Round(time.Second), sent, acked, unknown, unknownIn,
		total, len(obs.seen), obs.deliveries, obs.outOfRange)
	t.Logf("send failures: %s", led.errorSummary())
	obs.mu.Unlock()
}

// nolossCycle is one kill: let records through, kill -9 a broker, wait
// until the controller has taken it out of every ISR, let records through
// without it, restart it, wait until it is back in every ISR.
func nolossCycle(t *testing.T, ctx context.Context, c *testcluster.Cluster, rng *rand.Rand, led *ledger, session time.Duration, cycle int) error {
	if err := led.waitAcks(ctx, led.ackCounts(), int64(5+rng.Intn(150)), waitLong); err != nil {
		return fmt.Errorf("before the kill, every broker up: %v", err)
	}
	sts, err := partitionStates(c, nolossTopic, nolossPartitions)
	if err != nil {
		return err
	}
	var victim int32
	var why string
	if rng.Float64() < nolossLeaderKill {
		p := int32(rng.Intn(nolossPartitions))
		victim, why = sts[p].Leader, fmt.Sprintf("leader of p%d", p)
	} else {
		victim, why = c.Broker(rng.Intn(c.N())).ID(), "random broker"
	}
	b := c.BrokerByID(victim)
	if b == nil {
		return fmt.Errorf("no broker %d to kill (%s; states %v)", victim, why, sts)
	}
	var leads []int32
	for p := range int32(nolossPartitions) {
		if sts[p].Leader == victim {
			leads = append(leads, p)
		}
	}
	slices.Sort(leads)
	ctl, _, _ := c.Controller()
	t.Logf("cycle %d: kill -9 broker %d (%s; leads %v; controller %d)", cycle, victim, why, leads, ctl)
	killed := time.Now()
	b.Kill9()

	if err := waitStates(ctx, c, nolossTopic, nolossPartitions, session+waitLong, fmt.Sprintf("broker %d out of leaders and ISRs", victim),
		func(st zkPartitionStateJSON) bool {
			return st.Leader >= 0 && st.Leader != victim && !slices.Contains(st.ISR, victim)
		}); err != nil {
		return err
	}
	moved := time.Since(killed)
	if err := led.waitAcks(ctx, led.ackCounts(), int64(5+rng.Intn(150)), waitLong); err != nil {
		return fmt.Errorf("with broker %d down: %v", victim, err)
	}
	down := time.Since(killed)
	b.Restart()
	restarted := time.Now()
	if err := waitStates(ctx, c, nolossTopic, nolossPartitions, waitLong, fmt.Sprintf("broker %d back in every ISR", victim),
		func(st zkPartitionStateJSON) bool {
			return st.Leader >= 0 && slices.Contains(st.ISR, victim) && len(st.ISR) == nolossBrokers
		}); err != nil {
		return err
	}
	t.Logf("cycle %d: broker %d out of the ISRs after %v, down %v, back in every ISR %v after its restart",
		cycle, victim, moved.Round(time.Millisecond), down.Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond))
	return nil
}

// waitConsumers waits until every consumer has read every partition up to
// its end offset.
func waitConsumers(ctx context.Context, obs *observer, ends map[int32]int64, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		var behind []string
		for i := range nolossConsumers {
			for p, end := range ends {
				if at := obs.position(i, p); at < end {
					behind = append(behind, fmt.Sprintf("consumer %d p%d at %d of %d", i, p, at, end))
				}
			}
		}
		if len(behind) == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			slices.Sort(behind)
			return fmt.Errorf("consumers did not reach the end within %v: %v", d, behind)
		}
		time.Sleep(pollEvery)
	}
}

// TestNoLossChecker feeds verifyNoLoss logs with one fault of each kind
// and checks that each rule, and only that rule, reports it.
func TestNoLossChecker(t *testing.T) {
	k := func(prod int, part int32, seq int64) recKey { return recKey{prod, part, seq} }
	rec := func(off int64, key recKey) logRecord { return logRecord{off, nolossValue(key, 40)} }
	msg := func(part int32, off int64, key recKey) *sarama.ConsumerMessage {
		return &sarama.ConsumerMessage{Partition: part, Offset: off, Value: nolossValue(key, 40)}
	}
	// A healthy partition 0: producer 0 seq 0..2 acknowledged at 0..2, an
	// unknown record (seq 3) written once at 3.
	good := func() (map[int32][]logRecord, *ledger, *observer) {
		led := newLedger(1)
		for s := range int64(3) {
			led.ack(k(0, 0, s), s)
		}
		led.fail(k(0, 0, 3), fmt.Errorf("EOF"))
		obs := newObserver()
		obs.saw(0, msg(0, 1, k(0, 0, 1)))
		final := map[int32][]logRecord{0: {rec(0, k(0, 0, 0)), rec(1, k(0, 0, 1)), rec(2, k(0, 0, 2)), rec(3, k(0, 0, 3))}}
		return final, led, obs
	}
	check := func(name string, final map[int32][]logRecord, led *ledger, obs *observer, want string) {
		t.Helper()
		v, _ := verifyNoLoss(final, map[int32]int64{0: 0}, led, obs)
		var rules []string
		for r := range v.counts {
			rules = append(rules, r[:3])
		}
		slices.Sort(rules)
		if got := fmt.Sprint(slices.Compact(rules)); got != want {
			t.Errorf("%s: rules %s broken, want %s (%v)", name, got, want, v.byRule)
		}
	}

	final, led, obs := good()
	check("healthy", final, led, obs, "[]")

	final, led, obs = good()
	final[0] = append(final[0][:1], rec(1, k(0, 0, 2)), rec(2, k(0, 0, 3))) // acked seq 1 lost
	check("lost", final, led, obs, "[(a) (c)]")

	final, led, obs = good()
	final[0] = append(final[0], rec(4, k(0, 0, 2))) // acked seq 2 twice
	check("duplicate", final, led, obs, "[(a)]")

	final, led, obs = good()
	led.ack(k(0, 0, 4), 5)
	led.ack(k(0, 0, 5), 4)
	final[0] = append(final[0], rec(4, k(0, 0, 5)), rec(5, k(0, 0, 4))) // acknowledged as written, out of sequence
	check("order", final, led, obs, "[(b)]")

	final, led, obs = good()
	obs.saw(1, msg(0, 4, k(0, 0, 9))) // seen at 4, gone
	check("vanished", final, led, obs, "[(c)]")

	final, led, obs = good()
	obs.saw(1, msg(0, 1, k(0, 0, 2))) // two consumers disagree about offset 1
	check("conflict", final, led, obs, "[(c)]")

	final, led, obs = good()
	final[0] = append(final[0], rec(4, k(0, 0, 3))) // unknown twice
	check("unknown twice", final, led, obs, "[(d)]")

	final, led, obs = good()
	final[0] = append(final[0], rec(5, k(1, 0, 0))) // a gap, and a record nobody sent
	check("gap and stranger", final, led, obs, "[(e)]")
}
