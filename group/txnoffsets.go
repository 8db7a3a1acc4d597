package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TxnCommitRequest is a TxnOffsetCommit whose partitions passed the api
// layer's checks (known topic partitions). MemberID, InstanceID and
// Generation are the v3+ fields ("", nil and -1 before).
type TxnCommitRequest struct {
	Group           string
	TransactionalID string
	ProducerID      int64
	ProducerEpoch   int16
	MemberID        string
	InstanceID      *string
	Generation      int32
	Offsets         []CommitOffset
}

// txnOffset is an offset committed in a transaction that has not ended:
// logOffset is -1 until its record is appended.
type txnOffset struct {
	CommittedOffset
	logOffset int64
}

// CommitTxnOffsets stores offsets committed in a transaction (Kafka's
// handleTxnCommitOffsets): the records are appended as one transactional
// batch of the producer and stay pending until the producer's COMMIT
// marker reaches the partition (they then become the committed offsets
// unless a later commit was applied) or its ABORT marker (dropped). It
// returns an error (or nil) per partition of req.Offsets.
func (c *Coordinator) CommitTxnOffsets(ctx context.Context, req TxnCommitRequest) []error {
	errs := make([]error, len(req.Offsets))
	all := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	if req.Group == "" {
		return all(kerr.InvalidGroupID)
	}
	g, err := c.lookup(req.Group, true)
	if err != nil {
		return all(err)
	}
	if err := g.checkTxnCommit(req); err != nil {
		g.mu.Unlock()
		return all(err)
	}
	// Transactional commits carry no retention and no v1 timestamp.
	entries, stored, idx := c.offsetRecords(req.Group, req.Offsets, -1, errs)
	pending := make([]txnOffset, len(stored))
	for n, v := range stored {
		pending[n] = txnOffset{CommittedOffset: v, logOffset: -1}
	}
	if len(entries) == 0 {
		g.mu.Unlock()
		return errs
	}
	// Kafka's prepareTxnOffsetCommit: pending from now, so require_stable
	// fetches see the partition as unstable while the append runs.
	prod := g.pendingTxn[req.ProducerID]
	if prod == nil {
		prod = map[topicPartition]txnOffset{}
		g.pendingTxn[req.ProducerID] = prod
	}
	for n, i := range idx {
		o := req.Offsets[i]
		prod[topicPartition{o.Topic, o.Partition}] = pending[n]
	}
	s := g.s
	g.mu.Unlock()
	s.addTxnGroup(req.ProducerID, req.Group)

	ctx, cancel := context.WithTimeout(s.ctx, c.cfg.CommitTimeout)
	defer cancel()
	base, err := c.log.AppendTxn(ctx, s.partition, req.TransactionalID, req.ProducerID, req.ProducerEpoch, entries)
	appendErr := storeOffsetsError(err)

	g.mu.Lock()
	defer g.mu.Unlock()
	prod = g.pendingTxn[req.ProducerID]
	for n, i := range idx {
		o := req.Offsets[i]
		tp := topicPartition{o.Topic, o.Partition}
		cur, ok := prod[tp]
		if appendErr != nil {
			errs[i] = appendErr
			// Kafka's failPendingTxnOffsetCommit: only a commit whose
			// append never finished is dropped.
			if ok && cur.logOffset < 0 {
				delete(prod, tp)
			}
			continue
		}
		// Kafka's onTxnOffsetCommitAppend: the entry may have been
		// replaced by a newer commit of the producer, or completed.
		if ok && cur.CommittedOffset == pending[n].CommittedOffset && cur.logOffset < 0 {
			cur.logOffset = base + int64(n)
			prod[tp] = cur
		}
	}
	if prod != nil && len(prod) == 0 {
		delete(g.pendingTxn, req.ProducerID)
	}
	return errs
}

// checkTxnCommit is Kafka's validateOffsetCommit for a transactional
// commit: member fields, when given, must match a known member of the
// current generation; without them anyone may commit.
func (g *group) checkTxnCommit(req TxnCommitRequest) error {
	if req.Generation < 0 && req.MemberID == "" && req.InstanceID == nil {
		return nil
	}
	switch {
	case g.isStaticFenced(req.InstanceID, req.MemberID):
		return kerr.FencedInstanceID
	case req.MemberID != "" && g.members[req.MemberID] == nil:
		return kerr.UnknownMemberID
	case req.Generation != g.generation:
		return kerr.IllegalGeneration
	}
	return nil
}

// completeTxn ends a producer's pending transactional commits (Kafka's
// completePendingTxnOffsetCommit): on commit each appended one replaces
// the committed offset unless that was appended later.
func (g *group) completeTxn(producerID int64, commit bool) {
	prod := g.pendingTxn[producerID]
	delete(g.pendingTxn, producerID)
	if !commit {
		return
	}
	for tp, o := range prod {
		if o.logOffset < 0 {
			continue // never appended (Kafka treats this as impossible)
		}
		g.putOffset(tp, offsetEntry{CommittedOffset: o.CommittedOffset, logOffset: o.logOffset})
	}
}

// hasPending tells whether an offset commit of tp is in flight or in an
// open transaction (Kafka's hasPendingOffsetCommitsForTopicPartition).
func (g *group) hasPending(tp topicPartition) bool {
	if g.pendingPlain[tp] > 0 {
		return true
	}
	for _, prod := range g.pendingTxn {
		if _, ok := prod[tp]; ok {
			return true
		}
	}
	return false
}

// hasAnyPending tells whether any offset commit is in flight or in an
// open transaction.
func (g *group) hasAnyPending() bool {
	return g.pendingCommits > 0 || len(g.pendingTxn) > 0
}

// addTxnGroup notes that a producer has pending offsets in a group.
func (s *shard) addTxnGroup(producerID int64, groupID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txnGroups == nil {
		s.txnGroups = map[int64]map[string]bool{}
	}
	if s.txnGroups[producerID] == nil {
		s.txnGroups[producerID] = map[string]bool{}
	}
	s.txnGroups[producerID][groupID] = true
}

// txnMarker is a marker written while its shard was loading.
type txnMarker struct {
	producerID int64
	commit     bool
}

// CompleteTxn is told that a COMMIT (commit true) or ABORT marker of a
// producer was written to __consumer_offsets partition p: the producer's
// pending transactional offsets of the partition's groups are committed
// or dropped (Kafka's handleTxnCompletion). A marker written while the
// partition loads is applied once it is loaded.
func (c *Coordinator) CompleteTxn(p int32, producerID int64, commit bool) {
	s, ok := c.shards.Get(p)
	if !ok {
		return
	}
	s.mu.Lock()
	if s.removed {
		s.mu.Unlock()
		return
	}
	if !s.loaded {
		s.early = append(s.early, txnMarker{producerID, commit})
		s.mu.Unlock()
		return
	}
	var groups []*group
	for id := range s.txnGroups[producerID] {
		if g := s.groups[id]; g != nil {
			groups = append(groups, g)
		}
	}
	delete(s.txnGroups, producerID)
	s.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		if g.state != Dead {
			g.completeTxn(producerID, commit)
		}
		g.mu.Unlock()
	}
}
