package controller

import (
	"github.com/kbroker/kbroker/model"
)

// deletion tracks a topic being deleted: the replicas that still have to
// confirm StopReplica(delete=true).
type deletion struct {
	pending map[model.TopicPartition]map[model.BrokerID]bool
}

// watchDeletions reads /admin/delete_topics and re-arms its watch.
func (c *Controller) watchDeletions() {
	topics, changed, err := c.zk.WatchTopicDeletions(c.ctx)
	if !c.check(err, "reading topic deletions") {
		return
	}
	c.watch(changed, c.watchDeletions)
	for _, t := range topics {
		c.startDeletion(t)
	}
}

// startDeletion begins deleting a topic (Kafka's TopicDeletionManager):
// brokers drop it from their metadata (leader -2), its live replicas get
// StopReplica(delete=true), and once all confirmed, its znodes go.
func (c *Controller) startDeletion(topic string) {
	if c.st.deleting[topic] != nil {
		return
	}
	ts, ok := c.st.topics[topic]
	if !c.opts.DeleteTopicEnable || !ok {
		if !c.opts.DeleteTopicEnable {
			c.log.Warn().Str("topic", topic).Msg("delete.topic.enable is false; removing the deletion request")
		}
		c.check(c.zk.DeleteTopicDeletionMarker(c.ctx, c.st.fence, topic), "removing the deletion marker of "+topic)
		return
	}
	d := &deletion{pending: map[model.TopicPartition]map[model.BrokerID]bool{}}
	c.st.deleting[topic] = d
	var tps []model.TopicPartition
	for p, replicas := range ts.partitions {
		tp := model.TopicPartition{Topic: topic, Partition: p}
		tps = append(tps, tp)
		d.pending[tp] = map[model.BrokerID]bool{}
		for _, r := range replicas {
			d.pending[tp][r] = true
		}
	}
	model.SortTopicPartitions(tps)
	c.log.Info().Str("topic", topic).Msg("deleting topic")
	c.sendUpdateMetadataDeleted(c.liveIDs(), tps)
	c.sendStopReplicaDelete(topic)
}

// resumeDeletions retries deletions whose replicas can now be reached.
func (c *Controller) resumeDeletions() {
	for topic := range c.st.deleting {
		c.sendStopReplicaDelete(topic)
	}
}

// onReplicaDeleted records a confirmed deletion; the last one removes the
// topic's znodes.
func (c *Controller) onReplicaDeleted(tp model.TopicPartition, broker model.BrokerID) {
	d := c.st.deleting[tp.Topic]
	if d == nil {
		return
	}
	delete(d.pending[tp], broker)
	for _, left := range d.pending {
		if len(left) > 0 {
			return
		}
	}
	if !c.check(c.zk.DeleteTopic(c.ctx, c.st.fence, tp.Topic), "deleting the znodes of "+tp.Topic) {
		return
	}
	delete(c.st.deleting, tp.Topic)
	delete(c.st.topics, tp.Topic)
	c.log.Info().Str("topic", tp.Topic).Msg("topic deleted")
}
