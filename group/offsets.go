package group

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
)

// CommitOffset is one partition of an OffsetCommit.
type CommitOffset struct {
	Topic       string
	Partition   int32
	Offset      int64
	LeaderEpoch int32 // -1 when not given
	Metadata    string
	Timestamp   int64 // OffsetCommit v1's commit timestamp; -1 when not given
}

// CommitRequest is an OffsetCommit whose partitions passed the api
// layer's checks (known topic partitions).
type CommitRequest struct {
	Group       string
	MemberID    string
	InstanceID  *string
	Generation  int32 // -1: a consumer outside group management
	RetentionMs int64 // OffsetCommit v2-v4; -1 for the broker's retention
	Offsets     []CommitOffset
}

// CommitOffsets stores committed offsets (Kafka's handleCommitOffsets)
// and returns an error (or nil) per partition of req.Offsets.
func (c *Coordinator) CommitOffsets(ctx context.Context, req CommitRequest) []error {
	errs := make([]error, len(req.Offsets))
	all := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	g, err := c.lookup(req.Group, req.Generation < 0)
	if err != nil {
		return all(err)
	}
	if g == nil {
		// A known generation for a group that does not exist: an old
		// member's late commit.
		return all(kerr.IllegalGeneration)
	}
	if err := g.checkCommit(req); err != nil {
		g.mu.Unlock()
		return all(err)
	}
	entries, stored, idx := c.offsetRecords(req.Group, req.Offsets, req.RetentionMs, errs)
	if len(entries) == 0 {
		g.mu.Unlock()
		return errs
	}
	g.pendingCommits++
	for _, i := range idx {
		g.pendingPlain[topicPartition{req.Offsets[i].Topic, req.Offsets[i].Partition}]++
	}
	shard := g.s
	g.mu.Unlock()

	base, err := c.append(shard, entries)
	appendErr := storeOffsetsError(err)

	g.mu.Lock()
	defer g.mu.Unlock()
	g.pendingCommits--
	for _, i := range idx {
		tp := topicPartition{req.Offsets[i].Topic, req.Offsets[i].Partition}
		if g.pendingPlain[tp]--; g.pendingPlain[tp] <= 0 {
			delete(g.pendingPlain, tp)
		}
	}
	for n, i := range idx {
		if appendErr != nil {
			errs[i] = appendErr
			continue
		}
		if g.state == Dead {
			continue // unloaded meanwhile; the record is in the log
		}
		o := req.Offsets[i]
		g.putOffset(topicPartition{o.Topic, o.Partition}, offsetEntry{CommittedOffset: stored[n], logOffset: base + int64(n)})
	}
	return errs
}

// offsetRecords builds a commit's records: one per offset whose metadata
// fits offset.metadata.max.bytes (the others get OFFSET_METADATA_TOO_LARGE
// in errs), committed now (or at the offset's v1 timestamp) and expiring
// retentionMs later (never when < 0). It returns the values as they read
// back and, for each record, the index of its offset.
func (c *Coordinator) offsetRecords(groupID string, offs []CommitOffset, retentionMs int64, errs []error) ([]Entry, []CommittedOffset, []int) {
	now := c.cfg.Now().UnixMilli()
	var entries []Entry
	var stored []CommittedOffset
	var idx []int
	for i, o := range offs {
		if len(o.Metadata) > c.cfg.OffsetMetadataMaxBytes && c.cfg.OffsetMetadataMaxBytes >= 0 {
			errs[i] = kerr.OffsetMetadataTooLarge
			continue
		}
		v := CommittedOffset{Offset: o.Offset, LeaderEpoch: o.LeaderEpoch, Metadata: o.Metadata,
			CommitTimestamp: now, ExpireTimestamp: NoExpireTimestamp}
		if o.Timestamp >= 0 {
			v.CommitTimestamp = o.Timestamp
		}
		if retentionMs >= 0 {
			v.ExpireTimestamp = now + retentionMs
		}
		entries = append(entries, Entry{Key: OffsetKeyBytes(groupID, o.Topic, o.Partition), Value: OffsetValueBytes(v)})
		stored = append(stored, v.asStored())
		idx = append(idx, i)
	}
	return entries, stored, idx
}

