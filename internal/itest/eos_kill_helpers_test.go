package itest

// Pieces of TestEOSKill (eos_kill_test.go): the record format, the
// consume-transform-produce workers and their counts, the choice of the
// broker to kill, and the final verification.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// --- records ---

// eosInValue is the value of input record id.
func eosInValue(id int) []byte { return []byte(fmt.Sprintf("eos-in %d", id)) }

// eosOutValue is what a worker writes for an input record: its value and
// where it was read.
func eosOutValue(in []byte, p int32, off int64) []byte {
	return []byte(fmt.Sprintf("%s from %d@%d", in, p, off))
}

// parseEOSOutValue recovers the input record's id and position from an
// output value, checking that the value is exactly one a worker writes.
func parseEOSOutValue(v []byte) (id int, from pos, err error) {
	if _, err := fmt.Sscanf(string(v), "eos-in %d from %d@%d", &id, &from.partition, &from.offset); err != nil {
		return 0, from, fmt.Errorf("value %.60q: %v", v, err)
	}
	if want := eosOutValue(eosInValue(id), from.partition, from.offset); !bytes.Equal(want, v) {
		return 0, from, fmt.Errorf("value %.60q is not one a worker writes", v)
	}
	return id, from, nil
}

// eosOutRecord is one record of the final read of the output topic.
type eosOutRecord struct {
	at    pos
	value []byte
}

// verifyEOS checks the output topic (every record a read_committed
// consumer returned) against the input: in[id] is where input record id
// was written.
//
//	(a) every input record is in the output exactly once;
//	(b) every output record is one a worker writes for an input record,
//	    naming the position that record was written at.
func verifyEOS(in []pos, out []eosOutRecord) (v violations, copies map[int]int) {
	where := map[int][]pos{}
	for _, r := range out {
		id, from, err := parseEOSOutValue(r.value)
		if err != nil {
			v.add("(b) output records copy input records", "p%d@%d: %v", r.at.partition, r.at.offset, err)
			continue
		}
		if id < 0 || id >= len(in) {
			v.add("(b) output records copy input records", "p%d@%d: input record %d was never written (%d were)", r.at.partition, r.at.offset, id, len(in))
			continue
		}
		if from != in[id] {
			v.add("(b) output records copy input records", "p%d@%d: input record %d read at p%d@%d, written at p%d@%d",
				r.at.partition, r.at.offset, id, from.partition, from.offset, in[id].partition, in[id].offset)
		}
		where[id] = append(where[id], r.at)
	}
	copies = map[int]int{}
	for id := range in {
		ps := where[id]
		copies[len(ps)]++
		switch {
		case len(ps) == 0:
			v.add("(a) every input record exactly once", "input record %d (p%d@%d) is missing", id, in[id].partition, in[id].offset)
		case len(ps) > 1:
			var at []string
			for _, p := range ps {
				at = append(at, fmt.Sprintf("p%d@%d", p.partition, p.offset))
			}
			v.add("(a) every input record exactly once", "input record %d (p%d@%d) is in the output %d times: %s",
				id, in[id].partition, in[id].offset, len(ps), strings.Join(at, " "))
		}
	}
	return v, copies
}

// --- workers ---

// Worker states, for the kill loop to aim at a transaction in flight.
const (
	eosIdle  = iota
	eosInTxn // between Begin and the return of End
)

// eosWorker copies input records to the output topic with a
// GroupTransactSession, one transaction per poll, committing the
// consumed offsets in each. When End fails (franz-go: not retryable) the
// session is closed and a new one with the same transactional id takes
// over, fencing the old producer. Told to abandon a transaction, it
// flushes the transaction's records, closes the session without ending
// it, as a crashed worker would (leaving the group, though), and starts a
// new session: the new producer's InitProducerId aborts the abandoned
// transaction.
type eosWorker struct {
	id    int
	txnID string
	opts  []kgo.Opt // the session's options
	rng   *rand.Rand
	paced *atomic.Bool // one transaction per eosPace while set, small batches

	state     atomic.Int32
	abandon   atomic.Bool  // abandon the current or next transaction
	abandoned atomic.Int64 // transactions abandoned
	abandRecs atomic.Int64 // records in them
	commits   atomic.Int64 // End returned committed
	committed atomic.Int64 // records in those transactions
	aborts    atomic.Int64 // End returned not committed, no error
	abortRecs atomic.Int64 // records in those transactions
	endErrors atomic.Int64 // End returned an error (outcome unknown to the worker)
	sessions  atomic.Int64
	endNanos  atomic.Int64 // time spent in End
	endMax    atomic.Int64

	mu    sync.Mutex
	errs  map[string]int // fetch, produce and End errors, counted
	fatal []string       // things that must never happen
}

