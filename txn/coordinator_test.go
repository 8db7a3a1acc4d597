package txn

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

var ctx = context.Background()

func tps(names ...string) []model.TopicPartition {
	var out []model.TopicPartition
	for _, n := range names {
		out = append(out, model.TopicPartition{Topic: n, Partition: 0})
	}
	return out
}

func wantErr(t *testing.T, what string, got, want error) {
	t.Helper()
	if want == nil && got == nil {
		return
	}
	if want == nil || !errors.Is(got, want) {
		t.Fatalf("%s: error %v, want %v", what, got, want)
	}
}

func TestInitProducerIDNewAndBump(t *testing.T) {
	e := newEnv(t)
	e.elect(t, 3)
	pid, epoch, err := e.c.InitProducerID(ctx, "a", 60000, -1, -1)
	if err != nil || pid != 1000 || epoch != 0 {
		t.Fatalf("first init = %d %d %v", pid, epoch, err)
	}
	id, m := e.log.last(t, 0)
	if id != "a" || m.State != Empty || m.ProducerID != 1000 || m.ProducerEpoch != 0 || m.TimeoutMs != 60000 || m.StartTimestamp != -1 {
		t.Fatalf("record %q %+v", id, m)
	}
	pid, epoch, err = e.c.InitProducerID(ctx, "a", 30000, -1, -1)
	if err != nil || pid != 1000 || epoch != 1 {
		t.Fatalf("re-init = %d %d %v", pid, epoch, err)
	}
	// The fenced producer (epoch 0) cannot use the transaction.
	wantErr(t, "old epoch add", e.c.AddPartitions(ctx, "a", 1000, 0, tps("t")), kerr.ProducerFenced)
	wantErr(t, "old epoch end", e.c.EndTxn(ctx, "a", 1000, 0, true), kerr.ProducerFenced)
}

func TestInitProducerIDErrors(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name    string
		id      string
		timeout int32
		want    error
	}{
		{"empty id", "", 1000, kerr.InvalidRequest},
		{"zero timeout", "a", 0, kerr.InvalidTransactionTimeout},
		{"above max", "a", 900001, kerr.InvalidTransactionTimeout},
		{"not coordinator", "a", 1000, kerr.NotCoordinator},
	} {
		_, _, err := e.c.InitProducerID(ctx, c.id, c.timeout, -1, -1)
		wantErr(t, c.name, err, c.want)
	}
	e.log.block = make(chan struct{})
	e.c.Elect(0, 1)
	_, _, err := e.c.InitProducerID(ctx, "a", 1000, -1, -1)
	wantErr(t, "loading", err, kerr.CoordinatorLoadInProgress)
	close(e.log.block)
	e.waitLoaded(t)
	e.log.setFail(kerr.NotEnoughReplicas)
	_, _, err = e.c.InitProducerID(ctx, "a", 1000, -1, -1)
	wantErr(t, "append NOT_ENOUGH_REPLICAS", err, kerr.CoordinatorNotAvailable)
	e.log.setFail(kerr.NotLeaderForPartition)
	_, _, err = e.c.InitProducerID(ctx, "a", 1000, -1, -1)
	wantErr(t, "append NOT_LEADER", err, kerr.NotCoordinator)
	e.log.setFail(nil)
	if _, ep, err := e.c.InitProducerID(ctx, "a", 1000, -1, -1); err != nil || ep != 0 {
		t.Fatalf("after failures: epoch %d %v", ep, err)
	}
	e.c.Resign(0, -1)
	_, _, err = e.c.InitProducerID(ctx, "a", 1000, -1, -1)
	wantErr(t, "resigned", err, kerr.NotCoordinator)
}

// KIP-360: a producer re-initialising with its producer id and epoch.
func TestInitProducerIDExpected(t *testing.T) {
	e := newEnv(t)
	e.elect(t, 0)
	pid, _, _ := e.c.InitProducerID(ctx, "a", 1000, -1, -1) // epoch 0
	for _, c := range []struct {
		name      string
		pid       int64
		epoch     int16
		wantEpoch int16
		want      error
	}{
		{"current epoch bumps", pid, 0, 1, nil},
		{"retry with the previous epoch keeps it", pid, 0, 1, nil},
		{"current again bumps", pid, 1, 2, nil},
		{"unknown epoch fenced", pid, 7, -1, kerr.ProducerFenced},
		{"other producer id fenced", pid + 99, 2, -1, kerr.ProducerFenced},
	} {
		_, ep, err := e.c.InitProducerID(ctx, "a", 1000, c.pid, c.epoch)
		wantErr(t, c.name, err, c.want)
		if ep != c.wantEpoch {
			t.Fatalf("%s: epoch %d, want %d", c.name, ep, c.wantEpoch)
		}
	}
}

