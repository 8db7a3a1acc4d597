package controller

import (
	"github.com/kbroker/kbroker/model"
)

// onTopicsChange handles a change of /brokers/topics' children: new topics
// are loaded and their partitions created; vanished ones are forgotten.
func (c *Controller) onTopicsChange() {
	topics, changed, err := c.zk.WatchTopics(c.ctx)
	if !c.check(err, "reading topics") {
		return
	}
	c.watch(changed, c.onTopicsChange)
	present := map[string]bool{}
	var fresh []model.TopicPartition
	for _, t := range topics {
		present[t] = true
		if _, known := c.st.topics[t]; known {
			continue
		}
		ts := c.loadTopic(t)
		if ts == nil {
			continue
		}
		c.log.Info().Str("topic", t).Int("partitions", len(ts.partitions)).Msg("new topic")
		for p := range ts.partitions {
			fresh = append(fresh, model.TopicPartition{Topic: t, Partition: p})
		}
	}
	for t := range c.st.topics {
		if !present[t] {
			delete(c.st.topics, t)
			delete(c.st.deleting, t)
		}
	}
	model.SortTopicPartitions(fresh)
	c.startPartitions(fresh)
}

// onTopicChange handles a change of one topic's znode: partitions added by
// an admin are created. Partitions are never removed this way; a topic
// queued for deletion gets its znode written back (Kafka's rule).
func (c *Controller) onTopicChange(topic string) {
	ts, known := c.st.topics[topic]
	a, version, ok, changed, err := c.zk.WatchTopic(c.ctx, topic)
	if !c.check(err, "reading topic "+topic) || !ok || !known {
		return
	}
	c.watch(changed, func() { c.onTopicChange(topic) })
	ts.version = version
	if a.TopicID != model.ZeroTopicID {
		ts.id = a.TopicID
	}
	var added []model.TopicPartition
	for p, replicas := range a.Partitions {
		if _, have := ts.partitions[p]; !have {
			added = append(added, model.TopicPartition{Topic: topic, Partition: p})
			ts.partitions[p] = replicas
		}
	}
	if len(added) == 0 {
		return
	}
	if c.st.deleting[topic] != nil {
		c.log.Warn().Str("topic", topic).Msg("partitions added to a topic being deleted; ignoring them")
		return
	}
	model.SortTopicPartitions(added)
	c.log.Info().Str("topic", topic).Int("added", len(added)).Msg("partitions added")
	c.createPartitions(added)
}
