package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/admin"
	"github.com/kbroker/kbroker/api"
	"github.com/kbroker/kbroker/config"
	"github.com/kbroker/kbroker/controller"
	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/logdir"
	"github.com/kbroker/kbroker/metacache"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/netserver"
	"github.com/kbroker/kbroker/replica"
	"github.com/kbroker/kbroker/segment"
	"github.com/kbroker/kbroker/txn"
	"github.com/kbroker/kbroker/zkmeta"
)

// Broker is one running kbroker.
type Broker struct {
	cfg config.Broker
	log zerolog.Logger

	id        model.BrokerID
	clusterID string
	zk        *zkmeta.Client
	dirs      *logDirs
	cache     *metacache.Cache
	replicas  *replica.Manager
	groups    *group.Coordinator
	// producerIDs, txns and markers: producer ids and the transaction
	// coordinator (txn.go).
	producerIDs *txn.ProducerIDs
	txns        *txn.Coordinator
	markers     *markerChannel
	verifier    *txnVerifier // nil when verification is off (txnverify.go)
	server      *netserver.Server
	ctrl        *controller.Controller
	topics      *topicConfigs
	reg         zkmeta.BrokerRegistration
	// brokerEpoch is the czxid of the current registration (0 before).
	brokerEpoch atomic.Int64

	sessionDone chan struct{}
	closeOnce   sync.Once
	closeErr    error
}

// New prepares a broker from its configuration; Start runs it.
func New(cfg config.Broker, log zerolog.Logger) *Broker {
	return &Broker{cfg: cfg, log: log, id: model.BrokerID(cfg.BrokerID)}
}

// ID is the broker id (known after Start).
func (b *Broker) ID() model.BrokerID { return b.id }

// ClusterID is the cluster id (known after Start).
func (b *Broker) ClusterID() string { return b.clusterID }

// Addr is the bound address of a listener.
func (b *Broker) Addr(listener string) net.Addr { return b.server.Addr(listener) }

// FirstListenerAddr is the bound address of the first configured listener
// (nil before Start).
func (b *Broker) FirstListenerAddr() net.Addr {
	if b.server == nil || len(b.cfg.Listeners) == 0 {
		return nil
	}
	return b.server.Addr(b.cfg.Listeners[0].Listener)
}

