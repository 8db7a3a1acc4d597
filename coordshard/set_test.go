package coordshard

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type testShard struct {
	p, epoch int32
	ctx      context.Context
	unloaded atomic.Bool
	ctxDone  atomic.Bool // ctx was cancelled when Unload ran
}

func (s *testShard) Epoch() int32 { return s.epoch }

func (s *testShard) Unload() {
	s.ctxDone.Store(s.ctx.Err() != nil)
	s.unloaded.Store(true)
}

// recorder builds shards and counts loads.
type recorder struct {
	mu    sync.Mutex
	made  []*testShard
	loads atomic.Int32
}

func (r *recorder) elect(set *Set[*testShard], p, epoch int32) bool {
	return set.Elect(p, epoch, func(ctx context.Context) *testShard {
		s := &testShard{p: p, epoch: epoch, ctx: ctx}
		r.mu.Lock()
		r.made = append(r.made, s)
		r.mu.Unlock()
		return s
	}, func(*testShard) { r.loads.Add(1) })
}

func mustGet(t *testing.T, set *Set[*testShard], p int32) *testShard {
	t.Helper()
	s, ok := set.Get(p)
	if !ok {
		t.Fatalf("partition %d has no shard", p)
	}
	return s
}

func TestElectEpochOrder(t *testing.T) {
	set := New[*testShard](context.Background())
	defer set.Close()
	var r recorder
	if !r.elect(set, 3, 5) {
		t.Fatal("first election ignored")
	}
	first := mustGet(t, set, 3)
	for _, epoch := range []int32{5, 4} {
		if r.elect(set, 3, epoch) {
			t.Fatalf("election at epoch %d over epoch 5 accepted", epoch)
		}
	}
	if got := mustGet(t, set, 3); got != first || first.unloaded.Load() {
		t.Fatal("an ignored election replaced or unloaded the shard")
	}
	if !r.elect(set, 3, 6) {
		t.Fatal("election at a later epoch ignored")
	}
	second := mustGet(t, set, 3)
	if second == first || second.epoch != 6 {
		t.Fatalf("shard after epoch 6 election: %+v", second)
	}
	if !first.unloaded.Load() || !first.ctxDone.Load() {
		t.Fatal("the replaced shard was not unloaded after its context was cancelled")
	}
	if second.ctx.Err() != nil {
		t.Fatal("the new shard's context is cancelled")
	}
	set.Close()
	if got := r.loads.Load(); got != 2 {
		t.Fatalf("loads = %d, want 2", got)
	}
	if len(r.made) != 2 {
		t.Fatalf("shards made = %d, want 2 (ignored elections build none)", len(r.made))
	}
}

func TestResign(t *testing.T) {
	set := New[*testShard](context.Background())
	defer set.Close()
	var r recorder
	r.elect(set, 0, 7)
	r.elect(set, 1, 7)
	r.elect(set, 2, 7)
	s0 := mustGet(t, set, 0)
	if set.Resign(0, 6) {
		t.Fatal("resigning with an older epoch unloaded the shard")
	}
	if s0.unloaded.Load() || mustGet(t, set, 0) != s0 {
		t.Fatal("an ignored resignation touched the shard")
	}
	if !set.Resign(0, 7) {
		t.Fatal("resigning at the shard's epoch was ignored")
	}
	if !s0.unloaded.Load() || !s0.ctxDone.Load() {
		t.Fatal("the resigned shard was not unloaded after its context was cancelled")
	}
	if _, ok := set.Get(0); ok {
		t.Fatal("partition 0 still has a shard")
	}
	if !set.Resign(1, 8) {
		t.Fatal("resigning with a later epoch was ignored")
	}
	if !set.Resign(2, -1) {
		t.Fatal("resigning with epoch -1 was ignored")
	}
	if set.Resign(2, -1) || set.Resign(9, -1) {
		t.Fatal("resigning a partition without a shard reported an unload")
	}
	if n := len(set.All()); n != 0 {
		t.Fatalf("%d shards left", n)
	}
	// A partition resigned can be elected again, even at its old epoch.
	if !r.elect(set, 0, 7) {
		t.Fatal("re-election after resignation ignored")
	}
}

func TestCloseWaitsForLoads(t *testing.T) {
	set := New[*testShard](context.Background())
	var finished atomic.Int32
	started := make(chan struct{}, 2)
	for p := int32(0); p < 2; p++ {
		set.Elect(p, 0, func(ctx context.Context) *testShard {
			return &testShard{p: p, ctx: ctx}
		}, func(s *testShard) {
			started <- struct{}{}
			<-s.ctx.Done()
			time.Sleep(20 * time.Millisecond)
			finished.Add(1)
		})
	}
	<-started
	<-started
	shards := set.All()
	set.Close()
	if got := finished.Load(); got != 2 {
		t.Fatalf("Close returned with %d of 2 loads finished", got)
	}
	for _, s := range shards {
		if !s.unloaded.Load() || !s.ctxDone.Load() {
			t.Fatalf("shard %d not unloaded after its context was cancelled", s.p)
		}
	}
	if n := len(set.All()); n != 0 {
		t.Fatalf("%d shards left after Close", n)
	}
}

func TestNoElectAfterClose(t *testing.T) {
	set := New[*testShard](context.Background())
	set.Close()
	var r recorder
	if r.elect(set, 0, 1) {
		t.Fatal("election after Close accepted")
	}
	if len(r.made) != 0 || r.loads.Load() != 0 {
		t.Fatal("election after Close built or loaded a shard")
	}
	if _, ok := set.Get(0); ok {
		t.Fatal("shard present after Close")
	}
}

func TestParentCancelReachesShardsAndStopsElections(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	set := New[*testShard](parent)
	defer set.Close()
	var r recorder
	r.elect(set, 0, 0)
	s := mustGet(t, set, 0)
	cancel()
	if s.ctx.Err() == nil {
		t.Fatal("cancelling the parent did not reach the shard's context")
	}
	if r.elect(set, 1, 0) {
		t.Fatal("election after the parent was cancelled accepted")
	}
}

func TestAllSnapshot(t *testing.T) {
	set := New[*testShard](context.Background())
	defer set.Close()
	var r recorder
	for p := int32(0); p < 4; p++ {
		r.elect(set, p, 1)
	}
	all := set.All()
	set.Resign(2, -1)
	var ps []int
	for _, s := range all {
		ps = append(ps, int(s.p))
	}
	sort.Ints(ps)
	if len(ps) != 4 || ps[0] != 0 || ps[3] != 3 {
		t.Fatalf("All = %v, want partitions 0..3", ps)
	}
	if n := len(set.All()); n != 3 {
		t.Fatalf("after a resignation All has %d shards, want 3", n)
	}
}
