package txn

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// MarkerTransport delivers WriteTxnMarkers requests to partition leaders
// (the broker wires it over the metadata cache and one ordered
// interbroker queue per broker; tests use a fake).
type MarkerTransport interface {
	// Leader is the current leader of a partition. An error of
	// kerr.UnknownTopicOrPartition means the partition no longer exists
	// (its marker is dropped); other errors are retried.
	Leader(tp model.TopicPartition) (model.BrokerID, error)
	// Send delivers req to broker and calls cb once with the response or
	// the failure (possibly on another goroutine).
	Send(broker model.BrokerID, req *kmsg.WriteTxnMarkersRequest, cb func(*kmsg.WriteTxnMarkersResponse, error))
}

// markerRequestVersion is the WriteTxnMarkers version sent (Kafka 3.9
// sends v1).
const markerRequestVersion = 1

// startCompletionLocked prepares CompleteCommit/CompleteAbort for a
// prepared transaction and starts sending its markers; the complete state
// is written once every partition has its marker (Kafka's
// TransactionMarkerChannelManager). m.mu is held.
func (c *Coordinator) startCompletionLocked(s *shard, m *txnMeta) {
	commit := m.state == PrepareCommit
	parts := sortedPartitions(m.partitions)
	pid, epoch := m.producerID, m.epoch
	t, err := m.prepareCompleteLocked(c.nowMs())
	if err != nil {
		c.lg.Error().Err(err).Str("transactionalId", m.id).Msg("cannot complete the transaction")
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.complete(s, m, t, pid, epoch, commit, parts)
	}()
}

// complete sends the markers until every partition has one, then writes
// the complete state (retried while this broker still coordinates the
// partition).
func (c *Coordinator) complete(s *shard, m *txnMeta, t *transit, pid int64, epoch int16, commit bool, parts []model.TopicPartition) {
	remaining := parts
	for len(remaining) > 0 {
		if s.ctx.Err() != nil {
			return
		}
		next, abort := c.sendMarkers(s, m.id, pid, epoch, commit, remaining)
		if abort {
			// The coordinator epoch is stale: a newer coordinator owns
			// the transaction. Leave it pending; the shard goes away.
			c.lg.Warn().Str("transactionalId", m.id).Msg("markers refused: coordinator fenced; giving up on the transaction")
			return
		}
		remaining = next
		if len(remaining) > 0 {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(c.cfg.MarkerRetryBackoff):
			}
		}
	}
	for {
		err := c.write(s.ctx, s, m, t)
		if err == nil {
			c.lg.Debug().Str("transactionalId", m.id).Bool("commit", commit).Msg("transaction complete")
			return
		}
		if errors.Is(err, kerr.NotCoordinator) || s.ctx.Err() != nil {
			return
		}
		c.lg.Warn().Err(err).Str("transactionalId", m.id).Msg("writing the complete state failed; retrying")
		m.mu.Lock()
		if m.pending != nil {
			m.mu.Unlock()
			return
		}
		m.pending = t
		m.mu.Unlock()
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(c.cfg.MarkerRetryBackoff):
		}
	}
}

// leaderRecheck is how often unanswered markers check that their target
// still leads the partition.
const leaderRecheck = 250 * time.Millisecond

type markerResult struct {
	leader model.BrokerID
	tps    []model.TopicPartition
	resp   *kmsg.WriteTxnMarkersResponse
	err    error
}