// Start brings the broker up in Kafka's order: ZooKeeper, cluster id,
// broker id, log directories, services, listeners, registration, election.
// On error everything started so far is stopped again.
func (b *Broker) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	b.zk, err = zkmeta.Connect(ctx, zkmeta.Config{
		Connect:           b.cfg.ZooKeeperConnect,
		SessionTimeout:    b.cfg.ZooKeeperSessionTimeout(),
		ConnectionTimeout: b.cfg.ZooKeeperConnectionTimeout(),
		Logger:            b.log,
	})
	if err != nil {
		return fmt.Errorf("connecting to ZooKeeper %s: %w", b.cfg.ZooKeeperConnect, err)
	}
	if err := b.zk.CreateTopLevelPaths(ctx); err != nil {
		return fmt.Errorf("creating the top-level znodes: %w", err)
	}
	if b.clusterID, err = b.zk.GetOrCreateClusterID(ctx, newUUIDBase64()); err != nil {
		return fmt.Errorf("reading the cluster id: %w", err)
	}
	if err := b.settleBrokerID(ctx); err != nil {
		return err
	}
	b.log = b.log.With().Int32("broker", int32(b.id)).Logger()
	b.topics = newTopicConfigs(b.cfg, b.zk)
	if err := b.openLogDirs(); err != nil {
		return err
	}
	b.cache = metacache.New()
	b.replicas = replica.New(replica.Options{
		LocalID: b.id, Logs: b.dirs, MinISR: b.topics.minISR, Logger: b.log,
		FetchMaxWait:      time.Duration(b.cfg.ReplicaFetchWaitMaxMs) * time.Millisecond,
		FetchMinBytes:     b.cfg.ReplicaFetchMinBytes,
		FetchMaxBytes:     b.cfg.ReplicaFetchResponseMaxBytes,
		FetchPartitionMax: b.cfg.ReplicaFetchMaxBytes,
		FetchBackoff:      time.Duration(b.cfg.ReplicaFetchBackoffMs) * time.Millisecond,
		SocketTimeout:     time.Duration(b.cfg.ReplicaSocketTimeoutMs) * time.Millisecond,
		NumFetchers:       int(b.cfg.NumReplicaFetchers),
		LagTimeMax:        time.Duration(b.cfg.ReplicaLagTimeMaxMs) * time.Millisecond,
		IsBrokerAlive:     b.cache.IsLive,
		Controller:        b.controllerAddr,
	})
	b.producerIDs = txn.NewProducerIDs(b.id, b.zk)
	b.txns = b.newTxnCoordinator(b.producerIDs)
	b.verifier = b.newTxnVerifier()
	b.groups = b.newGroupCoordinator()
	b.ctrl = controller.New(controller.Options{
		BrokerID: b.id, ZK: b.zk, InterBrokerListener: b.cfg.InterBrokerListenerName,
		DeleteTopicEnable:                  b.cfg.DeleteTopicEnable,
		UncleanLeaderElectionEnable:        b.cfg.UncleanLeaderElectionEnable,
		AutoLeaderRebalanceEnable:          b.cfg.AutoLeaderRebalanceEnable,
		LeaderImbalancePerBrokerPercentage: b.cfg.LeaderImbalancePerBrokerPercentage,
		LeaderImbalanceCheckInterval:       time.Duration(b.cfg.LeaderImbalanceCheckIntervalSeconds) * time.Second,
		RequestTimeout:                     time.Duration(b.cfg.ControllerSocketTimeoutMs) * time.Millisecond,
		Logger:                             b.log,
	})
	b.server = netserver.New(b.serverConfig(), b.apiHandler())
	if err := b.server.Start(); err != nil {
		return fmt.Errorf("binding listeners: %w", err)
	}
	if err := b.register(ctx); err != nil {
		return err
	}
	b.sessionDone = make(chan struct{})
	go b.followSession()
	b.ctrl.Start()
	b.log.Info().Str("cluster", b.clusterID).Interface("endpoints", b.reg.Endpoints).Msg("kbroker started")
	return nil
}

