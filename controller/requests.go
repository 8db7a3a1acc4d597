package controller

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// Request versions a 3.4+ ZooKeeper controller sends (IBP 3.4+).
const (
	leaderAndIsrVersion   = 7
	updateMetadataVersion = 8
	stopReplicaVersion    = 4
)

// securityProtocolID maps a security protocol name to Kafka's id.
func securityProtocolID(name string) int16 {
	switch name {
	case "SSL":
		return 1
	case "SASL_PLAINTEXT":
		return 2
	case "SASL_SSL":
		return 3
	}
	return 0
}

func toInt32s(ids []model.BrokerID) []int32 {
	out := make([]int32, len(ids))
	for i, id := range ids {
		out[i] = int32(id)
	}
	return out
}

func (c *Controller) send(to model.BrokerID, req kmsg.Request, cb func(kmsg.Response, error)) {
	s := c.st.senders[to]
	if s == nil {
		return
	}
	s.Enqueue(req, cb)
}

// liveBrokersForUpdate is the live broker list of an UpdateMetadata.
func (c *Controller) liveBrokersForUpdate() []kmsg.UpdateMetadataRequestLiveBroker {
	var out []kmsg.UpdateMetadataRequestLiveBroker
	for _, id := range c.liveIDs() {
		b := c.st.live[id]
		lb := kmsg.NewUpdateMetadataRequestLiveBroker()
		lb.ID = int32(id)
		lb.Rack = b.Rack
		for _, e := range b.Endpoints {
			ep := kmsg.NewUpdateMetadataRequestLiveBrokerEndpoint()
			ep.Port, ep.Host, ep.ListenerName = e.Port, e.Host, e.Listener
			ep.SecurityProtocol = securityProtocolID(e.SecurityProtocol)
			lb.Endpoints = append(lb.Endpoints, ep)
		}
		out = append(out, lb)
	}
	return out
}

// sendUpdateMetadata tells the targets the live brokers and the states of
// the given partitions.
func (c *Controller) sendUpdateMetadata(targets []model.BrokerID, tps []model.TopicPartition) {
	c.sendUpdateMetadataStates(targets, tps, false)
}

// sendUpdateMetadataDeleted tells the targets that the partitions are
// being deleted (leader -2).
func (c *Controller) sendUpdateMetadataDeleted(targets []model.BrokerID, tps []model.TopicPartition) {
	c.sendUpdateMetadataStates(targets, tps, true)
}

func (c *Controller) sendUpdateMetadataStates(targets []model.BrokerID, tps []model.TopicPartition, deleted bool) {
	if len(targets) == 0 {
		return
	}
	topics := map[string]*kmsg.UpdateMetadataRequestTopicState{}
	var order []string
	for _, tp := range tps {
		ts := c.st.topics[tp.Topic]
		if ts == nil {
			continue
		}
		s, ok := ts.states[tp.Partition]
		if !ok && !deleted {
			continue
		}
		t := topics[tp.Topic]
		if t == nil {
			nt := kmsg.NewUpdateMetadataRequestTopicState()
			nt.Topic, nt.TopicID = tp.Topic, ts.id
			t = &nt
			topics[tp.Topic] = t
			order = append(order, tp.Topic)
		}
		ps := kmsg.NewUpdateMetadataRequestTopicPartition()
		ps.Partition = tp.Partition
		ps.ControllerEpoch = s.ControllerEpoch
		ps.Leader = int32(s.Leader)
		ps.LeaderEpoch = int32(s.LeaderEpoch)
		ps.ISR = toInt32s(s.ISR)
		ps.ZKVersion = s.PartitionEpoch
		ps.Replicas = toInt32s(ts.partitions[tp.Partition])
		for _, r := range ts.partitions[tp.Partition] {
			if !c.isLive(r) {
				ps.OfflineReplicas = append(ps.OfflineReplicas, int32(r))
			}
		}
		if deleted {
			ps.Leader = int32(model.LeaderDuringDelete)
			ps.LeaderEpoch = -2
		}
		t.PartitionStates = append(t.PartitionStates, ps)
	}
	brokers := c.liveBrokersForUpdate()
	for _, to := range targets {
		req := kmsg.NewPtrUpdateMetadataRequest()
		req.Version = updateMetadataVersion
		req.ControllerID = int32(c.opts.BrokerID)
		req.ControllerEpoch = c.st.fence.Epoch
		req.BrokerEpoch = c.st.live[to].Epoch
		req.LiveBrokers = brokers
		for _, t := range order {
			req.TopicStates = append(req.TopicStates, *topics[t])
		}
		c.send(to, req, nil)
	}
}

// sendLeaderAndIsr sends the partitions' states to their live replicas.
func (c *Controller) sendLeaderAndIsr(tps []model.TopicPartition) {
	c.sendLeaderAndIsrNew(tps, false)
}

func (c *Controller) sendLeaderAndIsrNew(tps []model.TopicPartition, isNew bool) {
	c.sendLeaderAndIsrFiltered(tps, isNew, func(model.BrokerID) bool { return true })
}

