package producer

import (
	"errors"
	"fmt"
	"sort"
)

// DefaultExpirationMs is producer.id.expiration.ms's default (one day).
const DefaultExpirationMs int64 = 86400000

// DefaultExpirationCheckIntervalMs is
// producer.id.expiration.check.interval.ms's default (ten minutes).
const DefaultExpirationCheckIntervalMs int64 = 600000

// Snapshots is the set of snapshot files of one partition, by offset. The
// log implements it over its directory; a State only decides which to
// read, write and delete.
type Snapshots interface {
	// Offsets lists the offsets of the existing snapshots, ascending.
	Offsets() []int64
	// Read returns the bytes of the snapshot at offset.
	Read(offset int64) ([]byte, error)
	// Write creates (or replaces) the snapshot at offset; with sync it is
	// fsynced before Write returns.
	Write(offset int64, data []byte, sync bool) error
	// Remove deletes the snapshot at offset (no error if it is gone).
	Remove(offset int64) error
}

// State is the producer state of one partition (Kafka's
// ProducerStateManager): the producers, and two offsets — the map end offset
// (the log offset the state corresponds to) and the offset of the newest
// snapshot written or loaded, which together decide whether a snapshot is
// due.
type State struct {
	partition    string
	expirationMs int64
	snaps        Snapshots

	producers map[int64]*Entry
	mapEnd    int64
	lastSnap  int64

	// table emulates the java.util.HashMap Kafka keeps producers in, so
	// that Entries (and snapshots) list them in Kafka's order.
	table hashTable

	// ongoing are the open transactions, unreplicated the closed ones whose
	// marker the high watermark has not passed (txns.go).
	ongoing      txnList
	unreplicated txnList

	// verifying are the pending transaction verifications (verify.go);
	// nextGuard is the last guard handed out.
	verifying map[int64]*Verification
	nextGuard Guard
}

// NewState returns an empty state whose snapshots live in snaps.
// expirationMs is producer.id.expiration.ms (<= 0 means the default).
func NewState(partition string, expirationMs int64, snaps Snapshots) *State {
	if expirationMs <= 0 {
		expirationMs = DefaultExpirationMs
	}
	return &State{partition: partition, expirationMs: expirationMs, snaps: snaps, producers: map[int64]*Entry{}}
}

// SetExpirationMs changes producer.id.expiration.ms (<= 0 means the default).
func (s *State) SetExpirationMs(ms int64) {
	if ms <= 0 {
		ms = DefaultExpirationMs
	}
	s.expirationMs = ms
}

// Len is the number of producers.
func (s *State) Len() int { return len(s.producers) }

// IsEmpty reports that no producer is known and no closed transaction
// waits for replication.
func (s *State) IsEmpty() bool { return len(s.producers) == 0 && len(s.unreplicated) == 0 }

// Entry returns a producer's state. The entry must not be modified.
func (s *State) Entry(pid int64) (*Entry, bool) {
	e, ok := s.producers[pid]
	return e, ok
}

// FindDuplicate returns the retained batch that a client batch repeats
// (same producer, epoch, first and last sequence), if any.
func (s *State) FindDuplicate(pid int64, epoch int16, firstSeq, lastSeq int32) (BatchMetadata, bool) {
	e, ok := s.producers[pid]
	if !ok {
		return BatchMetadata{}, false
	}
	return e.FindDuplicate(epoch, firstSeq, lastSeq)
}

// PrepareUpdate starts the validation of one append's batches for pid.
func (s *State) PrepareUpdate(pid int64, origin Origin) *Append {
	cur, ok := s.producers[pid]
	if !ok {
		e := newEntry(pid)
		cur = &e
	}
	upd := cur.clone()
	upd.batches = upd.batches[:0]
	a := &Append{partition: s.partition, origin: origin, current: cur, updated: upd}
	if v, ok := s.verifying[pid]; ok {
		vc := *v
		a.verifying = &vc
	}
	return a
}

// Update applies a validated append (after its batches were written).
func (s *State) Update(a *Append) {
	if cur, ok := s.producers[a.ProducerID()]; ok {
		cur.update(a.updated)
	} else {
		s.put(a.updated.clone())
	}
	for _, first := range a.started {
		s.ongoing.put(TxnMetadata{ProducerID: a.ProducerID(), FirstOffset: first, LastOffset: -1})
	}
}

// MapEndOffset is the log offset the state corresponds to.
func (s *State) MapEndOffset() int64 { return s.mapEnd }

// SetMapEndOffset records that the state corresponds to offset (after an
// append, whether or not it had producer batches, and at a roll).
func (s *State) SetMapEndOffset(offset int64) { s.mapEnd = offset }

// LastSnapOffset is the offset of the newest snapshot written or loaded.
func (s *State) LastSnapOffset() int64 { return s.lastSnap }

// IsExpired reports whether a producer without an open transaction has
// written nothing for producer.id.expiration.ms.
func (s *State) IsExpired(e *Entry, now int64) bool {
	return e.CurrentTxnFirstOffset < 0 && now-e.LastTimestamp >= s.expirationMs
}

// RemoveExpired forgets the expired producers, and the verifications as
// old, and returns how many producers it forgot.
func (s *State) RemoveExpired(now int64) int {
	s.removeExpiredVerifications(now)
	n := 0
	for pid, e := range s.producers {
		if s.IsExpired(e, now) {
			s.remove(pid)
			n++
		}
	}
	return n
}

