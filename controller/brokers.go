package controller

import (
	"net"
	"slices"
	"sort"
	"strconv"

	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/zkmeta"
)

// isLive reports whether a broker is registered: live or in controlled
// shutdown (Kafka's liveOrShuttingDownBrokerIds). Such a broker is a
// target for the controller's requests.
func (c *Controller) isLive(id model.BrokerID) bool {
	_, ok := c.st.live[id]
	return ok
}

// isShuttingDown reports whether a broker asked for a controlled shutdown
// and is still registered.
func (c *Controller) isShuttingDown(id model.BrokerID) bool {
	return c.st.shuttingDown[id]
}

// isEligible reports whether a broker is live and not shutting down
// (Kafka's liveBrokerIds): only such brokers are elected leader or put in
// an ISR by an election.
func (c *Controller) isEligible(id model.BrokerID) bool {
	return c.isLive(id) && !c.isShuttingDown(id)
}

func (c *Controller) liveIDs() []model.BrokerID {
	out := make([]model.BrokerID, 0, len(c.st.live))
	for id := range c.st.live {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// interBrokerAddr is a broker's address on the inter-broker listener.
func (c *Controller) interBrokerAddr(b zkmeta.RegisteredBroker) (string, bool) {
	for _, e := range b.Endpoints {
		if e.Listener == c.opts.InterBrokerListener {
			return net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))), true
		}
	}
	return "", false
}

// refreshBrokers re-reads /brokers/ids (re-arming the watch) and, when
// react is set, handles brokers that joined, left or bounced (a bounced
// broker re-registered with a newer epoch while we were not looking).
func (c *Controller) refreshBrokers(react bool) {
	ids, changed, err := c.zk.WatchBrokers(c.ctx)
	if !c.check(err, "watching brokers") {
		return
	}
	c.watch(changed, func() { c.refreshBrokers(true) })
	regs, err := c.zk.GetBrokers(c.ctx)
	if !c.check(err, "reading brokers") {
		return
	}
	_ = ids
	var joined, left []model.BrokerID
	for id, old := range c.st.live {
		now, ok := regs[id]
		if !ok {
			left = append(left, id)
		} else if now.Epoch > old.Epoch {
			left = append(left, id)
			joined = append(joined, id)
		}
	}
	for id := range regs {
		if _, ok := c.st.live[id]; !ok {
			joined = append(joined, id)
		}
	}
	sort.Slice(joined, func(i, j int) bool { return joined[i] < joined[j] })
	sort.Slice(left, func(i, j int) bool { return left[i] < left[j] })
	for _, id := range left {
		delete(c.st.live, id)
		// A broker that shut down in order is gone now (or came back with
		// a new epoch, a fresh start).
		delete(c.st.shuttingDown, id)
		if s := c.st.senders[id]; s != nil {
			s.Close()
			delete(c.st.senders, id)
		}
	}
	for _, id := range joined {
		b := regs[id]
		c.st.live[id] = b
		addr, ok := c.interBrokerAddr(b)
		if !ok {
			c.log.Error().Int32("peer", int32(id)).Str("listener", c.opts.InterBrokerListener).Msg("broker has no endpoint on the inter-broker listener")
			continue
		}
		c.st.senders[id] = interbroker.NewSender(addr, "controller-"+strconv.Itoa(int(c.opts.BrokerID)), c.opts.RequestTimeout, c.opts.Backoff, c.log)
	}
	if !react || (len(joined) == 0 && len(left) == 0) {
		return
	}
	c.log.Info().Interface("joined", joined).Interface("left", left).Interface("live", c.liveIDs()).Msg("broker change")
	if len(left) > 0 {
		c.onBrokersFailed(left)
	}
	if len(joined) > 0 {
		c.onBrokersStarted(joined)
	}
}

// onBrokersStarted is Kafka's onBrokerStartup: everyone learns the new
// live set, the new brokers learn every partition, their replicas get
// LeaderAndIsr, offline partitions get an election, and pending deletions
// involving them resume.
func (c *Controller) onBrokersStarted(ids []model.BrokerID) {
	var existing []model.BrokerID
	for _, id := range c.liveIDs() {
		if !slices.Contains(ids, id) {
			existing = append(existing, id)
		}
	}
	c.sendUpdateMetadata(existing, nil)
	c.sendUpdateMetadata(ids, c.partitionsWithLeader())
	var hosted, offline []model.TopicPartition
	for t, ts := range c.st.topics {
		if c.st.deleting[t] != nil {
			continue
		}
		for p, replicas := range ts.partitions {
			tp := model.TopicPartition{Topic: t, Partition: p}
			if s, ok := ts.states[p]; ok && !c.isLive(s.Leader) {
				offline = append(offline, tp)
			} else if slicesOverlap(replicas, ids) {
				hosted = append(hosted, tp)
			}
		}
	}
	c.sendLeaderAndIsrTo(ids, hosted)
	c.electOffline(offline)
	c.resumeDeletions()
}

// onBrokersFailed is Kafka's onBrokerFailure: partitions led by a dead
// broker get a new leader from their live ISR, dead replicas leave the
// ISRs, and everyone learns the new states.
func (c *Controller) onBrokersFailed(ids []model.BrokerID) {
	var ledByDead []model.TopicPartition
	var hostedByDead []model.TopicPartition
	for t, ts := range c.st.topics {
		if c.st.deleting[t] != nil {
			continue
		}
		for p, replicas := range ts.partitions {
			tp := model.TopicPartition{Topic: t, Partition: p}
			s, ok := ts.states[p]
			if ok && slices.Contains(ids, s.Leader) {
				ledByDead = append(ledByDead, tp)
			}
			if slicesOverlap(replicas, ids) {
				hostedByDead = append(hostedByDead, tp)
			}
		}
	}
	c.electOffline(ledByDead)
	c.removeReplicasFromISR(hostedByDead, ids)
	// Everybody learns of the dead brokers even when no partition changed.
	c.sendUpdateMetadata(c.liveIDs(), nil)
}

func slicesOverlap(a, b []model.BrokerID) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