const (
	eosPace       = 100 * time.Millisecond // between transactions while paced
	eosPacedBatch = 15                     // at most this many records per paced transaction
	eosFastBatch  = 500
)

func newEOSWorker(id int, txnID string, opts []kgo.Opt, seed int64, paced *atomic.Bool) *eosWorker {
	return &eosWorker{id: id, txnID: txnID, opts: opts, rng: rand.New(rand.NewSource(seed)), paced: paced, errs: map[string]int{}}
}

func (w *eosWorker) countErr(what string, err error) {
	why := what + ": " + reAddr.ReplaceAllString(err.Error(), "ADDR")
	w.mu.Lock()
	w.errs[why]++
	w.mu.Unlock()
}

func (w *eosWorker) fatalf(format string, args ...any) {
	w.mu.Lock()
	w.fatal = append(w.fatal, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

// run runs sessions until ctx ends.
func (w *eosWorker) run(ctx context.Context) {
	tick := time.NewTicker(eosPace)
	defer tick.Stop()
	for ctx.Err() == nil {
		s, err := kgo.NewGroupTransactSession(w.opts...)
		if err != nil {
			w.fatalf("worker %d: new session: %v", w.id, err)
			return
		}
		w.sessions.Add(1)
		// InitProducerId at once, as a Java producer's initTransactions:
		// it fences the previous session's producer and aborts its
		// transaction if that was left open (franz-go would only do it
		// at the first produce, maybe never once the input is done).
		initCtx, cancel := context.WithTimeout(ctx, 2*waitLong)
		_, _, err = s.Client().ProducerID(initCtx)
		cancel()
		if err == nil {
			err = w.session(ctx, s, tick)
		} else {
			err = fmt.Errorf("InitProducerId: %w", err)
		}
		s.Close()
		if err != nil && ctx.Err() == nil {
			w.countErr("session ended", err)
		}
	}
}

// session runs transactions on s until ctx ends (nil) or End fails.
func (w *eosWorker) session(ctx context.Context, s *kgo.GroupTransactSession, tick *time.Ticker) error {
	for {
		batch := eosFastBatch
		if w.paced.Load() {
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C: // pacing, so that the input lasts through the kill loop
			}
			batch = 1 + w.rng.Intn(eosPacedBatch)
		}
		fs := s.PollRecords(ctx, batch)
		if ctx.Err() != nil && fs.NumRecords() == 0 {
			return nil
		}
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				w.countErr(fmt.Sprintf("fetch %s-%d", topic, p), err)
			}
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		if err := s.Begin(); err != nil {
			return fmt.Errorf("Begin: %w", err)
		}
		w.state.Store(eosInTxn)
		var pmu sync.Mutex
		var perrs []error
		for _, r := range recs {
			out := &kgo.Record{Key: r.Key, Value: eosOutValue(r.Value, r.Partition, r.Offset)}
			s.Produce(ctx, out, func(_ *kgo.Record, err error) {
				if err != nil {
					pmu.Lock()
					perrs = append(perrs, err)
					pmu.Unlock()
				}
			})
		}
		if w.abandon.CompareAndSwap(true, false) {
			flushCtx, cancel := context.WithTimeout(ctx, waitLong)
			err := s.Client().Flush(flushCtx)
			cancel()
			w.state.Store(eosIdle)
			w.abandoned.Add(1)
			w.abandRecs.Add(int64(len(recs)))
			return fmt.Errorf("abandoned a transaction (flush: %v)", err)
		}
		// Its own deadline: End with a cancelled context leaves the
		// session in an unknown state.
		endCtx, cancel := context.WithTimeout(context.Background(), 2*waitLong)
		endStart := time.Now()
		committed, err := s.End(endCtx, kgo.TryCommit)
		cancel()
		took := int64(time.Since(endStart))
		w.endNanos.Add(took)
		if took > w.endMax.Load() {
			w.endMax.Store(took)
		}
		w.state.Store(eosIdle)
		pmu.Lock()
		failed := slices.Clone(perrs)
		pmu.Unlock()
		for _, e := range failed {
			w.countErr("produce", e)
		}
		switch {
		case err != nil:
			w.endErrors.Add(1)
			w.countErr("End", err)
			return err
		case committed && len(failed) > 0:
			w.fatalf("worker %d: a transaction committed although %d of its %d records failed (first: %v)", w.id, len(failed), len(recs), failed[0])
		case committed:
			w.commits.Add(1)
			w.committed.Add(int64(len(recs)))
		default:
			w.aborts.Add(1)
			w.abortRecs.Add(int64(len(recs)))
		}
	}
}