// sendMarkers sends one round of markers, grouped by leader, and returns
// the partitions to try again; abort is set when a leader says this
// coordinator is fenced.
func (c *Coordinator) sendMarkers(s *shard, id string, pid int64, epoch int16, commit bool, parts []model.TopicPartition) (retry []model.TopicPartition, abort bool) {
	byLeader := map[model.BrokerID][]model.TopicPartition{}
	for _, tp := range parts {
		leader, err := c.markers.Leader(tp)
		if err != nil {
			if errors.Is(err, kerr.UnknownTopicOrPartition) {
				c.lg.Info().Str("transactionalId", id).Str("topic", tp.Topic).Int32("partition", tp.Partition).Msg("partition gone; its marker is dropped")
				continue
			}
			retry = append(retry, tp)
			continue
		}
		byLeader[leader] = append(byLeader[leader], tp)
	}
	results := make(chan markerResult, len(byLeader))
	for leader, tps := range byLeader {
		req := kmsg.NewPtrWriteTxnMarkersRequest()
		req.Version = markerRequestVersion
		mk := kmsg.NewWriteTxnMarkersRequestMarker()
		mk.ProducerID, mk.ProducerEpoch, mk.Committed, mk.CoordinatorEpoch = pid, epoch, commit, s.epoch
		for _, g := range groupByTopic(tps) {
			mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
			mt.Topic, mt.Partitions = g.Topic, g.Partitions
			mk.Topics = append(mk.Topics, mt)
		}
		req.Markers = []kmsg.WriteTxnMarkersRequestMarker{mk}
		tps, leader := tps, leader
		c.markers.Send(leader, req, func(resp *kmsg.WriteTxnMarkersResponse, err error) {
			results <- markerResult{leader: leader, tps: tps, resp: resp, err: err}
		})
	}
	timeout := time.NewTimer(c.cfg.AppendTimeout)
	defer timeout.Stop()
	// A request queued to a broker that died keeps being retried by its
	// sender; check the leaders meanwhile and re-send at once to the new
	// ones instead of waiting for the timeout.
	recheck := time.NewTicker(leaderRecheck)
	defer recheck.Stop()
	pending := map[model.BrokerID][]model.TopicPartition{}
	for l, tps := range byLeader {
		pending[l] = tps
	}
	for len(pending) > 0 {
		var r markerResult
		select {
		case <-s.ctx.Done():
			return nil, true
		case <-timeout.C:
			// Unanswered (a queue stuck on a dead broker): try again.
			for _, tps := range pending {
				retry = append(retry, tps...)
			}
			return retry, abort
		case <-recheck.C:
			for l, tps := range pending {
				if cur, err := c.markers.Leader(tps[0]); err != nil || cur != l {
					c.lg.Info().Str("transactionalId", id).Int32("broker", int32(l)).Msg("marker target is no longer the leader; sending again")
					retry = append(retry, tps...)
					delete(pending, l)
				}
			}
			continue
		case r = <-results:
		}
		if _, ok := pending[r.leader]; !ok {
			continue // given up on above
		}
		delete(pending, r.leader)
		if r.err != nil || r.resp == nil {
			c.lg.Debug().Err(r.err).Str("transactionalId", id).Msg("sending markers failed; retrying")
			retry = append(retry, r.tps...)
			continue
		}
		answered := map[model.TopicPartition]int16{}
		for _, rm := range r.resp.Markers {
			if rm.ProducerID != pid {
				continue
			}
			for _, rt := range rm.Topics {
				for _, rp := range rt.Partitions {
					answered[model.TopicPartition{Topic: rt.Topic, Partition: rp.Partition}] = rp.ErrorCode
				}
			}
		}
		for _, tp := range r.tps {
			code, ok := answered[tp]
			if !ok {
				retry = append(retry, tp)
				continue
			}
			switch err := kerr.ErrorForCode(code); {
			case err == nil:
			case errors.Is(err, kerr.InvalidProducerEpoch), errors.Is(err, kerr.TransactionCoordinatorFenced):
				abort = true
			case errors.Is(err, kerr.CorruptMessage), errors.Is(err, kerr.MessageTooLarge),
				errors.Is(err, kerr.RecordListTooLarge), errors.Is(err, kerr.InvalidRequiredAcks):
				c.lg.Error().Err(err).Str("transactionalId", id).Str("topic", tp.Topic).Int32("partition", tp.Partition).
					Msg("marker refused; dropped")
			default:
				retry = append(retry, tp)
			}
		}
	}
	return retry, abort
}
