package coordshard

import (
	"context"
	"sync"
)

// Shard is what a Set needs of one led partition's state.
type Shard interface {
	// Epoch is the leader epoch the partition was elected at.
	Epoch() int32
	// Unload drops the shard's state; its context is already cancelled.
	Unload()
}

// Set holds the shards of the partitions led here, by partition.
type Set[S Shard] struct {
	ctx    context.Context // parent of every shard's context
	cancel context.CancelFunc
	wg     sync.WaitGroup // load goroutines

	mu     sync.Mutex
	shards map[int32]entry[S] // guarded by mu
}

type entry[S Shard] struct {
	shard  S
	cancel context.CancelFunc // the shard's context
}

// New returns an empty Set whose shard contexts derive from parent; Close
// stops it.
func New[S Shard](parent context.Context) *Set[S] {
	ctx, cancel := context.WithCancel(parent)
	return &Set[S]{ctx: ctx, cancel: cancel, shards: map[int32]entry[S]{}}
}

// Elect makes partition p led here at leader epoch epoch. It does nothing
// after Close or when p already has a shard of epoch epoch or later;
// otherwise the older shard is unloaded, newShard builds the new one from
// its context, and load runs on a goroutine Close waits for. It reports
// whether a new shard was made.
func (s *Set[S]) Elect(p, epoch int32, newShard func(ctx context.Context) S, load func(S)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	if old, ok := s.shards[p]; ok {
		if old.shard.Epoch() >= epoch {
			return false
		}
		s.removeLocked(p, old)
	}
	ctx, cancel := context.WithCancel(s.ctx)
	sh := newShard(ctx)
	s.shards[p] = entry[S]{shard: sh, cancel: cancel}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		load(sh)
	}()
	return true
}

// Resign unloads partition p's shard unless its epoch is later than epoch;
// epoch -1 resigns whatever the epoch. It reports whether a shard was
// unloaded.
func (s *Set[S]) Resign(p, epoch int32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.shards[p]
	if !ok || (epoch >= 0 && e.shard.Epoch() > epoch) {
		return false
	}
	s.removeLocked(p, e)
	return true
}

// Close cancels every shard's context, unloads every shard and waits for
// the loads; Elect does nothing afterwards.
func (s *Set[S]) Close() {
	s.cancel()
	s.mu.Lock()
	for p, e := range s.shards {
		s.removeLocked(p, e)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// removeLocked drops p's shard: its context is cancelled, then it is
// unloaded. s.mu is held.
func (s *Set[S]) removeLocked(p int32, e entry[S]) {
	delete(s.shards, p)
	e.cancel()
	e.shard.Unload()
}

// Get returns partition p's shard, loaded or not.
func (s *Set[S]) Get(p int32) (S, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.shards[p]
	return e.shard, ok
}

// All lists the current shards, in no particular order.
func (s *Set[S]) All() []S {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]S, 0, len(s.shards))
	for _, e := range s.shards {
		out = append(out, e.shard)
	}
	return out
}
