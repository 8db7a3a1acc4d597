package replica

import (
	"time"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

// partitionHooks connects a hosted partition to the manager's settings,
// the metadata cache's live set and the AlterPartition sender.
func (m *Manager) partitionHooks(topic string) partition.Hooks {
	return partition.Hooks{
		LagTimeMax: m.opts.LagTimeMax.Milliseconds(),
		MinISR:     func() int { return m.opts.MinISR(topic) },
		IsEligible: m.opts.IsBrokerAlive,
		Submit:     m.alter.submit,
	}
}

// isrExpiration is Kafka's isr-expiration task: every half
// replica.lag.time.max.ms each led partition drops the followers that have
// not been caught up for the lag time.
func (m *Manager) isrExpiration() {
	defer m.isrTasks.Done()
	t := time.NewTicker(m.opts.LagTimeMax / 2)
	defer t.Stop()
	for {
		select {
		case <-m.stopISR:
			return
		case <-t.C:
		}
		m.ShrinkISRs()
	}
}

// ShrinkISRs runs the ISR shrink check on every led partition once.
func (m *Manager) ShrinkISRs() {
	m.mu.RLock()
	parts := make([]*partition.Partition, 0, len(m.partitions))
	for _, p := range m.partitions {
		parts = append(parts, p)
	}
	m.mu.RUnlock()
	for _, p := range parts {
		if out := p.MaybeShrinkISR(); out != nil {
			m.log.Info().Str("partition", p.TopicPartition().String()).Interface("isr", p.ISR()).
				Interface("outOfSync", out).Int64("highWatermark", int64(p.HighWatermark())).
				Int64("logEndOffset", int64(p.LogEndOffset())).Msg("shrinking the ISR: followers not caught up within replica.lag.time.max.ms")
		}
	}
}

// fetcherKey names one replica fetcher: the source broker and the fetcher
// index (num.replica.fetchers per source broker).
type fetcherKey struct {
	leader model.BrokerID
	id     int32
}

// fetcherIndex is Kafka's fetcher assignment:
// abs(31 * topic.hashCode + partition) % num.replica.fetchers.
func fetcherIndex(tp model.TopicPartition, n int) int32 {
	return model.JavaAbs(31*model.JavaStringHash(tp.Topic)+tp.Partition) % int32(n)
}
