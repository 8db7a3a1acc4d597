package controller

import (
	"crypto/rand"
	"errors"
	"slices"

	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/zkmeta"
)

// errMoved unwinds an event whose fenced ZooKeeper write found a newer
// controller epoch; run() turns it into a resignation.
var errMoved = errors.New("controller moved")

// check panics with errMoved when err says another controller took over,
// and reports whether err is nil otherwise (logging it).
func (c *Controller) check(err error, what string) bool {
	if err == nil {
		return true
	}
	if errors.Is(err, zkmeta.ErrControllerMoved) {
		panic(errMoved)
	}
	c.log.Error().Err(err).Msg(what)
	return false
}

// elect joins the election: watch /controller and, if nobody holds it,
// try to take it.
func (c *Controller) elect() {
	id, ok, changed, err := c.zk.WatchController(c.ctx)
	if err != nil {
		c.log.Error().Err(err).Msg("reading /controller; retrying on the next change")
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		select {
		case <-changed:
			c.enqueue(c.onControllerChange)
		case <-c.ctx.Done():
		}
	}()
	if ok {
		if id != c.opts.BrokerID && c.IsActive() {
			c.resign("another broker is the controller")
		}
		return
	}
	fence, err := c.zk.ElectController(c.ctx, c.opts.BrokerID)
	if errors.Is(err, zkmeta.ErrControllerExists) {
		return // someone else won; our watch tells us when it goes
	}
	if err != nil {
		c.log.Error().Err(err).Msg("controller election failed")
		return
	}
	c.log.Info().Int32("epoch", fence.Epoch).Msg("elected controller")
	c.onFailover(fence)
}

// onControllerChange runs when /controller changed or vanished: resign if
// it no longer names us, and elect again (which re-arms the watch).
func (c *Controller) onControllerChange() {
	if c.IsActive() {
		if id, ok, err := c.zk.GetController(c.ctx); err == nil && (!ok || id != c.opts.BrokerID) {
			c.resign("the controller znode changed")
		}
	}
	c.elect()
}

// resign drops controllership: stop the senders, forget the state.
func (c *Controller) resign(reason string) {
	if c.st == nil {
		return
	}
	c.log.Info().Str("reason", reason).Int32("epoch", c.st.fence.Epoch).Msg("resigning as controller")
	for _, s := range c.st.senders {
		s.Close()
	}
	c.stopAutoRebalance()
	c.st = nil
	c.activeFlag.Store(false)
	c.epochValue.Store(-1)
}

// onFailover builds the controller's state from ZooKeeper and brings every
// broker up to date (Kafka's onControllerFailover).
func (c *Controller) onFailover(f zkmeta.Fence) {
	gen := uint64(1)
	if c.st != nil {
		gen = c.st.generation + 1
	}
	c.st = &state{
		fence: f, generation: gen,
		live:     map[model.BrokerID]zkmeta.RegisteredBroker{},
		topics:   map[string]*topicState{},
		deleting: map[string]*deletion{},
		senders:  map[model.BrokerID]*interbroker.Sender{},
	}
	c.activeFlag.Store(true)
	c.epochValue.Store(f.Epoch)

	c.refreshBrokers(false)
	topics, changed, err := c.zk.WatchTopics(c.ctx)
	if !c.check(err, "reading topics") {
		return
	}
	c.watch(changed, c.onTopicsChange)
	for _, t := range topics {
		c.loadTopic(t)
	}
	// Brokers learn the live set and the controller first, then every
	// partition's state from its replicas' LeaderAndIsr.
	c.sendUpdateMetadata(c.liveIDs(), nil)
	var all []model.TopicPartition
	for t, ts := range c.st.topics {
		for p := range ts.partitions {
			all = append(all, model.TopicPartition{Topic: t, Partition: p})
		}
	}
	c.startPartitions(all)
	c.watchDeletions()
	c.onPreferredElectionZnode()
	c.scheduleAutoRebalance(firstRebalanceDelay)
}

// loadTopic reads a topic's assignment (watching it for added partitions)
// and its partition states; a topic without an id gets one.
func (c *Controller) loadTopic(topic string) *topicState {
	a, version, ok, changed, err := c.zk.WatchTopic(c.ctx, topic)
	if !c.check(err, "reading topic "+topic) || !ok {
		return nil
	}
	c.watch(changed, func() { c.onTopicChange(topic) })
	if a.TopicID == model.ZeroTopicID {
		if _, err := rand.Read(a.TopicID[:]); err == nil {
			v, err := c.zk.SetTopicAssignment(c.ctx, &c.st.fence, topic, a, version)
			if c.check(err, "assigning a topic id to "+topic) {
				version = v
			}
		}
	}
	ts := &topicState{id: a.TopicID, version: version, partitions: a.Partitions, states: map[int32]model.LeaderAndISR{}}
	parts := make([]int32, 0, len(a.Partitions))
	for p := range a.Partitions {
		parts = append(parts, p)
	}
	states, err := c.zk.GetPartitionStates(c.ctx, topic, parts)
	if c.check(err, "reading partition states of "+topic) {
		ts.states = states
	}
	c.st.topics[topic] = ts
	return ts
}

// startPartitions brings partitions online after a failover or a topic
// change: partitions without a state znode are created, partitions whose
// leader is not live get an election, and every live replica receives the
// current state.
func (c *Controller) startPartitions(tps []model.TopicPartition) {
	var create []model.TopicPartition
	var offline []model.TopicPartition
	var online []model.TopicPartition
	for _, tp := range tps {
		ts := c.st.topics[tp.Topic]
		s, ok := ts.states[tp.Partition]
		switch {
		case !ok:
			create = append(create, tp)
		case !c.isLive(s.Leader):
			offline = append(offline, tp)
		default:
			online = append(online, tp)
		}
	}
	c.createPartitions(create)
	c.electOffline(offline)
	c.sendLeaderAndIsr(online)
	c.sendUpdateMetadata(c.liveIDs(), online)
	// Replicas on brokers that are not live go offline: out of the ISRs
	// (Kafka's replica state machine startup).
	var dead []model.BrokerID
	var withDead []model.TopicPartition
	for _, tp := range tps {
		s, ok := c.st.topics[tp.Topic].states[tp.Partition]
		if !ok {
			continue
		}
		for _, r := range s.ISR {
			if !c.isLive(r) {
				if !slices.Contains(dead, r) {
					dead = append(dead, r)
				}
				withDead = append(withDead, tp)
			}
		}
	}
	c.removeReplicasFromISR(withDead, dead)
}