func (w *eosWorker) errorSummary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return countSummary(w.errs)
}

func countSummary(m map[string]int) string {
	type kv struct {
		k string
		n int
	}
	var all []kv
	for k, n := range m {
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

// eosWorkers are all the workers.
type eosWorkers []*eosWorker

func (ws eosWorkers) commits() int64 {
	var n int64
	for _, w := range ws {
		n += w.commits.Load()
	}
	return n
}

func (ws eosWorkers) committedRecords() int64 {
	var n int64
	for _, w := range ws {
		n += w.committed.Load()
	}
	return n
}

// waitCommits waits until the workers together have committed n more
// transactions than from, or d passes. Input that runs out first is an
// error naming the flag to raise.
func (ws eosWorkers) waitCommits(ctx context.Context, from, n int64, records int, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		got := ws.commits() - from
		if got >= n {
			return nil
		}
		if ws.committedRecords() >= int64(records) {
			return fmt.Errorf("the input ran out (%d records committed): raise -eos.records", ws.committedRecords())
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%d of %d transactions committed within %v", got, n, d)
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
}

// waitInTxn waits until some worker is inside a transaction, looking at
// worker first first, or d passes (false).
func (ws eosWorkers) waitInTxn(ctx context.Context, first int, d time.Duration) (int, bool) {
	deadline := time.Now().Add(d)
	for {
		for i := range ws {
			if w := ws[(first+i)%len(ws)]; w.state.Load() == eosInTxn {
				return w.id, true
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return -1, false
		}
		time.Sleep(time.Millisecond) // poll interval: a transaction lasts milliseconds
	}
}

// --- the brokers' roles ---

// eosTopic is a topic whose partition states the kill loop watches.
type eosTopic struct {
	name  string
	parts int
}

// eosRoles describes what a broker is to the workers: the transaction
// coordinator of which transactional ids, the group coordinator, the
// leader of which partitions.
type eosRoles struct {
	txnCoord   []string // transactional ids
	groupCoord bool
	leads      map[string][]int32 // topic → partitions
}

func (r eosRoles) String() string {
	var parts []string
	if len(r.txnCoord) > 0 {
		parts = append(parts, "txn coordinator of "+strings.Join(r.txnCoord, ","))
	}
	if r.groupCoord {
		parts = append(parts, "group coordinator")
	}
	var topics []string
	for tp := range r.leads {
		topics = append(topics, tp)
	}
	sort.Strings(topics)
	for _, tp := range topics {
		parts = append(parts, fmt.Sprintf("leads %s %v", tp, r.leads[tp]))
	}
	if len(parts) == 0 {
		return "no role"
	}
	return strings.Join(parts, "; ")
}

// askRunning asks the running brokers in turn until one answers.
func askRunning(c *testcluster.Cluster, f func(addr string) (int32, error)) (int32, error) {
	var last error
	for _, addr := range runningAddrs(c) {
		id, err := f(addr)
		if err == nil {
			return id, nil
		}
		last = err
	}
	return -1, fmt.Errorf("no broker answered: %v", last)
}

// rolesOf finds every broker's roles: coordinators through
// FindCoordinator, leaders from the partition states in ZooKeeper.
func rolesOf(c *testcluster.Cluster, txnIDs []string, group string, topics []eosTopic) (map[int32]*eosRoles, error) {
	out := map[int32]*eosRoles{}
	get := func(id int32) *eosRoles {
		if out[id] == nil {
			out[id] = &eosRoles{leads: map[string][]int32{}}
		}
		return out[id]
	}
	for _, tx := range txnIDs {
		id, err := askRunning(c, func(addr string) (int32, error) { return txnCoordinatorOf(addr, tx) })
		if err != nil {
			return nil, fmt.Errorf("transaction coordinator of %s: %v", tx, err)
		}
		get(id).txnCoord = append(get(id).txnCoord, tx)
	}
	id, err := askRunning(c, func(addr string) (int32, error) { return coordinatorOf(addr, group) })
	if err != nil {
		return nil, fmt.Errorf("group coordinator of %s: %v", group, err)
	}
	get(id).groupCoord = true
	for _, tp := range topics {
		sts, err := partitionStates(c, tp.name, tp.parts)
		if err != nil {
			return nil, err
		}
		for p := range int32(tp.parts) {
			if l := sts[p].Leader; l >= 0 {
				get(l).leads[tp.name] = append(get(l).leads[tp.name], p)
			}
		}
	}
	for _, r := range out {
		for _, ps := range r.leads {
			slices.Sort(ps)
		}
	}
	return out, nil
}

// waitEveryState is waitStates over several topics.
func waitEveryState(ctx context.Context, c *testcluster.Cluster, topics []eosTopic, d time.Duration, what string, ok func(zkPartitionStateJSON) bool) error {
	deadline := time.Now().Add(d)
	for _, tp := range topics {
		left := max(time.Until(deadline), pollEvery)
		if err := waitStates(ctx, c, tp.name, tp.parts, left, what+" ("+tp.name+")", ok); err != nil {
			return err
		}
	}
	return nil
}

// --- the group's offsets ---

// groupOffsetsOn fetches the committed offsets of group on topic.
func groupOffsetsOn(ctx context.Context, adm *kadm.Client, group, topic string) (map[int32]int64, error) {
	resp, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, err
	}
	if err := resp.Error(); err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			out[o.Partition] = o.At
		}
	})
	return out, nil
}