func TestEpochExhaustionRotatesProducerID(t *testing.T) {
	e := newEnv(t)
	e.log.parts[0] = []Entry{{Key: KeyBytes("a"), Value: ValueBytes(&Metadata{ProducerID: 5, ProducerEpoch: math.MaxInt16 - 1,
		TimeoutMs: 1000, State: CompleteCommit, StartTimestamp: 1, LastUpdateMs: 1})}}
	e.elect(t, 0)
	pid, epoch, err := e.c.InitProducerID(ctx, "a", 1000, 5, math.MaxInt16-1)
	if err != nil || pid != 1000 || epoch != 0 {
		t.Fatalf("init at exhausted epoch = %d %d %v", pid, epoch, err)
	}
	// A retry of the rotation with the old id and exhausted epoch (its
	// answer was lost) gets the same producer id and epoch.
	pid, epoch, err = e.c.InitProducerID(ctx, "a", 1000, 5, math.MaxInt16-1)
	if err != nil || pid != 1000 || epoch != 0 {
		t.Fatalf("retry after rotation = %d %d %v", pid, epoch, err)
	}
	// Without an expected epoch, an exhausted epoch also rotates.
	e.log.parts[0] = append(e.log.parts[0], Entry{Key: KeyBytes("b"), Value: ValueBytes(&Metadata{ProducerID: 6,
		ProducerEpoch: math.MaxInt16 - 1, TimeoutMs: 1000, State: Empty, StartTimestamp: -1, LastUpdateMs: 1})})
	e.c.Resign(0, -1)
	e.elect(t, 1)
	if pid, epoch, err := e.c.InitProducerID(ctx, "b", 1000, -1, -1); err != nil || pid != 1001 || epoch != 0 {
		t.Fatalf("b = %d %d %v", pid, epoch, err)
	}
}

func TestCommitSendsMarkersAndCompletes(t *testing.T) {
	e := newEnv(t)
	e.elect(t, 4)
	pid, epoch, _ := e.c.InitProducerID(ctx, "a", 60000, -1, -1)
	wantErr(t, "end in Empty", e.c.EndTxn(ctx, "a", pid, epoch, true), kerr.InvalidTxnState)
	wantErr(t, "unknown id", e.c.AddPartitions(ctx, "zz", pid, epoch, tps("t")), kerr.InvalidProducerIDMapping)
	wantErr(t, "wrong pid", e.c.AddPartitions(ctx, "a", pid+1, epoch, tps("t")), kerr.InvalidProducerIDMapping)
	e.clock.add(time.Second)
	if err := e.c.AddPartitions(ctx, "a", pid, epoch, tps("t", "u")); err != nil {
		t.Fatal(err)
	}
	_, m := e.log.last(t, 0)
	if m.State != Ongoing || len(m.Partitions) != 2 || m.StartTimestamp != e.clock.Now().UnixMilli() {
		t.Fatalf("ongoing record %+v", m)
	}
	n := len(e.log.parts[0])
	if err := e.c.AddPartitions(ctx, "a", pid, epoch, tps("t")); err != nil || len(e.log.parts[0]) != n {
		t.Fatalf("re-adding a partition wrote a record or failed: %v", err)
	}
	e.mk.set(true, 0)
	if err := e.c.EndTxn(ctx, "a", pid, epoch, true); err != nil {
		t.Fatal(err)
	}
	_, m = e.log.last(t, 0)
	if m.State != PrepareCommit || len(m.Partitions) != 2 {
		t.Fatalf("prepare record %+v", m)
	}
	// Markers pending: everything is CONCURRENT_TRANSACTIONS, an abort is
	// the wrong state.
	wantErr(t, "commit again", e.c.EndTxn(ctx, "a", pid, epoch, true), kerr.ConcurrentTransactions)
	wantErr(t, "abort", e.c.EndTxn(ctx, "a", pid, epoch, false), kerr.ConcurrentTransactions)
	wantErr(t, "add", e.c.AddPartitions(ctx, "a", pid, epoch, tps("v")), kerr.ConcurrentTransactions)
	_, _, err := e.c.InitProducerID(ctx, "a", 1000, -1, -1)
	wantErr(t, "init", err, kerr.ConcurrentTransactions)
	e.mk.release()
	e.waitState(t, "a", CompleteCommit)
	_, m = e.log.last(t, 0)
	if m.State != CompleteCommit || len(m.Partitions) != 0 {
		t.Fatalf("complete record %+v", m)
	}
	reqs := e.mk.requests()
	if len(reqs) != 1 || len(reqs[0].Markers) != 1 {
		t.Fatalf("marker requests %+v", reqs)
	}
	mk := reqs[0].Markers[0]
	if !mk.Committed || mk.ProducerID != pid || mk.ProducerEpoch != epoch || mk.CoordinatorEpoch != 4 || len(mk.Topics) != 2 {
		t.Fatalf("marker %+v", mk)
	}
	wantErr(t, "commit after commit", e.c.EndTxn(ctx, "a", pid, epoch, true), nil)
	wantErr(t, "abort after commit", e.c.EndTxn(ctx, "a", pid, epoch, false), kerr.InvalidTxnState)
	// A new transaction after the commit.
	if err := e.c.AddPartitions(ctx, "a", pid, epoch, tps("w")); err != nil {
		t.Fatal(err)
	}
	if d := e.waitState(t, "a", Ongoing); len(d.Partitions) != 1 || d.Partitions[0].Topic != "w" {
		t.Fatalf("second transaction %+v", d)
	}
}

