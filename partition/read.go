package partition

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
)

// Isolation levels of Fetch and ListOffsets.
const (
	ReadUncommitted int8 = 0
	ReadCommitted   int8 = 1
)

// FetchParams describe one partition of a Fetch request.
type FetchParams struct {
	// ReplicaID is the fetching follower's broker id, -1 for a consumer.
	ReplicaID          model.BrokerID
	FetchOffset        int64
	MaxBytes           int
	MinOneBatch        bool
	CurrentLeaderEpoch int32
	// LastFetchedEpoch is the epoch of the follower's last batch (-1 if
	// none or unknown), for the diverging-epoch check.
	LastFetchedEpoch int32
	Isolation        int8
}

// EpochEndOffset is a diverging epoch: the follower's log differs from the
// leader's after EndOffset of Epoch.
type EpochEndOffset struct {
	Epoch     model.LeaderEpoch
	EndOffset model.Offset
}

// FetchResult is a partition's part of a Fetch response (the last stable
// offset and, for read_committed, the aborted transactions are in the
// ReadResult).
type FetchResult struct {
	commitlog.ReadResult
	DivergingEpoch *EpochEndOffset
}

// Read serves a fetch. Consumers read from the leader up to the high
// watermark (read_uncommitted) or the last stable offset (read_committed,
// with the aborted transactions of the range); followers up to the log end
// offset, and their fetch offset tells the leader how far they are (which
// may advance the high watermark).
func (p *Partition) Read(fp FetchParams) (FetchResult, error) {
	if fp.ReplicaID >= 0 {
		return p.readForFollower(fp)
	}
	p.mu.RLock()
	if p.role != RoleLeader {
		p.mu.RUnlock()
		return FetchResult{}, p.notLeader()
	}
	err := p.checkLeaderEpochLocked(fp.CurrentLeaderEpoch)
	p.mu.RUnlock()
	if err != nil {
		return FetchResult{}, err
	}
	if fp.Isolation == ReadCommitted {
		r, err := p.log.ReadCommitted(model.Offset(fp.FetchOffset), fp.MaxBytes, fp.MinOneBatch)
		return FetchResult{ReadResult: r}, err
	}
	hw := p.log.HighWatermark()
	r, err := p.log.Read(model.Offset(fp.FetchOffset), fp.MaxBytes, hw, fp.MinOneBatch)
	return FetchResult{ReadResult: r}, err
}

func (p *Partition) readForFollower(fp FetchParams) (FetchResult, error) {
	p.mu.Lock()
	if p.role != RoleLeader {
		p.mu.Unlock()
		return FetchResult{}, p.notLeader()
	}
	if err := p.checkLeaderEpochLocked(fp.CurrentLeaderEpoch); err != nil {
		p.mu.Unlock()
		return FetchResult{}, err
	}
	f, ok := p.followers[fp.ReplicaID]
	if !ok {
		p.mu.Unlock()
		return FetchResult{}, fmt.Errorf("replica %d is not recognized as a valid replica of %s: %w", fp.ReplicaID, p.tp, kerr.NotLeaderForPartition)
	}
	leo := int64(p.log.LogEndOffset())
	if fp.LastFetchedEpoch >= 0 {
		epoch, end := p.log.EndOffsetForEpoch(model.LeaderEpoch(fp.LastFetchedEpoch))
		if int32(epoch) < fp.LastFetchedEpoch || int64(end) < fp.FetchOffset {
			p.mu.Unlock()
			return FetchResult{
				ReadResult: commitlog.ReadResult{HighWatermark: p.log.HighWatermark(), LogStartOffset: p.log.LogStartOffset(), LogEndOffset: model.Offset(leo),
					LastStableOffset: p.log.LastStableOffset(), FirstOffset: model.Offset(fp.FetchOffset), NextOffset: model.Offset(fp.FetchOffset)},
				DivergingEpoch: &EpochEndOffset{Epoch: epoch, EndOffset: end},
			}, nil
		}
	}
	p.updateFollowerLocked(f, fp.FetchOffset, leo)
	ch := p.maybeExpandISRLocked(fp.ReplicaID, f)
	if p.maybeIncrementHWLocked() {
		p.notifyLocked()
	}
	submit := p.hooks.Submit
	p.mu.Unlock()
	if ch != nil {
		submit(ch)
	}
	r, err := p.log.Read(model.Offset(fp.FetchOffset), fp.MaxBytes, model.Offset(leo), fp.MinOneBatch)
	return FetchResult{ReadResult: r}, err
}