// --- evidence ---

// clientLog collects the workers' client logs in a file outside the
// test's temporary directories: moved into the evidence when kept, removed
// otherwise.
type clientLog struct {
	mu sync.Mutex
	f  *os.File
}

func newClientLog() (*clientLog, error) {
	f, err := os.CreateTemp("", "kbroker-eos-clients-*.log")
	if err != nil {
		return nil, err
	}
	return &clientLog{f: f}, nil
}

func (l *clientLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(p)
}

// close closes the file and moves it to dir, or removes it when dir is "".
func (l *clientLog) close(dir string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.f.Close()
	if dir == "" {
		return os.Remove(l.f.Name())
	}
	if err := copyFile(l.f.Name(), filepath.Join(dir, "clients.log")); err != nil {
		return err
	}
	return os.Remove(l.f.Name())
}

// keepEOSEvidence copies the brokers' logs and every partition directory
// (keepEvidence), and the workers' client logs, out of the test's
// temporary directories.
func keepEOSEvidence(c *testcluster.Cluster, seed int64, logs *clientLog) (string, error) {
	dir, err := keepEvidence(c, "*", seed)
	if err != nil {
		return dir, err
	}
	return dir, logs.close(dir)
}

// TestEOSKillChecker feeds verifyEOS outputs with one fault of each kind
// and checks that each rule, and only that rule, reports it.
func TestEOSKillChecker(t *testing.T) {
	in := []pos{{0, 0}, {1, 0}, {0, 1}}
	rec := func(p int32, off int64, id int) eosOutRecord {
		return eosOutRecord{pos{p, off}, eosOutValue(eosInValue(id), in[id].partition, in[id].offset)}
	}
	good := func() []eosOutRecord { return []eosOutRecord{rec(0, 0, 0), rec(0, 1, 2), rec(1, 0, 1)} }
	check := func(name string, out []eosOutRecord, want string) {
		t.Helper()
		v, _ := verifyEOS(in, out)
		var rules []string
		for r := range v.counts {
			rules = append(rules, r[:3])
		}
		slices.Sort(rules)
		if got := fmt.Sprint(rules); got != want {
			t.Errorf("%s: rules %s broken, want %s (%v)", name, got, want, v.byRule)
		}
	}
	check("healthy", good(), "[]")
	check("lost", good()[1:], "[(a)]")
	check("duplicate", append(good(), rec(1, 2, 2)), "[(a)]")
	bad := good()
	bad[1].value = eosOutValue(eosInValue(2), 1, 1)
	check("wrong origin", bad, "[(b)]")
	check("stranger", append(good(), eosOutRecord{pos{1, 3}, eosOutValue(eosInValue(7), 0, 9)}), "[(b)]")
	check("garbage", append(good(), eosOutRecord{pos{1, 3}, []byte("eos-in 1 from 1@0x")}), "[(b)]")
}