func TestMarkerRetriesAndDeletedTopics(t *testing.T) {
	e := newEnv(t)
	e.elect(t, 0)
	pid, epoch, _ := e.c.InitProducerID(ctx, "a", 60000, -1, -1)
	_ = e.c.AddPartitions(ctx, "a", pid, epoch, tps("t", "deleted"))
	e.mk.set(false, kerr.NotLeaderForPartition.Code)
	if err := e.c.EndTxn(ctx, "a", pid, epoch, false); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if d, _ := e.c.Describe("a"); d.State != PrepareAbort {
		t.Fatalf("state %v while leaders refuse", d.State)
	}
	e.mk.set(false, 0)
	e.waitState(t, "a", CompleteAbort)
	for _, r := range e.mk.requests() {
		for _, tp := range r.Markers[0].Topics {
			if tp.Topic == "deleted" {
				t.Fatal("marker sent to a deleted topic")
			}
		}
	}
}

// InitProducerId during an ongoing transaction aborts it with a bumped
// epoch (fencing the producer) and answers CONCURRENT_TRANSACTIONS; the
// retry bumps again.
func TestInitFencesOngoingTransaction(t *testing.T) {
	e := newEnv(t)
	e.elect(t, 0)
	pid, epoch, _ := e.c.InitProducerID(ctx, "a", 60000, -1, -1)
	_ = e.c.AddPartitions(ctx, "a", pid, epoch, tps("t"))
	e.mk.set(true, 0)
	_, _, err := e.c.InitProducerID(ctx, "a", 60000, -1, -1)
	wantErr(t, "init while ongoing", err, kerr.ConcurrentTransactions)
	_, m := e.log.last(t, 0)
	if m.State != PrepareAbort || m.ProducerEpoch != epoch+1 {
		t.Fatalf("fence record %+v", m)
	}
	wantErr(t, "zombie commit", e.c.EndTxn(ctx, "a", pid, epoch, true), kerr.ProducerFenced)
	e.mk.release()
	e.waitState(t, "a", CompleteAbort)
	if mk := e.mk.requests()[0].Markers[0]; mk.Committed || mk.ProducerEpoch != epoch+1 {
		t.Fatalf("abort marker %+v", mk)
	}
	_, ep, err := e.c.InitProducerID(ctx, "a", 60000, -1, -1)
	if err != nil || ep != epoch+2 {
		t.Fatalf("retry = %d %v", ep, err)
	}
}

func TestTimedOutTransactionIsAborted(t *testing.T) {
	e := newEnv(t)
	e.elect(t, 0)
	pid, epoch, _ := e.c.InitProducerID(ctx, "a", 1000, -1, -1)
	_ = e.c.AddPartitions(ctx, "a", pid, epoch, tps("t"))
	e.c.abortTimedOut()
	if d, _ := e.c.Describe("a"); d.State != Ongoing {
		t.Fatalf("aborted before the timeout: %v", d.State)
	}
	e.clock.add(1001 * time.Millisecond)
	e.c.abortTimedOut()
	d := e.waitState(t, "a", CompleteAbort)
	if d.ProducerEpoch != epoch+1 {
		t.Fatalf("epoch %d after the abort", d.ProducerEpoch)
	}
	wantErr(t, "zombie add", e.c.AddPartitions(ctx, "a", pid, epoch, tps("t")), kerr.ProducerFenced)
}