func newUUIDBase64() string {
	var id [16]byte
	_, _ = rand.Read(id[:])
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// settleBrokerID checks every log directory's meta.properties against the
// cluster and the configuration, and picks the broker id: configured, else
// stored, else generated from /brokers/seqid.
func (b *Broker) settleBrokerID(ctx context.Context) error {
	stored := int32(-1)
	for _, dir := range b.cfg.LogDirs {
		m, ok, err := logdir.ReadMetaProperties(dir)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if m.ClusterID != "" && m.ClusterID != b.clusterID {
			return fmt.Errorf("the Cluster ID %s doesn't match stored clusterId %s in %s/meta.properties. The broker is trying to join the wrong cluster. Configured zookeeper.connect may be wrong", b.clusterID, m.ClusterID, dir)
		}
		if stored >= 0 && m.BrokerID != stored {
			return fmt.Errorf("the log directories hold different broker ids (%d and %d) in meta.properties", stored, m.BrokerID)
		}
		stored = m.BrokerID
	}
	switch {
	case b.cfg.BrokerID >= 0:
		if stored >= 0 && stored != b.cfg.BrokerID {
			return fmt.Errorf("configured broker.id %d doesn't match stored broker.id %d in meta.properties. If you moved your data, make sure your configured broker.id matches. If you intend to create a new broker, you should remove all data in your data directories (log.dirs)", b.cfg.BrokerID, stored)
		}
		b.id = model.BrokerID(b.cfg.BrokerID)
	case stored >= 0:
		b.id = model.BrokerID(stored)
	case b.cfg.BrokerIDGenerationEnable:
		id, err := b.zk.GenerateBrokerID(ctx, b.cfg.ReservedBrokerMaxID)
		if err != nil {
			return fmt.Errorf("generating a broker id: %w", err)
		}
		b.id = model.BrokerID(id)
	default:
		return errors.New("broker.id is not set and broker.id.generation.enable is false")
	}
	b.cfg.SetBrokerID(int32(b.id))
	return nil
}

// openLogDirs locks and loads every log directory and writes the missing
// meta.properties files.
func (b *Broker) openLogDirs() error {
	b.dirs = &logDirs{}
	for _, path := range b.cfg.LogDirs {
		opts := logdir.DefaultOptions(path)
		opts.Logger = b.log
		opts.TopicConfig = b.topics.logConfig
		opts.RecoveryThreads = int(b.cfg.NumRecoveryThreadsPerDataDir)
		opts.RetentionCheckIntervalMs = b.cfg.LogRetentionCheckIntervalMs
		opts.RecoveryCheckpointIntervalMs = int64(b.cfg.LogFlushOffsetCheckpointIntervalMs)
		opts.StartOffsetCheckpointIntervalMs = int64(b.cfg.LogFlushStartOffsetCheckpointIntervalMs)
		opts.HighWatermarkCheckpointMs = b.cfg.ReplicaHighWatermarkCheckpointIntervalMs
		opts.DeleteDirDelayMs = b.cfg.LogSegmentDeleteDelayMs
		opts.ProducerIDExpirationMs = int64(b.cfg.ProducerIDExpirationMs)
		opts.TxnVerification = b.cfg.TransactionPartitionVerificationEnable
		opts.OnOffline = func(err error) { b.log.Error().Err(err).Str("dir", path).Msg("log directory offline") }
		d, err := logdir.Open(opts)
		if err != nil {
			return fmt.Errorf("opening log directory %s: %w", path, err)
		}
		b.dirs.dirs = append(b.dirs.dirs, d)
		if _, ok, err := logdir.ReadMetaProperties(path); err != nil {
			return err
		} else if !ok {
			m := logdir.MetaProperties{Version: 0, BrokerID: int32(b.id), ClusterID: b.clusterID}
			if err := logdir.WriteMetaProperties(segment.OS{}, path, m, time.Now()); err != nil {
				return fmt.Errorf("writing %s/meta.properties: %w", path, err)
			}
		}
	}
	return nil
}

func (b *Broker) serverConfig() netserver.Config {
	cfg := netserver.Config{
		MaxRequestSize:     b.cfg.SocketRequestMaxBytes,
		IdleTimeout:        config.Millis(b.cfg.ConnectionsMaxIdleMs),
		SendBufferBytes:    int(b.cfg.SocketSendBufferBytes),
		ReceiveBufferBytes: int(b.cfg.SocketReceiveBufferBytes),
		Logger:             b.log,
	}
	for _, l := range b.cfg.Listeners {
		cfg.Listeners = append(cfg.Listeners, netserver.ListenerConfig{Name: l.Listener, Host: l.Host, Port: int(l.Port)})
	}
	return cfg
}

func (b *Broker) apiHandler() *api.Handler {
	return api.New(api.Deps{
		BrokerID: b.id, ClusterID: b.clusterID, Cache: b.cache, Replicas: b.replicas,
		Admin: &admin.Service{
			ZK:                  b.zk,
			Defaults:            admin.CreateDefaults{NumPartitions: b.cfg.NumPartitions, ReplicationFactor: int16(b.cfg.DefaultReplicationFactor)},
			ValidateTopicConfig: b.cfg.ValidateTopicConfig,
			DeleteTopicEnable:   b.cfg.DeleteTopicEnable,
			Logger:              b.log,
		},
		IsController:         func() bool { return b.ctrl.IsActive() },
		Controller:           b.ctrl,
		AutoCreateTopics:     b.cfg.AutoCreateTopicsEnable,
		DescribeTopicConfigs: b.topics.describe,
		DescribeBrokerConfigs: func(context.Context, string) ([]api.ConfigEntry, error) {
			return toAPIEntries(config.DescribeBrokerConfigs(b.cfg)), nil
		},
		DescribeNewTopicConfigs: func(o map[string]string) []api.ConfigEntry {
			return toAPIEntries(config.DescribeTopicConfigs(b.cfg, o))
		},
		TopicCompression: func(topic string) string { return b.topics.effective(topic).CompressionType },
		Groups:           b.groups,
		ProducerIDs:      b.producerIDs,
		Txn:              b.txns,
		TxnMarkerWritten: b.txnMarkerWritten,
		VerifyTxn:        b.verifyTxn(),
		TxnTopic:         b.txnTopicSettings(),
		OffsetsTopic:     b.offsetsTopicSettings(),
		Logger:           b.log,
	})
}

// register writes /brokers/ids/<id> with the advertised endpoints (ports
// resolved after binding) and records the broker epoch.
func (b *Broker) register(ctx context.Context) error {
	bound := map[string]int32{}
	for _, l := range b.cfg.Listeners {
		if a, ok := b.server.Addr(l.Listener).(*net.TCPAddr); ok {
			bound[l.Listener] = int32(a.Port)
		}
	}
	b.reg = zkmeta.BrokerRegistration{
		ID: b.id, Endpoints: b.cfg.AdvertisedEndpoints(bound), Rack: b.cfg.BrokerRack,
		JMXPort: -1, Timestamp: time.Now().UnixMilli(),
		Features: map[string]zkmeta.FeatureRange{"metadata.version": {Min: 1, Max: 21}},
	}
	return b.reregister(ctx)
}

// reregister writes the registration. A node still held by this broker's
// previous process (killed before its session expired) is waited out for up
// to a session timeout, where Kafka would refuse to start.
func (b *Broker) reregister(ctx context.Context) error {
	deadline := time.Now().Add(b.cfg.ZooKeeperSessionTimeout() + 5*time.Second)
	for {
		b.reg.Timestamp = time.Now().UnixMilli()
		epoch, err := b.zk.RegisterBroker(ctx, b.reg)
		if errors.Is(err, zkmeta.ErrBrokerIDInUse) && time.Now().Before(deadline) {
			b.log.Warn().Msg("broker id still registered by a previous session; waiting for it to expire")
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("registering broker %d in ZooKeeper: %w", b.id, err)
		}
		b.replicas.SetBrokerEpoch(epoch)
		b.brokerEpoch.Store(epoch)
		b.log.Info().Int64("brokerEpoch", epoch).Msg("registered in ZooKeeper")
		return nil
	}
}

// followSession reacts to ZooKeeper session changes: an expired session
// makes the controller resign (its znodes are gone); a new session means
// registering again and rejoining the election.
func (b *Broker) followSession() {
	defer close(b.sessionDone)
	for ev := range b.zk.SessionEvents() {
		switch ev.Type {
		case zkmeta.SessionExpired:
			b.log.Warn().Msg("ZooKeeper session expired")
			b.ctrl.SessionExpired()
		case zkmeta.SessionEstablished:
			b.log.Info().Int64("session", ev.SessionID).Msg("new ZooKeeper session; registering again")
			ctx, cancel := context.WithTimeout(context.Background(), b.cfg.ZooKeeperSessionTimeout())
			if err := b.reregister(ctx); err != nil {
				b.log.Error().Err(err).Msg("re-registering after a session expiry")
			}
			cancel()
			b.ctrl.Reelect()
		}
	}
}

// Close shuts the broker down: a controlled shutdown moves its
// leaderships away (shutdown.go), the controller resigns, the listeners
// close, fetchers stop, every log directory is flushed and closed (with a
// clean-shutdown marker), and the ZooKeeper session ends (removing the
// broker's ephemeral znodes at once).
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		var errs []error
		b.controlledShutdown()
		if b.ctrl != nil {
			b.ctrl.Close()
		}
		if b.server != nil {
			errs = append(errs, b.server.Close())
		}
		if b.groups != nil {
			b.groups.Close()
		}
		if b.txns != nil {
			b.txns.Close()
		}
		if b.markers != nil {
			b.markers.Close()
		}
		if b.verifier != nil {
			b.verifier.close()
		}
		if b.replicas != nil {
			b.replicas.Close()
		}
		if b.dirs != nil {
			for _, d := range b.dirs.dirs {
				errs = append(errs, d.Close())
			}
		}
		if b.zk != nil {
			errs = append(errs, b.zk.Close())
			if b.sessionDone != nil {
				<-b.sessionDone
			}
		}
		b.closeErr = errors.Join(errs...)
		b.log.Info().Err(b.closeErr).Msg("kbroker stopped")
	})
	return b.closeErr
}
