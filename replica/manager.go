package replica

import (
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

// Options configure a Manager.
type Options struct {
	LocalID model.BrokerID
	Logs    partition.Logs
	// MinISR returns a topic's min.insync.replicas.
	MinISR func(topic string) int
	// Now returns the clock in milliseconds (nil: wall clock).
	Now    func() int64
	Logger zerolog.Logger
	// Follower fetching (replica.fetch.*).
	FetchMaxWait      time.Duration // replica.fetch.wait.max.ms, 500 ms
	FetchMinBytes     int32         // replica.fetch.min.bytes, 1
	FetchMaxBytes     int32         // replica.fetch.response.max.bytes, 10 MiB
	FetchPartitionMax int32         // replica.fetch.max.bytes, 1 MiB
	FetchBackoff      time.Duration // replica.fetch.backoff.ms, 1 s
	SocketTimeout     time.Duration // replica.socket.timeout.ms, 30 s
	NumFetchers       int           // num.replica.fetchers, 1
	// LagTimeMax is replica.lag.time.max.ms (30 s): the ISR shrink rule;
	// the shrink check runs every half of it.
	LagTimeMax time.Duration
	// IsBrokerAlive reports whether a broker is in the metadata cache's
	// live set (ISR eligibility); nil: every broker.
	IsBrokerAlive func(model.BrokerID) bool
	// Controller returns the active controller's id and inter-broker
	// address, for AlterPartition; nil: none known.
	Controller func() (model.BrokerID, string, bool)
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if o.MinISR == nil {
		o.MinISR = func(string) int { return 1 }
	}
	if o.FetchMaxWait == 0 {
		o.FetchMaxWait = 500 * time.Millisecond
	}
	if o.FetchMinBytes == 0 {
		o.FetchMinBytes = 1
	}
	if o.FetchMaxBytes == 0 {
		o.FetchMaxBytes = 10 << 20
	}
	if o.FetchPartitionMax == 0 {
		o.FetchPartitionMax = 1 << 20
	}
	if o.FetchBackoff == 0 {
		o.FetchBackoff = time.Second
	}
	if o.SocketTimeout == 0 {
		o.SocketTimeout = 30 * time.Second
	}
	if o.NumFetchers <= 0 {
		o.NumFetchers = 1
	}
	if o.LagTimeMax <= 0 {
		o.LagTimeMax = 30 * time.Second
	}
	if o.IsBrokerAlive == nil {
		o.IsBrokerAlive = func(model.BrokerID) bool { return true }
	}
	if o.Controller == nil {
		o.Controller = func() (model.BrokerID, string, bool) { return model.NoLeader, "", false }
	}
}

// Manager hosts the local partitions.
type Manager struct {
	opts Options
	log  zerolog.Logger

	mu              sync.RWMutex
	partitions      map[model.TopicPartition]*partition.Partition // guarded by mu
	controllerEpoch int32                                         // guarded by mu; highest seen
	brokerEpoch     int64                                         // guarded by mu; czxid of our registration
	leaders         map[model.BrokerID]string                     // guarded by mu; inter-broker addresses of leaders
	fetchers        map[fetcherKey]*fetcher                       // guarded by mu
	closed          bool                                          // guarded by mu

	alter    *alterSender
	stopISR  chan struct{}
	isrTasks sync.WaitGroup
}

// New returns a manager with no partitions.
func New(opts Options) *Manager {
	opts.defaults()
	m := &Manager{
		opts:       opts,
		log:        opts.Logger.With().Str("component", "replica").Logger(),
		partitions: map[model.TopicPartition]*partition.Partition{},
		leaders:    map[model.BrokerID]string{},
		fetchers:   map[fetcherKey]*fetcher{},
		stopISR:    make(chan struct{}),
	}
	m.alter = newAlterSender(m)
	m.isrTasks.Add(1)
	go m.isrExpiration()
	return m
}

// SetBrokerEpoch records this broker's registration epoch (czxid);
// controller requests carrying an older one are stale.
func (m *Manager) SetBrokerEpoch(e int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.brokerEpoch = e
}

// CheckControllerRequest applies Kafka's request-level checks to a
// controller request: a broker epoch older than ours (and not -1) is
// STALE_BROKER_EPOCH; a controller epoch older than the highest seen is
// STALE_CONTROLLER_EPOCH. A newer controller epoch is remembered.
func (m *Manager) CheckControllerRequest(controllerEpoch int32, brokerEpoch int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if brokerEpoch != -1 && brokerEpoch < m.brokerEpoch {
		return fmt.Errorf("received a request with broker epoch %d smaller than the current broker epoch %d: %w", brokerEpoch, m.brokerEpoch, kerr.StaleBrokerEpoch)
	}
	if controllerEpoch < m.controllerEpoch {
		return fmt.Errorf("received a request from an old controller with epoch %d; latest known epoch is %d: %w", controllerEpoch, m.controllerEpoch, kerr.StaleControllerEpoch)
	}
	m.controllerEpoch = controllerEpoch
	return nil
}

// Partition returns a hosted partition.
func (m *Manager) Partition(tp model.TopicPartition) (*partition.Partition, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p, ok := m.partitions[tp]
	return p, ok
}

// Partitions lists the hosted partitions, sorted.
func (m *Manager) Partitions() []model.TopicPartition {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]model.TopicPartition, 0, len(m.partitions))
	for tp := range m.partitions {
		out = append(out, tp)
	}
	model.SortTopicPartitions(out)
	return out
}

// leaderPartition returns a partition this broker leads, with Kafka's
// errors: not hosted here → NOT_LEADER_OR_FOLLOWER (the caller checks the
// topic exists first).
func (m *Manager) leaderPartition(tp model.TopicPartition) (*partition.Partition, error) {
	p, ok := m.Partition(tp)
	if !ok {
		return nil, fmt.Errorf("this broker does not host %s: %w", tp, kerr.NotLeaderForPartition)
	}
	return p, nil
}

// Close stops the fetchers. Partitions and logs belong to their owners.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	fs := m.fetchers
	m.fetchers = map[fetcherKey]*fetcher{}
	m.mu.Unlock()
	for _, f := range fs {
		f.close()
	}
	close(m.stopISR)
	m.isrTasks.Wait()
	m.alter.close()
}
