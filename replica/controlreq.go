package replica

import (
	"fmt"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

// leaderAndIsrPartition flattens one partition of a LeaderAndIsr request.
type leaderAndIsrPartition struct {
	tp    model.TopicPartition
	id    model.TopicID
	state partition.State
}

func toBrokerIDs(ids []int32) []model.BrokerID {
	out := make([]model.BrokerID, len(ids))
	for i, v := range ids {
		out[i] = model.BrokerID(v)
	}
	return out
}

func flattenLeaderAndIsr(req *kmsg.LeaderAndISRRequest) []leaderAndIsrPartition {
	conv := func(topic string, id model.TopicID, p kmsg.LeaderAndISRRequestTopicPartition) leaderAndIsrPartition {
		return leaderAndIsrPartition{
			tp: model.TopicPartition{Topic: topic, Partition: p.Partition},
			id: id,
			state: partition.State{
				LeaderAndISR: model.LeaderAndISR{
					Leader: model.BrokerID(p.Leader), LeaderEpoch: model.LeaderEpoch(p.LeaderEpoch),
					ISR: toBrokerIDs(p.ISR), ControllerEpoch: p.ControllerEpoch, PartitionEpoch: p.ZKVersion,
					LeaderRecoveryState: p.LeaderRecoveryState,
				},
				Replicas: toBrokerIDs(p.Replicas), Adding: toBrokerIDs(p.AddingReplicas),
				Removing: toBrokerIDs(p.RemovingReplicas), IsNew: p.IsNew,
			},
		}
	}
	var out []leaderAndIsrPartition
	for _, p := range req.PartitionStates { // v0-v1
		out = append(out, conv(p.Topic, model.ZeroTopicID, p))
	}
	for _, t := range req.TopicStates { // v2+
		for _, p := range t.PartitionStates {
			out = append(out, conv(t.Topic, model.TopicID(t.TopicID), p))
		}
	}
	return out
}

// PartitionResult is the outcome of a controller request for one partition.
type PartitionResult struct {
	TP      model.TopicPartition
	TopicID model.TopicID
	Err     error
}

// LeaderAndIsr applies a LeaderAndIsr request (Kafka's
// becomeLeaderOrFollower). A request-level fault (stale broker or
// controller epoch) is returned as err with no partition results.
func (m *Manager) LeaderAndIsr(req *kmsg.LeaderAndISRRequest) ([]PartitionResult, error) {
	parts := flattenLeaderAndIsr(req)
	errs := make([]error, len(parts))
	if err := m.CheckControllerRequest(req.ControllerEpoch, req.BrokerEpoch); err != nil {
		m.log.Warn().Err(err).Msg("ignoring LeaderAndIsr")
		return nil, err
	}
	m.mu.Lock()
	for _, l := range req.LiveLeaders {
		m.leaders[model.BrokerID(l.BrokerID)] = hostPort(l.Host, l.Port)
	}
	m.mu.Unlock()

	var toLead, toFollow []int
	for i, lp := range parts {
		if !slices.Contains(lp.state.Replicas, m.opts.LocalID) {
			errs[i] = kerr.UnknownTopicOrPartition
			m.log.Warn().Str("partition", lp.tp.String()).Msg("ignoring LeaderAndIsr: the local replica is not in the assignment")
			continue
		}
		p, err := m.getOrCreatePartition(lp.tp, lp.id)
		if err != nil {
			errs[i] = err
			continue
		}
		current := p.LeaderEpoch()
		switch {
		case lp.state.LeaderEpoch > current:
		case lp.state.LeaderEpoch < current:
			errs[i] = kerr.StaleControllerEpoch
			m.log.Warn().Str("partition", lp.tp.String()).Int32("requestEpoch", int32(lp.state.LeaderEpoch)).Int32("currentEpoch", int32(current)).
				Msg("ignoring LeaderAndIsr with an older leader epoch")
			continue
		default:
			errs[i] = kerr.StaleControllerEpoch
			continue
		}
		if lp.state.Leader == m.opts.LocalID {
			toLead = append(toLead, i)
		} else {
			toFollow = append(toFollow, i)
		}
	}
	for _, i := range toLead {
		p, _ := m.Partition(parts[i].tp)
		m.removeFetcher(parts[i].tp)
		if _, err := p.MakeLeader(parts[i].state); err != nil {
			errs[i] = err
			continue
		}
		if parts[i].state.LeaderRecoveryState == 1 {
			m.log.Warn().Str("partition", parts[i].tp.String()).Int32("leaderEpoch", int32(parts[i].state.LeaderEpoch)).
				Int64("logEndOffset", int64(p.LogEndOffset())).Int64("highWatermark", int64(p.HighWatermark())).
				Msgf("unclean leader election: this out-of-sync replica now leads %s from offset %d; records the previous leaders held at or after offset %d are lost",
					parts[i].tp, p.LogEndOffset(), p.LogEndOffset())
		}
	}
	for _, i := range toFollow {
		p, _ := m.Partition(parts[i].tp)
		changed, err := p.MakeFollower(parts[i].state)
		if err != nil {
			errs[i] = err
			continue
		}
		if changed {
			m.removeFetcher(parts[i].tp)
			if parts[i].state.Leader >= 0 {
				m.addFetcher(parts[i].state.Leader, p)
			}
		}
	}
	m.log.Info().Int("leaders", len(toLead)).Int("followers", len(toFollow)).Int32("controllerEpoch", req.ControllerEpoch).Msg("applied LeaderAndIsr")

	out := make([]PartitionResult, len(parts))
	for i, lp := range parts {
		out[i] = PartitionResult{TP: lp.tp, TopicID: lp.id, Err: errs[i]}
	}
	return out, nil
}

func (m *Manager) getOrCreatePartition(tp model.TopicPartition, id model.TopicID) (*partition.Partition, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.partitions[tp]; ok {
		return p, nil
	}
	p, err := partition.Open(m.opts.Logs, tp, id, m.opts.LocalID, m.opts.Now)
	if err != nil {
		return nil, err
	}
	p.Configure(m.partitionHooks(tp.Topic))
	m.partitions[tp] = p
	return p, nil
}

// StopReplica applies a StopReplica request: fetching stops, the role is
// dropped and, for deletions, the partition and its log go.
func (m *Manager) StopReplica(req *kmsg.StopReplicaRequest) ([]PartitionResult, error) {
	if err := m.CheckControllerRequest(req.ControllerEpoch, req.BrokerEpoch); err != nil {
		return nil, err
	}
	type stop struct {
		tp     model.TopicPartition
		epoch  int32
		delete bool
	}
	var stops []stop
	for _, t := range req.Topics {
		switch {
		case req.Version >= 3:
			for _, ps := range t.PartitionStates {
				stops = append(stops, stop{model.TopicPartition{Topic: t.Topic, Partition: ps.Partition}, ps.LeaderEpoch, ps.Delete})
			}
		case req.Version >= 1:
			for _, p := range t.Partitions {
				stops = append(stops, stop{model.TopicPartition{Topic: t.Topic, Partition: p}, -1, req.DeletePartitions})
			}
		default:
			stops = append(stops, stop{model.TopicPartition{Topic: t.Topic, Partition: t.Partition}, -1, req.DeletePartitions})
		}
	}
	out := make([]PartitionResult, len(stops))
	for i, s := range stops {
		out[i] = PartitionResult{TP: s.tp, Err: m.stopPartition(s.tp, s.epoch, s.delete)}
	}
	return out, nil
}

func (m *Manager) stopPartition(tp model.TopicPartition, epoch int32, del bool) error {
	p, ok := m.Partition(tp)
	if ok && epoch >= 0 && epoch < int32(p.LeaderEpoch()) {
		return kerr.FencedLeaderEpoch
	}
	m.removeFetcher(tp)
	if ok {
		p.Stop()
	}
	if !del {
		return nil
	}
	m.mu.Lock()
	delete(m.partitions, tp)
	m.mu.Unlock()
	if err := m.opts.Logs.DeleteLog(tp); err != nil {
		m.log.Error().Err(err).Str("partition", tp.String()).Msg("deleting a stopped replica's log")
		return fmt.Errorf("deleting the log of %s: %v: %w", tp, err, kerr.KafkaStorageError)
	}
	return nil
}
