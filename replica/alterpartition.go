package replica

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

// alterSender sends the leaders' ISR changes to the active controller
// (Kafka's AlterPartitionManager): changes queue per partition, one
// AlterPartition request is in flight at a time and carries every queued
// change, answers go back to the partitions, and changes that must be
// retried are queued again after a back-off.
type alterSender struct {
	m *Manager

	mu    sync.Mutex
	queue map[model.TopicPartition]*partition.ISRChange // guarded by mu
	conn  *interbroker.Conn                             // only the loop uses it

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// alterBackoff is the pause after a failed AlterPartition round.
const alterBackoff = 100 * time.Millisecond

func newAlterSender(m *Manager) *alterSender {
	ctx, cancel := context.WithCancel(context.Background())
	s := &alterSender{
		m: m, queue: map[model.TopicPartition]*partition.ISRChange{},
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	go s.run()
	return s
}

// submit queues a change (replacing an older one of the same partition).
func (s *alterSender) submit(ch *partition.ISRChange) {
	s.mu.Lock()
	s.queue[ch.TP] = ch
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *alterSender) close() {
	s.cancel()
	<-s.done
	if s.conn != nil {
		s.conn.Close()
	}
}

func (s *alterSender) take() []*partition.ISRChange {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*partition.ISRChange, 0, len(s.queue))
	for tp, ch := range s.queue {
		out = append(out, ch)
		delete(s.queue, tp)
	}
	return out
}

// requeue puts changes back unless a newer one was submitted meanwhile.
func (s *alterSender) requeue(chs []*partition.ISRChange) {
	s.mu.Lock()
	for _, ch := range chs {
		if _, ok := s.queue[ch.TP]; !ok {
			s.queue[ch.TP] = ch
		}
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *alterSender) run() {
	defer close(s.done)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.wake:
		}
		batch := s.take()
		if len(batch) == 0 {
			continue
		}
		retry := s.round(batch)
		if len(retry) > 0 {
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(alterBackoff):
			}
			s.requeue(retry)
		}
	}
}

// round sends one request and hands the answers to the partitions; it
// returns the changes to send again.
func (s *alterSender) round(batch []*partition.ISRChange) []*partition.ISRChange {
	live := batch[:0:0]
	for _, ch := range batch {
		if p, ok := s.m.Partition(ch.TP); ok && p.Resubmit(ch) {
			live = append(live, ch)
		}
	}
	if len(live) == 0 {
		return nil
	}
	resp, err := s.send(live)
	if err != nil {
		s.m.log.Warn().Err(err).Int("partitions", len(live)).Msg("AlterPartition failed; retrying")
		return live
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		s.m.log.Warn().Err(err).Int("partitions", len(live)).Msg("the controller refused AlterPartition; retrying")
		return live
	}
	answers := map[model.TopicPartition]kmsg.AlterPartitionResponseTopicPartition{}
	for _, t := range resp.Topics {
		name := t.Topic
		if resp.Version >= 2 {
			name = s.topicName(live, model.TopicID(t.TopidID))
		}
		for _, p := range t.Partitions {
			answers[model.TopicPartition{Topic: name, Partition: p.Partition}] = p
		}
	}
	var retry []*partition.ISRChange
	for _, ch := range live {
		p, ok := s.m.Partition(ch.TP)
		if !ok {
			continue
		}
		a, ok := answers[ch.TP]
		if !ok {
			retry = append(retry, ch)
			continue
		}
		r := partition.ISRChangeResult{
			Err: kerr.ErrorForCode(a.ErrorCode), LeaderEpoch: model.LeaderEpoch(a.LeaderEpoch),
			PartitionEpoch: a.PartitionEpoch, ISR: toBrokerIDs(a.ISR), LeaderRecoveryState: a.LeaderRecoveryState,
		}
		if p.ISRChangeDone(ch, r) {
			retry = append(retry, ch)
		}
		ev := s.m.log.Info()
		if r.Err != nil {
			ev = s.m.log.Warn().Err(r.Err)
		}
		ev.Str("partition", ch.TP.String()).Interface("proposed", ch.ISR).Interface("isr", r.ISR).
			Int32("partitionEpoch", r.PartitionEpoch).Msg("ISR change answered by the controller")
	}
	return retry
}

func (s *alterSender) topicName(chs []*partition.ISRChange, id model.TopicID) string {
	for _, ch := range chs {
		if ch.TopicID == id {
			return ch.TP.Topic
		}
	}
	return ""
}

// send builds and sends one AlterPartition request to the controller:
// v3 (topic ids, ISR with broker epochs -1 as in ZooKeeper mode) when every
// partition's topic id is known, else v1 (topic names).
func (s *alterSender) send(chs []*partition.ISRChange) (*kmsg.AlterPartitionResponse, error) {
	_, addr, ok := s.m.opts.Controller()
	if !ok {
		return nil, fmt.Errorf("no known controller")
	}
	if s.conn == nil || s.conn.Addr() != addr {
		if s.conn != nil {
			s.conn.Close()
		}
		s.conn = interbroker.NewConn(addr, "broker-"+strconv.Itoa(int(s.m.opts.LocalID))+"-alter-partition", s.m.opts.SocketTimeout)
	}
	req := kmsg.NewPtrAlterPartitionRequest()
	req.Version = 3
	for _, ch := range chs {
		if ch.TopicID == model.ZeroTopicID {
			req.Version = 1
		}
	}
	req.BrokerID = int32(s.m.opts.LocalID)
	s.m.mu.RLock()
	req.BrokerEpoch = s.m.brokerEpoch
	s.m.mu.RUnlock()
	topics := map[string]int{}
	for _, ch := range chs {
		i, ok := topics[ch.TP.Topic]
		if !ok {
			t := kmsg.NewAlterPartitionRequestTopic()
			t.Topic, t.TopicID = ch.TP.Topic, ch.TopicID
			req.Topics = append(req.Topics, t)
			i = len(req.Topics) - 1
			topics[ch.TP.Topic] = i
		}
		rp := kmsg.NewAlterPartitionRequestTopicPartition()
		rp.Partition = ch.TP.Partition
		rp.LeaderEpoch = int32(ch.LeaderEpoch)
		rp.PartitionEpoch = ch.PartitionEpoch
		rp.LeaderRecoveryState = ch.LeaderRecoveryState
		for _, b := range ch.ISR {
			if req.Version >= 3 {
				e := kmsg.NewAlterPartitionRequestTopicPartitionNewEpochISR()
				e.BrokerID, e.BrokerEpoch = int32(b), -1
				rp.NewEpochISR = append(rp.NewEpochISR, e)
			} else {
				rp.NewISR = append(rp.NewISR, int32(b))
			}
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	resp, err := s.conn.Request(s.ctx, req)
	if err != nil {
		return nil, err
	}
	return resp.(*kmsg.AlterPartitionResponse), nil
}