// sendLeaderAndIsrTo sends the partitions' states only to the given brokers
// (those among their replicas).
func (c *Controller) sendLeaderAndIsrTo(brokers []model.BrokerID, tps []model.TopicPartition) {
	c.sendLeaderAndIsrFiltered(tps, false, func(b model.BrokerID) bool { return slices.Contains(brokers, b) })
}

func (c *Controller) sendLeaderAndIsrFiltered(tps []model.TopicPartition, isNew bool, want func(model.BrokerID) bool) {
	type entry struct {
		tp      model.TopicPartition
		partial kmsg.LeaderAndISRRequestTopicPartition
	}
	perBroker := map[model.BrokerID][]entry{}
	for _, tp := range tps {
		ts := c.st.topics[tp.Topic]
		if ts == nil {
			continue
		}
		s, ok := ts.states[tp.Partition]
		if !ok {
			continue
		}
		replicas := ts.partitions[tp.Partition]
		ps := kmsg.NewLeaderAndISRRequestTopicPartition()
		ps.Partition = tp.Partition
		ps.ControllerEpoch = s.ControllerEpoch
		ps.Leader = int32(s.Leader)
		ps.LeaderEpoch = int32(s.LeaderEpoch)
		ps.ISR = toInt32s(s.ISR)
		ps.ZKVersion = s.PartitionEpoch
		ps.Replicas = toInt32s(replicas)
		ps.IsNew = isNew
		ps.LeaderRecoveryState = s.LeaderRecoveryState
		for _, r := range replicas {
			if c.isLive(r) && want(r) {
				perBroker[r] = append(perBroker[r], entry{tp, ps})
			}
		}
	}
	for to, entries := range perBroker {
		req := kmsg.NewPtrLeaderAndISRRequest()
		req.Version = leaderAndIsrVersion
		req.ControllerID = int32(c.opts.BrokerID)
		req.ControllerEpoch = c.st.fence.Epoch
		req.BrokerEpoch = c.st.live[to].Epoch
		topicIdx := map[string]int{}
		leaders := map[model.BrokerID]bool{}
		for _, e := range entries {
			i, ok := topicIdx[e.tp.Topic]
			if !ok {
				t := kmsg.NewLeaderAndISRRequestTopicState()
				t.Topic, t.TopicID = e.tp.Topic, c.st.topics[e.tp.Topic].id
				req.TopicStates = append(req.TopicStates, t)
				i = len(req.TopicStates) - 1
				topicIdx[e.tp.Topic] = i
			}
			req.TopicStates[i].PartitionStates = append(req.TopicStates[i].PartitionStates, e.partial)
			leaders[model.BrokerID(e.partial.Leader)] = true
		}
		for id := range leaders {
			b, ok := c.st.live[id]
			if !ok {
				continue
			}
			for _, e := range b.Endpoints {
				if e.Listener == c.opts.InterBrokerListener {
					ll := kmsg.NewLeaderAndISRRequestLiveLeader()
					ll.BrokerID, ll.Host, ll.Port = int32(id), e.Host, e.Port
					req.LiveLeaders = append(req.LiveLeaders, ll)
				}
			}
		}
		to := to
		c.send(to, req, func(r kmsg.Response, err error) {
			if err != nil {
				return
			}
			resp := r.(*kmsg.LeaderAndISRResponse)
			if resp.ErrorCode != 0 {
				c.log.Warn().Int32("peer", int32(to)).Str("error", kerr.ErrorForCode(resp.ErrorCode).Error()).Msg("LeaderAndIsr refused")
			}
		})
	}
}

// sendStopReplicaDelete asks the live replicas of a topic being deleted to
// delete their partitions (leader epoch -2), and records confirmations.
func (c *Controller) sendStopReplicaDelete(topic string) {
	d := c.st.deleting[topic]
	if d == nil {
		return
	}
	perBroker := map[model.BrokerID][]int32{}
	for tp, left := range d.pending {
		for b := range left {
			if c.isLive(b) {
				perBroker[b] = append(perBroker[b], tp.Partition)
			}
		}
	}
	for to, parts := range perBroker {
		slices.Sort(parts)
		req := kmsg.NewPtrStopReplicaRequest()
		req.Version = stopReplicaVersion
		req.ControllerID = int32(c.opts.BrokerID)
		req.ControllerEpoch = c.st.fence.Epoch
		req.BrokerEpoch = c.st.live[to].Epoch
		t := kmsg.NewStopReplicaRequestTopic()
		t.Topic = topic
		for _, p := range parts {
			ps := kmsg.NewStopReplicaRequestTopicPartitionState()
			ps.Partition, ps.LeaderEpoch, ps.Delete = p, -2, true
			t.PartitionStates = append(t.PartitionStates, ps)
		}
		req.Topics = append(req.Topics, t)
		to := to
		gen := c.st.generation
		c.send(to, req, func(r kmsg.Response, err error) {
			if err != nil {
				return
			}
			resp := r.(*kmsg.StopReplicaResponse)
			c.enqueue(func() {
				if c.st == nil || c.st.generation != gen || resp.ErrorCode != 0 {
					return
				}
				for _, p := range resp.Partitions {
					if p.ErrorCode == 0 {
						c.onReplicaDeleted(model.TopicPartition{Topic: p.Topic, Partition: p.Partition}, to)
					}
				}
			})
		})
	}
}
