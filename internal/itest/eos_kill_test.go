package itest

import (
	"context"
	"flag"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// Flags of TestEOSKill, for longer runs than CI's, e.g.
//
//	go test ./internal/itest -run EOSKill -v -eos.kills 20
//	go test ./internal/itest -run EOSKill -v -eos.seed 42 -eos.workers 1
var (
	eosSeed    = flag.Int64("eos.seed", 0, "TestEOSKill: random seed (0: from the clock; the seed used is logged)")
	eosKills   = flag.Int("eos.kills", 3, "TestEOSKill: kill -9/restart cycles")
	eosRecords = flag.Int("eos.records", 0, "TestEOSKill: input records (0: 2000 + 1500 per kill cycle)")
	eosWorkerN = flag.Int("eos.workers", 2, "TestEOSKill: consume-transform-produce workers in the group")
	eosAbandon = flag.Float64("eos.abandon", 0.5, "TestEOSKill: chance that a kill also makes the worker found in a transaction abandon it (after the third cycle; the second always does)")
	eosKeep    = flag.Bool("eos.keep", false, "TestEOSKill: keep the broker and client logs and the partition directories even when the test passes")
)

const (
	eosBrokers    = 3
	eosIn         = "eos-in"
	eosOut        = "eos-out"
	eosPartitions = 6
	eosGroup      = "eos-group"
	// Partitions of __consumer_offsets and __transaction_state.
	eosInternalPartitions = 3
)

// TestEOSKill checks exactly-once consume-transform-produce while brokers
// die: three broker processes; an input and an output topic with
// replication factor 3 and min.insync.replicas=2, __consumer_offsets and
// __transaction_state with replication factor 3 (the latter with
// transaction.state.log.min.isr=2). The input is filled with numbered
// records (acks=all) before the workers start: franz-go
// GroupTransactSessions in one group, reading read_committed, that copy
// each input record to the output topic with its input position and commit
// the consumed offsets in the same transaction (End with TryCommit), one
// transaction per poll; a worker whose End fails starts a new session with
// the same transactional id.
//
// Meanwhile a loop kill -9s a broker — in turn the transaction coordinator
// of a worker's transactional id, the group coordinator, the leader of an
// output or input partition, then at random — at a moment a worker is
// inside a transaction, waits until the controller has taken it out of
// every leadership and ISR of the four topics and transactions committed
// without it, restarts it and waits until it is back in every ISR. Some
// kills (-eos.abandon) also make that worker abandon its transaction as
// if it crashed: its records are in the output topic's log, and
// aborted by the next session's InitProducerId, so that the output holds
// aborted records that read_committed must skip.
//
// Then, every broker up, the workers run to the end of the input (the
// group's committed offsets reach the input's end), stop, and a
// read_committed consumer reads the whole output topic: every input record
// must be there exactly once, each naming the position it was read at.
//
// The run is seeded (-eos.seed; the seed is logged first): the seed picks
// the victims, the progress before each kill and while a broker is down,
// and the workers' batch sizes. Timing still varies from run to run.
func TestEOSKill(t *testing.T) {
	seed := *eosSeed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	t.Logf("seed %d (rerun with -eos.seed %d)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	started := time.Now()
	records := *eosRecords
	if records <= 0 {
		records = 2000 + 1500**eosKills
	}

	sessionMs := 3000
	if brokersUseRace() {
		sessionMs = testcluster.DefaultSessionTimeoutMs
	}
	session := time.Duration(sessionMs) * time.Millisecond
	internal := strconv.Itoa(eosInternalPartitions)
	c := newCluster(t, eosBrokers, map[string]string{
		"zookeeper.session.timeout.ms":             strconv.Itoa(sessionMs),
		"unclean.leader.election.enable":           "false",
		"offsets.topic.replication.factor":         "3",
		"offsets.topic.num.partitions":             internal,
		"transaction.state.log.replication.factor": "3",
		"transaction.state.log.min.isr":            "2",
		"transaction.state.log.num.partitions":     internal,
		"group.initial.rebalance.delay.ms":         "0",
	})
	clientLogs, err := newClientLog()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() || *eosKeep {
			dir, err := keepEOSEvidence(c, seed, clientLogs)
			t.Logf("broker logs, partition directories and client logs copied to %s (%v)", dir, err)
		} else {
			clientLogs.close("")
		}
	})
	adm := newAdmin(t, c)
	minISR := "2"
	for _, tp := range []string{eosIn, eosOut} {
		createTopic(t, c, adm, tp, eosPartitions, eosBrokers, map[string]*string{"min.insync.replicas": &minISR})
	}
	seeds := c.BootstrapAddrs()
	ctx := testCtx(t, 24*time.Hour)
	topics := []eosTopic{{eosIn, eosPartitions}, {eosOut, eosPartitions}}
	if err := waitEveryState(ctx, c, topics, waitLong, "full ISRs after creation", fullISR(eosBrokers)); err != nil {
		t.Fatal(err)
	}

	// The input, numbered, with acks=all; in[id] is where record id went.
	in := make([]pos, records)
	ends := map[int32]int64{}
	{
		cl := newClient(t, seeds, kgo.DefaultProduceTopic(eosIn), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
		rs := make([]*kgo.Record, records)
		for id := range rs {
			rs[id] = &kgo.Record{Value: eosInValue(id)}
		}
		res := cl.ProduceSync(testCtx(t, waitLong), rs...)
		if err := res.FirstErr(); err != nil {
			t.Fatalf("filling %s: %v", eosIn, err)
		}
		for id, r := range rs {
			in[id] = pos{r.Partition, r.Offset}
			ends[r.Partition] = max(ends[r.Partition], r.Offset+1)
		}
		cl.Close()
	}

	// The workers run until stopped below (or at cleanup).
	var paced atomic.Bool
	paced.Store(true)
	workCtx, stopWork := context.WithCancel(ctx)
	var workWG sync.WaitGroup
	var workers eosWorkers
	var txnIDs []string
	for i := range *eosWorkerN {
		txnID := fmt.Sprintf("eos-tx-%d", i)
		txnIDs = append(txnIDs, txnID)
		opts := []kgo.Opt{
			kgo.SeedBrokers(seeds...), kgo.ClientID(fmt.Sprintf("kbroker-eos-%d", i)),
			kgo.TransactionalID(txnID), kgo.ConsumerGroup(eosGroup), kgo.ConsumeTopics(eosIn),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RequireStableFetchOffsets(),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DefaultProduceTopic(eosOut),
			kgo.FetchMaxWait(time.Second),
			// A member whose LeaveGroup died with the coordinator holds
			// up the next rebalance until its session expires: 10 s
			// rather than franz-go's 45 s.
			kgo.SessionTimeout(10 * time.Second), kgo.HeartbeatInterval(time.Second),
			kgo.WithLogger(kgo.BasicLogger(clientLogs, kgo.LogLevelInfo, func() string {
				return fmt.Sprintf("%s worker-%d ", time.Now().Format("15:04:05.000"), i)
			})),
		}
		w := newEOSWorker(i, txnID, opts, rng.Int63(), &paced)
		workers = append(workers, w)
		workWG.Add(1)
		go func() {
			defer workWG.Done()
			w.run(workCtx)
		}()
	}
	stopped := false
	stopWorkers := func() {
		if !stopped {
			stopped = true
			stopWork()
			workWG.Wait()
		}
	}
	t.Cleanup(stopWorkers)

	// __consumer_offsets and __transaction_state exist once the workers
	// have committed; every partition of the four topics with its three
	// replicas in the ISR before the first kill.
	if err := workers.waitCommits(ctx, 0, int64(2**eosWorkerN), records, waitLong); err != nil {
		t.Fatalf("before the kills: %v (errors: %s)", err, workersErrors(workers))
	}
	topics = append(topics, eosTopic{"__consumer_offsets", eosInternalPartitions}, eosTopic{"__transaction_state", eosInternalPartitions})
	for _, tp := range topics {
		for p, rs := range zkAssignment(t, c, tp.name) {
			if len(rs) != eosBrokers {
				t.Fatalf("%s-%d has replicas %v, want %d", tp.name, p, rs, eosBrokers)
			}
		}
	}
	if err := waitEveryState(ctx, c, topics, waitLong, "full ISRs before the kills", fullISR(eosBrokers)); err != nil {
		t.Fatal(err)
	}

	// The kill loop. A failure here (a wait that timed out) is reported
	// and ends the loop; the final checks still run.
	loop := &eosLoop{t: t, c: c, rng: rng, workers: workers, topics: topics, txnIDs: txnIDs, records: records, session: session, hits: map[string]int{}}
	kills := 0
	for cycle := range *eosKills {
		if err := loop.cycle(ctx, cycle); err != nil {
			t.Errorf("cycle %d: %v", cycle, err)
			break
		}
		kills++
	}

	// Everyone up and in every ISR; the workers run to the end of the
	// input at full speed.
	for _, b := range c.Brokers() {
		if !b.Running() {
			t.Logf("restarting %s, still down after the loop", b.Name())
			b.Restart()
		}
	}
	if err := waitEveryState(ctx, c, topics, waitLong, "full ISRs after the loop", fullISR(eosBrokers)); err != nil {
		t.Errorf("%v", err)
	}
	loopDone := time.Now()
	paced.Store(false)
	deadline := time.Now().Add(2 * waitLong)
	for {
		offs, err := groupOffsetsOn(ctx, adm, eosGroup, eosIn)
		behind := []string{}
		for p := range int32(eosPartitions) {
			if offs[p] != ends[p] {
				behind = append(behind, fmt.Sprintf("p%d at %d of %d", p, offs[p], ends[p]))
			}
		}
		if err == nil && len(behind) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the group's offsets did not reach the end of %s within %v: %v %v (errors: %s)",
				eosIn, 2*waitLong, err, behind, workersErrors(workers))
			break
		}
		time.Sleep(pollEvery)
	}
	drained := time.Since(loopDone)
	stopWorkers()
	for _, w := range workers {
		for _, f := range w.fatal {
			t.Error(f)
		}
	}

	// The final read: a marker record written to every output partition
	// after the workers stopped; a read_committed consumer reads each
	// partition up to its marker (an open transaction below it would hold
	// it back).
	markers := map[int32]int64{}
	{
		cl := newClient(t, seeds, kgo.DefaultProduceTopic(eosOut), kgo.RecordPartitioner(kgo.ManualPartitioner()))
		for p := range int32(eosPartitions) {
			r := &kgo.Record{Partition: p, Value: []byte("eos-end")}
			if err := cl.ProduceSync(testCtx(t, waitLong), r).FirstErr(); err != nil {
				t.Fatalf("end marker to %s-%d: %v", eosOut, p, err)
			}
			markers[p] = r.Offset
		}
		cl.Close()
	}
	var out []eosOutRecord
	{
		cl := newClient(t, seeds, kgo.ConsumeTopics(eosOut), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
		seen := map[int32]bool{}
		deadline := time.Now().Add(waitLong)
		for len(seen) < eosPartitions {
			if time.Now().After(deadline) {
				var stuck []string
				for p := range int32(eosPartitions) {
					if !seen[p] {
						hw, lso, err := partitionOffsets(leaderAddr(c, eosOut, p), eosOut, p)
						stuck = append(stuck, fmt.Sprintf("p%d (end marker at %d, high watermark %d, last stable offset %d, %v)", p, markers[p], hw, lso, err))
					}
				}
				t.Fatalf("read_committed did not reach the end markers within %v: %v", waitLong, stuck)
			}
			fs := cl.PollFetches(testCtx(t, 2*time.Second))
			fs.EachRecord(func(r *kgo.Record) {
				if r.Offset >= markers[r.Partition] {
					seen[r.Partition] = true
					return
				}
				out = append(out, eosOutRecord{pos{r.Partition, r.Offset}, slices.Clone(r.Value)})
			})
		}
		cl.Close()
	}
	v, copies := verifyEOS(in, out)
	v.report(t)

	var commits, committed, aborts, abortRecs, endErrors, sessions, abandoned, abandRecs int64
	for _, w := range workers {
		abandoned += w.abandoned.Load()
		abandRecs += w.abandRecs.Load()
		commits += w.commits.Load()
		committed += w.committed.Load()
		aborts += w.aborts.Load()
		abortRecs += w.abortRecs.Load()
		endErrors += w.endErrors.Load()
		sessions += w.sessions.Load()
	}
	t.Logf("summary: seed %d, %d kill cycles (victims: %s) in %v, drained in %v; %d input records, %d output records read_committed (copies: %v); "+
		"%d transactions committed (%d records), %d aborted (%d records, processed again), %d abandoned (%d records), %d End errors, %d sessions for %d workers",
		seed, kills, countSummary(loop.hits), time.Since(started).Round(time.Second), drained.Round(time.Millisecond), records, len(out), copies,
		commits, committed, aborts, abortRecs, abandoned, abandRecs, endErrors, sessions, len(workers))
	t.Logf("worker errors: %s", workersErrors(workers))
}

