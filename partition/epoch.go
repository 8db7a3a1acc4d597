package partition

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

// LastOffsetForLeaderEpoch answers one partition of OffsetForLeaderEpoch
// (KIP-101/KIP-320) as Kafka 3.9 does, for consumers and followers alike:
//
//   - an offline log is KAFKA_STORAGE_ERROR;
//   - currentLeaderEpoch is checked first (only -1 skips it): older than
//     this replica's epoch is FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH;
//   - then only the leader answers (NOT_LEADER_OR_FOLLOWER elsewhere, even
//     on a follower whose epoch matched);
//   - the answer is the epoch cache's end offset for requested: the log end
//     offset for the latest epoch, the start of the next higher epoch
//     paired with the largest epoch <= requested, the requested epoch and
//     the first entry's start when requested is older than every entry, and
//     (-1, -1) when requested is -1 or newer than every entry.
func (p *Partition) LastOffsetForLeaderEpoch(currentLeaderEpoch, requested int32) (EpochEndOffset, error) {
	undefined := EpochEndOffset{Epoch: model.NoLeaderEpoch, EndOffset: model.NoOffset}
	if err := p.log.Err(); err != nil {
		return undefined, fmt.Errorf("the log of %s is offline: %v: %w", p.tp, err, kerr.KafkaStorageError)
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	if err := p.checkRequestEpochLocked(currentLeaderEpoch); err != nil {
		return undefined, err
	}
	if p.role != RoleLeader {
		return undefined, p.notLeader()
	}
	epoch, end := p.log.EndOffsetForEpoch(model.LeaderEpoch(requested))
	return EpochEndOffset{Epoch: epoch, EndOffset: end}, nil
}

// checkRequestEpochLocked is the current-leader-epoch fence of requests
// where only -1 means "no epoch" (OffsetForLeaderEpoch, ListOffsets v4+, as Kafka compares
// the field with NO_PARTITION_LEADER_EPOCH): any other negative value is
// simply older than the replica's epoch.
func (p *Partition) checkRequestEpochLocked(current int32) error {
	if current < -1 && current < int32(p.state.LeaderEpoch) {
		return fmt.Errorf("%s: request epoch %d is older than the leader epoch %d: %w", p.tp, current, p.state.LeaderEpoch, kerr.FencedLeaderEpoch)
	}
	return p.checkLeaderEpochLocked(current)
}