// Entries lists the producers in the order Kafka's hash map iterates them.
func (s *State) Entries() []*Entry {
	out := make([]*Entry, 0, len(s.producers))
	for _, e := range s.producers {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		return s.table.less(out[i].ProducerID, out[i].ins, out[j].ProducerID, out[j].ins)
	})
	return out
}

// Load adds the producers read from a snapshot, skipping expired ones.
func (s *State) Load(entries []Entry, now int64) {
	for i := range entries {
		e := entries[i].clone()
		if !s.IsExpired(e, now) {
			s.put(e)
			if e.CurrentTxnFirstOffset >= 0 {
				s.ongoing.put(TxnMetadata{ProducerID: e.ProducerID, FirstOffset: e.CurrentTxnFirstOffset, LastOffset: -1})
			}
		}
	}
}

// clear forgets every producer (the hash table keeps its size).
func (s *State) clear() {
	clear(s.producers)
	s.table.clear()
	s.ongoing, s.unreplicated = s.ongoing[:0], s.unreplicated[:0]
}

// TakeSnapshot writes a snapshot at the map end offset if it is past the
// newest snapshot, and reports whether it wrote one.
func (s *State) TakeSnapshot(sync bool) (bool, error) {
	if s.mapEnd <= s.lastSnap {
		return false, nil
	}
	if err := s.snaps.Write(s.mapEnd, EncodeSnapshot(s.Entries()), sync); err != nil {
		return false, err
	}
	s.lastSnap = s.mapEnd
	return true, nil
}

// LatestSnapshotOffset is the offset of the newest existing snapshot.
func (s *State) LatestSnapshotOffset() (int64, bool) {
	offs := s.snaps.Offsets()
	if len(offs) == 0 {
		return 0, false
	}
	return offs[len(offs)-1], true
}

// TruncateAndReload makes the state the one at logEnd: snapshots past
// logEnd or at or below logStart are deleted and, unless the state already
// is at logEnd, it is reloaded from the newest remaining snapshot (the
// caller then replays the log from MapEndOffset to logEnd). In-memory
// producers are not dropped when the log start moves, only snapshots.
func (s *State) TruncateAndReload(logStart, logEnd, now int64) error {
	for _, off := range s.snaps.Offsets() {
		if off > logEnd || off <= logStart {
			if err := s.snaps.Remove(off); err != nil {
				return err
			}
		}
	}
	if logEnd == s.mapEnd {
		s.OnLogStartOffsetIncremented(logStart)
		return nil
	}
	s.clear()
	return s.loadFromSnapshot(logStart, now)
}

// loadFromSnapshot loads the newest readable snapshot; corrupt ones are
// deleted on the way. Without one the state starts empty at logStart.
func (s *State) loadFromSnapshot(logStart, now int64) error {
	for {
		off, ok := s.LatestSnapshotOffset()
		if !ok {
			s.lastSnap, s.mapEnd = logStart, logStart
			return nil
		}
		data, err := s.snaps.Read(off)
		if err != nil {
			return err
		}
		entries, err := DecodeSnapshot(data)
		if errors.Is(err, ErrCorruptSnapshot) {
			if rerr := s.snaps.Remove(off); rerr != nil {
				return rerr
			}
			continue
		}
		if err != nil {
			return err
		}
		s.Load(entries, now)
		s.lastSnap, s.mapEnd = off, off
		return nil
	}
}

// OnLogStartOffsetIncremented brings the map end offset up to a new log
// start offset.
func (s *State) OnLogStartOffsetIncremented(logStart int64) {
	s.removeUnreplicated(logStart)
	s.mapEnd = max(s.mapEnd, logStart)
	if off, ok := s.LatestSnapshotOffset(); ok {
		s.lastSnap = off
	} else {
		s.lastSnap = logStart
	}
}

// TruncateFullyAndStartAt forgets everything and deletes every snapshot:
// the log restarts empty at offset.
func (s *State) TruncateFullyAndStartAt(offset int64) error {
	s.clear()
	for _, off := range s.snaps.Offsets() {
		if err := s.snaps.Remove(off); err != nil {
			return err
		}
	}
	s.lastSnap, s.mapEnd = 0, offset
	return nil
}

// RemoveStraySnapshots deletes the snapshots that match no segment base
// offset, except the newest such one when it lies above every base (the one
// a clean shutdown wrote at the log end offset).
func (s *State) RemoveStraySnapshots(segmentBases []int64) error {
	bases := make(map[int64]bool, len(segmentBases))
	maxBase := int64(-1)
	for _, b := range segmentBases {
		bases[b] = true
		maxBase = max(maxBase, b)
	}
	stray := int64(-1)
	for _, off := range s.snaps.Offsets() {
		if bases[off] {
			continue
		}
		if stray >= 0 {
			if err := s.snaps.Remove(stray); err != nil {
				return err
			}
		}
		stray = off
	}
	if stray >= 0 && len(segmentBases) > 0 && stray < maxBase {
		return s.snaps.Remove(stray)
	}
	return nil
}

// RemoveSnapshot deletes the snapshot at offset, if any (its segment was
// deleted).
func (s *State) RemoveSnapshot(offset int64) error { return s.snaps.Remove(offset) }

// put inserts a producer that is not in the map.
func (s *State) put(e *Entry) {
	if _, ok := s.producers[e.ProducerID]; ok {
		panic(fmt.Sprintf("producer: %d inserted twice", e.ProducerID))
	}
	s.producers[e.ProducerID] = e
	e.ins = s.table.insert(e.ProducerID)
}

func (s *State) remove(pid int64) {
	delete(s.producers, pid)
	s.table.remove(pid)
}