// putOffset records a committed offset unless a later record of the same
// partition was applied already (concurrent commits finish in any order).
func (g *group) putOffset(tp topicPartition, e offsetEntry) {
	if cur, ok := g.offsets[tp]; ok && cur.logOffset > e.logOffset {
		return
	}
	g.offsets[tp] = e
}

// checkCommit applies Kafka's rules for who may commit (doCommitOffsets).
func (g *group) checkCommit(req CommitRequest) error {
	switch {
	case g.isStaticFenced(req.InstanceID, req.MemberID):
		return kerr.FencedInstanceID
	case req.Generation < 0 && g.state == Empty:
		return nil // offsets only: the group is not managed by Kafka
	case req.MemberID != "" && g.members[req.MemberID] == nil:
		return kerr.UnknownMemberID
	case req.Generation >= 0 && req.Generation != g.generation:
		return kerr.IllegalGeneration
	}
	switch g.state {
	case CompletingRebalance:
		return kerr.RebalanceInProgress
	case Stable, PreparingRebalance:
		if m := g.members[req.MemberID]; m != nil {
			g.armHeartbeat(m, m.sessionTimeout, false)
		}
	}
	return nil
}

// TopicPartitions names partitions of one topic.
type TopicPartitions struct {
	Topic      string
	Partitions []int32
}

// FetchedOffset is one partition of an OffsetFetch answer.
type FetchedOffset struct {
	Topic       string
	Partition   int32
	Offset      int64 // -1 when nothing is committed
	LeaderEpoch int32 // -1 when unknown
	Metadata    string
	Err         error
}

// FetchOffsets answers OffsetFetch for one group: the given partitions, or
// every committed offset when topics is nil. A partition without a
// committed offset gets -1, "" and -1, no error. The error is a group
// level one (coordinator not available, not here, loading). With
// requireStable, a partition with a commit in flight or in an open
// transaction answers UNSTABLE_OFFSET_COMMIT (offset -1), as Kafka's
// getOffsets does.
func (c *Coordinator) FetchOffsets(groupID string, requireStable bool, topics []TopicPartitions) ([]FetchedOffset, error) {
	g, err := c.lookup(groupID, false)
	if err != nil {
		return nil, err
	}
	var out []FetchedOffset
	if g == nil {
		for _, t := range topics {
			for _, p := range t.Partitions {
				out = append(out, FetchedOffset{Topic: t.Topic, Partition: p, Offset: -1, LeaderEpoch: -1})
			}
		}
		return out, nil
	}
	defer g.mu.Unlock()
	if topics == nil {
		for tp, o := range g.offsets {
			f := FetchedOffset{Topic: tp.topic, Partition: tp.partition, Offset: o.Offset, LeaderEpoch: o.LeaderEpoch, Metadata: o.Metadata}
			if requireStable && g.hasPending(tp) {
				f = FetchedOffset{Topic: tp.topic, Partition: tp.partition, Offset: -1, LeaderEpoch: -1, Err: kerr.UnstableOffsetCommit}
			}
			out = append(out, f)
		}
		sort.Slice(out, func(i, j int) bool {
			if out[i].Topic != out[j].Topic {
				return out[i].Topic < out[j].Topic
			}
			return out[i].Partition < out[j].Partition
		})
		return out, nil
	}
	for _, t := range topics {
		for _, p := range t.Partitions {
			f := FetchedOffset{Topic: t.Topic, Partition: p, Offset: -1, LeaderEpoch: -1}
			tp := topicPartition{t.Topic, p}
			if requireStable && g.hasPending(tp) {
				f.Err = kerr.UnstableOffsetCommit
			} else if o, ok := g.offsets[tp]; ok {
				f.Offset, f.LeaderEpoch, f.Metadata = o.Offset, o.LeaderEpoch, o.Metadata
			}
			out = append(out, f)
		}
	}
	return out, nil
}