// workersErrors is every worker's error summary.
func workersErrors(ws eosWorkers) string {
	var parts []string
	for _, w := range ws {
		n := max(1, w.commits.Load()+w.aborts.Load()+w.endErrors.Load())
		parts = append(parts, fmt.Sprintf("worker %d (End: mean %v, max %v): %s", w.id,
			time.Duration(w.endNanos.Load()/n).Round(time.Millisecond), time.Duration(w.endMax.Load()).Round(time.Millisecond), w.errorSummary()))
	}
	return fmt.Sprint(parts)
}

// leaderAddr is the address of the leader of topic-partition p in
// ZooKeeper, "" if unknown.
func leaderAddr(c *testcluster.Cluster, topic string, p int32) string {
	sts, err := partitionStates(c, topic, int(p)+1)
	if err != nil {
		return ""
	}
	if b := c.BrokerByID(sts[p].Leader); b != nil {
		return b.Addr()
	}
	return ""
}

// eosLoop is the kill loop's state.
type eosLoop struct {
	t       *testing.T
	c       *testcluster.Cluster
	rng     *rand.Rand
	workers eosWorkers
	topics  []eosTopic
	txnIDs  []string
	records int
	session time.Duration
	hits    map[string]int // roles of the victims, counted
}

// cycle is one kill: let transactions commit, pick a victim, kill -9 it
// while a worker is inside a transaction, wait until the controller has
// taken it out of every ISR, let transactions commit without it, restart
// it, wait until it is back in every ISR.
func (l *eosLoop) cycle(ctx context.Context, cycle int) error {
	if err := l.workers.waitCommits(ctx, l.workers.commits(), int64(2+l.rng.Intn(10)), l.records, waitLong); err != nil {
		return fmt.Errorf("before the kill, every broker up: %v (errors: %s)", err, workersErrors(l.workers))
	}
	roles, err := rolesOf(l.c, l.txnIDs, eosGroup, l.topics)
	if err != nil {
		return err
	}
	// The first cycles go through the kinds of victim in turn, later
	// ones pick at random.
	kind := cycle
	if cycle >= 3 {
		kind = l.rng.Intn(4)
	}
	var victim int32 = -1
	var why string
	switch kind {
	case 0:
		tx := l.txnIDs[l.rng.Intn(len(l.txnIDs))]
		for id, r := range roles {
			if slices.Contains(r.txnCoord, tx) {
				victim, why = id, "transaction coordinator of "+tx
			}
		}
	case 1:
		for id, r := range roles {
			if r.groupCoord {
				victim, why = id, "group coordinator"
			}
		}
	case 2:
		tp, p := eosOut, int32(l.rng.Intn(eosPartitions))
		if l.rng.Intn(3) == 0 {
			tp = eosIn
		}
		sts, err := partitionStates(l.c, tp, eosPartitions)
		if err != nil {
			return err
		}
		victim, why = sts[p].Leader, fmt.Sprintf("leader of %s-%d", tp, p)
	default:
		victim, why = l.c.Broker(l.rng.Intn(l.c.N())).ID(), "random broker"
	}
	b := l.c.BrokerByID(victim)
	if b == nil {
		return fmt.Errorf("no broker %d to kill (%s)", victim, why)
	}
	r := roles[victim]
	if r == nil {
		r = &eosRoles{}
	}
	if len(r.txnCoord) > 0 {
		l.hits["txn coordinator"]++
	}
	if r.groupCoord {
		l.hits["group coordinator"]++
	}
	if len(r.leads[eosOut]) > 0 {
		l.hits["output leader"]++
	}
	if len(r.leads[eosIn]) > 0 {
		l.hits["input leader"]++
	}
	abandon := cycle == 1 || (cycle >= 3 && l.rng.Float64() < *eosAbandon)
	worker, inTxn := l.workers.waitInTxn(ctx, l.rng.Intn(len(l.workers)), waitLong)
	ctl, _, _ := l.c.Controller()
	l.t.Logf("cycle %d: kill -9 broker %d (%s; it is: %v; controller %d; worker %d in a transaction: %v, abandons it: %v; %d transactions committed so far)",
		cycle, victim, why, r, ctl, worker, inTxn, abandon && inTxn, l.workers.commits())
	if abandon && inTxn {
		l.workers[worker].abandon.Store(true)
	}
	killed := time.Now()
	b.Kill9()

	if err := waitEveryState(ctx, l.c, l.topics, l.session+waitLong, fmt.Sprintf("broker %d out of leaders and ISRs", victim),
		func(st zkPartitionStateJSON) bool {
			return st.Leader >= 0 && st.Leader != victim && !slices.Contains(st.ISR, victim)
		}); err != nil {
		return err
	}
	moved := time.Since(killed)
	if err := l.workers.waitCommits(ctx, l.workers.commits(), int64(2+l.rng.Intn(10)), l.records, waitLong); err != nil {
		return fmt.Errorf("with broker %d down: %v (errors: %s)", victim, err, workersErrors(l.workers))
	}
	down := time.Since(killed)
	b.Restart()
	restarted := time.Now()
	if err := waitEveryState(ctx, l.c, l.topics, waitLong, fmt.Sprintf("broker %d back in every ISR", victim),
		func(st zkPartitionStateJSON) bool {
			return st.Leader >= 0 && slices.Contains(st.ISR, victim) && len(st.ISR) == eosBrokers
		}); err != nil {
		return err
	}
	l.t.Logf("cycle %d: broker %d out of the ISRs after %v, down %v, back in every ISR %v after its restart; %d transactions committed",
		cycle, victim, moved.Round(time.Millisecond), down.Round(time.Millisecond), time.Since(restarted).Round(time.Millisecond), l.workers.commits())
	return nil
}