func TestExpiredIDIsRemoved(t *testing.T) {
	e := newEnv(t)
	e.elect(t, 0)
	_, _, _ = e.c.InitProducerID(ctx, "a", 1000, -1, -1)
	e.c.removeExpired()
	if _, err := e.c.Describe("a"); err != nil {
		t.Fatalf("removed early: %v", err)
	}
	e.clock.add(time.Hour)
	e.c.removeExpired()
	_, err := e.c.Describe("a")
	wantErr(t, "describe removed", err, kerr.TransactionalIDNotFound)
	recs := e.log.parts[0]
	if last := recs[len(recs)-1]; last.Value != nil {
		t.Fatal("no tombstone")
	}
	// Loading skips the id; a new init starts over with a new producer id.
	e.c.Resign(0, -1)
	e.elect(t, 1)
	pid, ep, err := e.c.InitProducerID(ctx, "a", 1000, -1, -1)
	if err != nil || pid != 1001 || ep != 0 {
		t.Fatalf("init after expiry = %d %d %v", pid, ep, err)
	}
}

// A new coordinator loads the state and completes prepared transactions.
func TestLoadCompletesPreparedTransactions(t *testing.T) {
	e := newEnv(t)
	e.log.parts[0] = []Entry{
		{Key: KeyBytes("c"), Value: ValueBytes(&Metadata{ProducerID: 9, ProducerEpoch: 3, TimeoutMs: 1000, State: PrepareCommit,
			Partitions: tps("t"), StartTimestamp: 1, LastUpdateMs: 2})},
		{Key: KeyBytes("o"), Value: ValueBytes(&Metadata{ProducerID: 10, ProducerEpoch: 0, TimeoutMs: 1000, State: Ongoing,
			Partitions: tps("u"), StartTimestamp: 1, LastUpdateMs: 2})},
		{Key: KeyBytes("gone"), Value: ValueBytes(&Metadata{ProducerID: 11, State: Empty})},
		{Key: KeyBytes("gone")},
		{Key: []byte{0, 9, 0, 0}, Value: []byte{1}},
	}
	e.elect(t, 7)
	e.waitState(t, "c", CompleteCommit)
	if mk := e.mk.requests()[0].Markers[0]; !mk.Committed || mk.ProducerID != 9 || mk.ProducerEpoch != 3 || mk.CoordinatorEpoch != 7 {
		t.Fatalf("marker %+v", mk)
	}
	if d, err := e.c.Describe("o"); err != nil || d.State != Ongoing || d.Partitions[0].Topic != "u" {
		t.Fatalf("ongoing %+v %v", d, err)
	}
	_, err := e.c.Describe("gone")
	wantErr(t, "tombstoned", err, kerr.TransactionalIDNotFound)
}

func TestList(t *testing.T) {
	e := newEnv(t)
	e.elect(t, 0)
	pa, ea, _ := e.c.InitProducerID(ctx, "a", 60000, -1, -1)
	pb, _, _ := e.c.InitProducerID(ctx, "b", 60000, -1, -1)
	_ = e.c.AddPartitions(ctx, "a", pa, ea, tps("t"))
	e.clock.add(10 * time.Second)
	for _, c := range []struct {
		name     string
		states   []string
		pids     []int64
		duration int64
		want     int
		unknown  int
	}{
		{"all", nil, nil, -1, 2, 0},
		{"ongoing", []string{"Ongoing"}, nil, -1, 1, 0},
		{"unknown state", []string{"Nope"}, nil, -1, 0, 1},
		{"by pid", nil, []int64{pb}, -1, 1, 0},
		{"longer than 5s (Empty ids have no start: always)", nil, nil, 5000, 2, 0},
		{"longer than 20s", nil, nil, 20000, 1, 0},
	} {
		got, unknown, err := e.c.List(c.states, c.pids, c.duration)
		if err != nil || len(got) != c.want || len(unknown) != c.unknown {
			t.Fatalf("%s: %+v %v %v", c.name, got, unknown, err)
		}
	}
}

// State transitions of the record-level state machine.
func TestTransitionTable(t *testing.T) {
	for _, c := range []struct {
		from, to State
		ok       bool
	}{
		{Empty, Ongoing, true}, {Ongoing, Ongoing, true}, {CompleteAbort, Ongoing, true},
		{Ongoing, PrepareCommit, true}, {Empty, PrepareCommit, false}, {PrepareCommit, CompleteCommit, true},
		{PrepareCommit, CompleteAbort, false}, {PrepareAbort, CompleteAbort, true}, {Ongoing, Empty, false},
		{CompleteCommit, Empty, true}, {Ongoing, Dead, false}, {Empty, Dead, true}, {Ongoing, PrepareEpochFence, true},
	} {
		m := newMeta("x", 1, 0, 1000, 0)
		m.state = c.from
		_, err := m.prepareLocked(&transit{state: c.to, timeoutMs: 1})
		if (err == nil) != c.ok {
			t.Errorf("%v -> %v: %v, want ok=%v", c.from, c.to, err, c.ok)
		}
	}
}