// updateFollowerLocked records a follower fetch (Kafka's Replica rules):
// its log end offset is the fetch offset; it counts as caught up now if it
// reached the leader's LEO, or since its previous fetch if it reached the
// LEO the leader had then.
func (p *Partition) updateFollowerLocked(f *follower, fetchOffset, leaderLEO int64) {
	now := p.now()
	switch {
	case fetchOffset >= leaderLEO:
		f.lastCaughtUpTime = max(f.lastCaughtUpTime, now)
	case fetchOffset >= f.lastFetchLeaderLEO:
		f.lastCaughtUpTime = max(f.lastCaughtUpTime, f.lastFetchTime)
	}
	f.leo = fetchOffset
	f.lastFetchLeaderLEO = leaderLEO
	f.lastFetchTime = now
}

// Special ListOffsets timestamps.
const (
	LatestTimestamp   int64 = -1
	EarliestTimestamp int64 = -2
	MaxTimestamp      int64 = -3
	// EarliestLocalTimestamp is the tiered-storage "earliest local" query;
	// without tiered storage it is the log start.
	EarliestLocalTimestamp int64 = -4
)

// OffsetLookup is a ListOffsets answer for one partition.
type OffsetLookup struct {
	Offset      int64
	Timestamp   int64
	LeaderEpoch int32
}

// OffsetForTimestamp answers ListOffsets on the leader: -2 (and -4) the log
// start, -1 the high watermark (the last stable offset for read_committed;
// the log end offset for a follower asking, fromReplica), -3 the record with
// the largest timestamp, else the first record with a timestamp >= ts
// (offset -1 when there is none below the fetchable end, which is the last
// stable offset for read_committed, as Kafka's lastFetchableOffset).
func (p *Partition) OffsetForTimestamp(ts int64, isolation int8, currentLeaderEpoch int32, fromReplica bool) (OffsetLookup, error) {
	p.mu.RLock()
	if p.role != RoleLeader {
		p.mu.RUnlock()
		return OffsetLookup{}, p.notLeader()
	}
	if err := p.checkRequestEpochLocked(currentLeaderEpoch); err != nil {
		p.mu.RUnlock()
		return OffsetLookup{}, err
	}
	epoch := int32(p.state.LeaderEpoch)
	epochStart := p.leaderEpochStartOffset
	p.mu.RUnlock()

	fetchable := int64(p.log.HighWatermark())
	if fromReplica {
		fetchable = int64(p.log.LogEndOffset())
	} else if fetchable < epochStart {
		return OffsetLookup{}, fmt.Errorf("the high watermark %d of %s is behind the start offset %d of the leader epoch %d: %w",
			fetchable, p.tp, epochStart, epoch, kerr.OffsetNotAvailable)
	} else if isolation == ReadCommitted {
		fetchable = int64(p.log.LastStableOffset())
	}
	none := OffsetLookup{Offset: -1, Timestamp: -1, LeaderEpoch: -1}
	switch ts {
	case LatestTimestamp:
		return OffsetLookup{Offset: fetchable, Timestamp: -1, LeaderEpoch: epoch}, nil
	case EarliestTimestamp, EarliestLocalTimestamp:
		start := p.log.LogStartOffset()
		return OffsetLookup{Offset: int64(start), Timestamp: -1, LeaderEpoch: int32(p.log.EpochForOffset(start))}, nil
	case MaxTimestamp:
		off, t, ok, err := p.log.MaxTimestampOffset()
		if err != nil || !ok || int64(off) >= fetchable {
			return none, err
		}
		return OffsetLookup{Offset: int64(off), Timestamp: t, LeaderEpoch: int32(p.log.EpochForOffset(off))}, nil
	}
	if ts < 0 {
		return none, nil
	}
	off, t, ok, err := p.log.FindOffsetByTimestamp(ts)
	if err != nil || !ok || int64(off) >= fetchable {
		return none, err
	}
	return OffsetLookup{Offset: int64(off), Timestamp: t, LeaderEpoch: int32(p.log.EpochForOffset(off))}, nil
}
