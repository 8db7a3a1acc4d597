package metacache

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/kbroker/kbroker/model"
)

// PartitionInfo is what the cache knows of one partition.
type PartitionInfo struct {
	model.LeaderAndISR
	Replicas        []model.BrokerID
	OfflineReplicas []model.BrokerID
}

// PartitionUpdate is one partition state of an UpdateMetadata request. A
// Leader of model.LeaderDuringDelete removes the partition.
type PartitionUpdate struct {
	Topic     string
	Partition int32
	PartitionInfo
}

// Update is an UpdateMetadata request in the cache's terms.
type Update struct {
	ControllerID    model.BrokerID
	ControllerEpoch int32
	// Brokers replaces the set of live brokers.
	Brokers    []model.Broker
	Partitions []PartitionUpdate
	TopicIDs   map[string]model.TopicID
}

// Cache holds the metadata. The zero value is not usable; use New.
type Cache struct {
	mu              sync.RWMutex
	controllerID    model.BrokerID                     // guarded by mu
	controllerEpoch int32                              // guarded by mu
	brokers         map[model.BrokerID]model.Broker    // guarded by mu
	topics          map[string]map[int32]PartitionInfo // guarded by mu
	topicIDs        map[string]model.TopicID           // guarded by mu
	changed         chan struct{}                      // guarded by mu; closed on every Apply
}

// New returns an empty cache (no controller known: id -1).
func New() *Cache {
	return &Cache{
		controllerID: -1,
		brokers:      map[model.BrokerID]model.Broker{},
		topics:       map[string]map[int32]PartitionInfo{},
		topicIDs:     map[string]model.TopicID{},
		changed:      make(chan struct{}),
	}
}

// Changed returns a channel closed at the next Apply (admin requests wait
// on it for the controller's work to show up).
func (c *Cache) Changed() <-chan struct{} {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.changed
}

// WaitFor blocks until cond holds (checked now and after every update),
// ctx ends or timeout passes; it reports whether cond held.
func (c *Cache) WaitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		ch := c.Changed()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			return cond()
		case <-ctx.Done():
			return false
		}
	}
}

// Apply applies an UpdateMetadata: brokers replaced, partitions upserted or
// removed (leader -2), topic ids recorded; a topic with no partition left is
// forgotten.
func (c *Cache) Apply(u Update) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.controllerID, c.controllerEpoch = u.ControllerID, u.ControllerEpoch
	c.brokers = make(map[model.BrokerID]model.Broker, len(u.Brokers))
	for _, b := range u.Brokers {
		c.brokers[b.ID] = b
	}
	for _, p := range u.Partitions {
		parts := c.topics[p.Topic]
		if p.Leader == model.LeaderDuringDelete {
			if parts != nil {
				delete(parts, p.Partition)
				if len(parts) == 0 {
					delete(c.topics, p.Topic)
					delete(c.topicIDs, p.Topic)
				}
			}
			continue
		}
		if parts == nil {
			parts = map[int32]PartitionInfo{}
			c.topics[p.Topic] = parts
		}
		parts[p.Partition] = p.PartitionInfo
	}
	for t, id := range u.TopicIDs {
		if _, ok := c.topics[t]; ok && id != model.ZeroTopicID {
			c.topicIDs[t] = id
		}
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// ControllerID is the controller's id, -1 when unknown.
func (c *Cache) ControllerID() model.BrokerID {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.controllerID
}

// ControllerEpoch is the epoch of the controller that sent the last update.
func (c *Cache) ControllerEpoch() int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.controllerEpoch
}

// Brokers returns the live brokers sorted by id.
func (c *Cache) Brokers() []model.Broker {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]model.Broker, 0, len(c.brokers))
	for _, b := range c.brokers {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Broker returns a live broker.
func (c *Cache) Broker(id model.BrokerID) (model.Broker, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	b, ok := c.brokers[id]
	return b, ok
}

// IsLive reports whether a broker is in the live set.
func (c *Cache) IsLive(id model.BrokerID) bool {
	_, ok := c.Broker(id)
	return ok
}

// Topics returns the known topic names, sorted.
func (c *Cache) Topics() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.topics))
	for t := range c.topics {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Topic returns a topic's partitions (sorted by partition) and its id.
func (c *Cache) Topic(name string) (parts []PartitionUpdate, id model.TopicID, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.topics[name]
	if !ok {
		return nil, model.ZeroTopicID, false
	}
	for p, info := range m {
		parts = append(parts, PartitionUpdate{Topic: name, Partition: p, PartitionInfo: info})
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].Partition < parts[j].Partition })
	return parts, c.topicIDs[name], true
}

// TopicByID finds a topic's name by its id.
func (c *Cache) TopicByID(id model.TopicID) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for t, tid := range c.topicIDs {
		if tid == id {
			return t, true
		}
	}
	return "", false
}

// TopicID returns a topic's id (zero when unknown).
func (c *Cache) TopicID(name string) model.TopicID {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.topicIDs[name]
}

// Partition returns one partition's state.
func (c *Cache) Partition(tp model.TopicPartition) (PartitionInfo, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	info, ok := c.topics[tp.Topic][tp.Partition]
	return info, ok
}

// NumPartitions is a topic's partition count (0 when unknown).
func (c *Cache) NumPartitions(topic string) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.topics[topic])
}
