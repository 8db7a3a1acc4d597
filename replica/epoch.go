package replica

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

// LastOffsetForLeaderEpoch answers one partition of OffsetForLeaderEpoch.
// A partition hosted here answers itself (partition.LastOffsetForLeaderEpoch:
// storage, epoch fencing, leadership, the epoch cache), whatever the
// metadata cache says; one not hosted here is NOT_LEADER_OR_FOLLOWER when
// known reports that the cluster has it, UNKNOWN_TOPIC_OR_PARTITION
// otherwise — Kafka's order. Consumers (replica id -1) and followers are
// answered alike, by the leader only.
func (m *Manager) LastOffsetForLeaderEpoch(tp model.TopicPartition, currentLeaderEpoch, requested int32, known func(model.TopicPartition) bool) (partition.EpochEndOffset, error) {
	if p, ok := m.Partition(tp); ok {
		return p.LastOffsetForLeaderEpoch(currentLeaderEpoch, requested)
	}
	undefined := partition.EpochEndOffset{Epoch: model.NoLeaderEpoch, EndOffset: model.NoOffset}
	if known != nil && known(tp) {
		return undefined, fmt.Errorf("this broker does not host %s: %w", tp, kerr.NotLeaderForPartition)
	}
	return undefined, fmt.Errorf("%s is not known: %w", tp, kerr.UnknownTopicOrPartition)
}
