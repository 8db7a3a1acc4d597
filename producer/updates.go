package producer

import (
	"sort"

	"github.com/kbroker/kbroker/record"
)

// Updates collects the producer batches of one append, or of one read of
// the log being replayed, with one Append per producer (Kafka's
// updatedProducers map), and applies them together once the batches are
// written. New producers enter the State in the order Kafka's map of
// updates iterates them.
type Updates struct {
	s       *State
	origin  Origin
	appends map[int64]*Append
	ranks   map[int64]uint64
	table   hashTable
	// Completed lists the transactions the batches' markers closed, in
	// batch order.
	Completed []CompletedTxn
}

// NewUpdates starts collecting batches appended with origin.
func (s *State) NewUpdates(origin Origin) *Updates {
	return &Updates{s: s, origin: origin}
}

// Add checks one batch carrying a producer id (offsets assigned) against
// the state left by the earlier batches and records it.
func (u *Updates) Add(b record.Batch) error {
	pid := b.ProducerID()
	a, ok := u.appends[pid]
	if !ok {
		if u.appends == nil {
			u.appends, u.ranks = map[int64]*Append{}, map[int64]uint64{}
		}
		a = u.s.PrepareUpdate(pid, u.origin)
		u.appends[pid] = a
		u.ranks[pid] = u.table.insert(pid)
	}
	done, err := a.AppendBatch(b)
	if err != nil {
		return err
	}
	if b.IsTransactional() {
		// A transactional batch opens (or continues) a transaction, a
		// marker ends it: either way the pending verification is over.
		u.s.endVerification(pid)
	}
	if done != nil {
		u.Completed = append(u.Completed, *done)
	}
	return nil
}

// Empty reports that no batch was added.
func (u *Updates) Empty() bool { return len(u.appends) == 0 }

// Apply applies every producer's append to the State.
func (u *Updates) Apply() {
	if len(u.appends) == 1 {
		for _, a := range u.appends {
			u.s.Update(a)
		}
		return
	}
	pids := make([]int64, 0, len(u.appends))
	for pid := range u.appends {
		pids = append(pids, pid)
	}
	sort.Slice(pids, func(i, j int) bool { return u.table.less(pids[i], u.ranks[pids[i]], pids[j], u.ranks[pids[j]]) })
	for _, pid := range pids {
		u.s.Update(u.appends[pid])
	}
}
