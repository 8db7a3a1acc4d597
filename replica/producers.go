package replica

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

// ActiveProducers answers one partition of DescribeProducers (Kafka's
// ReplicaManager.activeProducerState): a partition hosted here lists its
// producers whatever its role; one not hosted here is
// NOT_LEADER_OR_FOLLOWER when known reports that the cluster has it,
// UNKNOWN_TOPIC_OR_PARTITION otherwise.
func (m *Manager) ActiveProducers(tp model.TopicPartition, known func(model.TopicPartition) bool) ([]partition.ActiveProducer, error) {
	if p, ok := m.Partition(tp); ok {
		return p.ActiveProducers(), nil
	}
	if known != nil && known(tp) {
		return nil, fmt.Errorf("this broker does not host %s: %w", tp, kerr.NotLeaderForPartition)
	}
	return nil, fmt.Errorf("%s is not known: %w", tp, kerr.UnknownTopicOrPartition)
}
