package testcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// DefaultSessionTimeoutMs is the zookeeper.session.timeout.ms NewCluster
// gives brokers unless the test sets one: short enough that a killed
// broker's registration and /controller expire quickly, long enough for
// race-detector builds on a loaded machine.
const DefaultSessionTimeoutMs = 6000

// Cluster is n brokers sharing one ZooKeeper chroot.
type Cluster struct {
	t       testing.TB
	zk      *ZooKeeper
	connect string
	brokers []*Broker
	zkc     *ZKClient
}

type clusterConfig struct {
	zk        *ZooKeeper
	firstID   int32
	opts      BrokerOptions
	inProcess map[int]bool // nil: none; empty non-nil: all
	perBroker []func(i int, props map[string]string)
}

// ClusterOption changes how NewCluster builds a cluster.
type ClusterOption func(*clusterConfig)

// WithZooKeeper runs the cluster on z (e.g. a dedicated server from
// StartZooKeeper) instead of the shared one; it still gets its own chroot.
func WithZooKeeper(z *ZooKeeper) ClusterOption { return func(c *clusterConfig) { c.zk = z } }

// FirstBrokerID numbers brokers from id instead of 0.
func FirstBrokerID(id int32) ClusterOption { return func(c *clusterConfig) { c.firstID = id } }

// WithBrokerOptions sets how every broker runs (binary, arguments,
// environment, timeouts).
func WithBrokerOptions(o BrokerOptions) ClusterOption { return func(c *clusterConfig) { c.opts = o } }

// InProcess runs the brokers with the given indexes (all when none are
// given) in-process through InProcessFactory; the others are processes.
func InProcess(indexes ...int) ClusterOption {
	return func(c *clusterConfig) {
		if c.inProcess == nil {
			c.inProcess = map[int]bool{}
		}
		for _, i := range indexes {
			c.inProcess[i] = true
		}
		if len(indexes) == 0 {
			c.inProcess[-1] = true // all
		}
	}
}

// PerBroker edits each broker's properties (after defaults and extraProps)
// before it starts; i is the broker's index.
func PerBroker(f func(i int, props map[string]string)) ClusterOption {
	return func(c *clusterConfig) { c.perBroker = append(c.perBroker, f) }
}

// NewCluster starts n brokers, ids 0..n-1 (see FirstBrokerID), and waits
// until all are ready. Each gets: broker.id, listeners =
// PLAINTEXT://127.0.0.1:<free port>, log.dirs in its own temp directory,
// zookeeper.connect = a fresh chroot on the shared ZooKeeper (or
// WithZooKeeper's), zookeeper.session.timeout.ms = DefaultSessionTimeoutMs,
// controlled.shutdown.retry.backoff.ms = 200, and
// offsets.topic.replication.factor = n when n < 3; extraProps override
// these. Brokers are stopped together at cleanup.
func NewCluster(t testing.TB, n int, extraProps map[string]string, options ...ClusterOption) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("NewCluster: n = %d", n)
	}
	var cfg clusterConfig
	for _, o := range options {
		o(&cfg)
	}
	if cfg.zk == nil {
		cfg.zk = SharedZooKeeper(t)
	}
	c := &Cluster{t: t, zk: cfg.zk, connect: cfg.zk.Chroot(t)}
	ports, err := FreePorts(n)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		id := cfg.firstID + int32(i)
		props := map[string]string{
			"broker.id":                    strconv.Itoa(int(id)),
			"listeners":                    "PLAINTEXT://127.0.0.1:" + strconv.Itoa(ports[i]),
			"zookeeper.connect":            c.connect,
			"zookeeper.session.timeout.ms": strconv.Itoa(DefaultSessionTimeoutMs),
			// At cleanup every broker stops at once and the last ones have
			// nobody to hand their leaderships to: keep their retries short.
			"controlled.shutdown.retry.backoff.ms": "200",
		}
		if n < 3 {
			props["offsets.topic.replication.factor"] = strconv.Itoa(n)
		}
		for k, v := range extraProps {
			props[k] = v
		}
		for _, f := range cfg.perBroker {
			f(i, props)
		}
		opts := cfg.opts
		opts.InProcess = opts.InProcess || cfg.inProcess[-1] || cfg.inProcess[i]
		if opts.Name == "" {
			opts.Name = "broker-" + strconv.Itoa(int(id))
		}
		b, err := newBroker(t, props, opts)
		if err != nil {
			t.Fatal(err)
		}
		c.brokers = append(c.brokers, b)
	}
	// Registered after every broker's own cleanup, so it runs first: stop
	// them all at once rather than one SIGTERM deadline after the other.
	t.Cleanup(func() {
		for _, err := range c.parallel(func(b *Broker) error {
			if !b.Running() {
				return nil
			}
			return b.Stop()
		}) {
			t.Errorf("stop at cleanup: %v", err)
		}
	})
	if errs := c.parallel((*Broker).startAndWait); len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	c.zkc = Dial(t, c.connect)
	return c
}

// parallel runs f on every broker at once and returns the errors in
// broker order.
func (c *Cluster) parallel(f func(*Broker) error) []error {
	errs := make([]error, len(c.brokers))
	var wg sync.WaitGroup
	for i, b := range c.brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f(b)
		}()
	}
	wg.Wait()
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// N is the number of brokers.
func (c *Cluster) N() int { return len(c.brokers) }

// Broker returns the broker with index i (0-based, in id order).
func (c *Cluster) Broker(i int) *Broker { return c.brokers[i] }

// Brokers returns every broker.
func (c *Cluster) Brokers() []*Broker { return append([]*Broker(nil), c.brokers...) }

// BrokerByID returns the broker with that id, nil if none.
func (c *Cluster) BrokerByID(id int32) *Broker {
	for _, b := range c.brokers {
		if b.ID() == id {
			return b
		}
	}
	return nil
}

// BootstrapAddrs are the client addresses of every broker, running or not.
func (c *Cluster) BootstrapAddrs() []string {
	out := make([]string, len(c.brokers))
	for i, b := range c.brokers {
		out[i] = b.Addr()
	}
	return out
}

// Bootstrap is BootstrapAddrs joined with commas (for --bootstrap-server
// and kcat -b).
func (c *Cluster) Bootstrap() string { return strings.Join(c.BootstrapAddrs(), ",") }

// ZooKeeper is the server the cluster runs on.
func (c *Cluster) ZooKeeper() *ZooKeeper { return c.zk }

// ZKConnect is the brokers' zookeeper.connect, with the cluster's chroot.
func (c *Cluster) ZKConnect() string { return c.connect }

// ZK is a client on the cluster's chroot, for znode assertions.
func (c *Cluster) ZK() *ZKClient { return c.zkc }

// Controller reads /controller; ok is false when there is none.
func (c *Cluster) Controller() (id int32, ok bool, err error) {
	var ctl Controller
	_, err = c.zkc.GetJSON("/controller", &ctl)
	if errors.Is(err, zk.ErrNoNode) {
		return -1, false, nil
	}
	if err != nil {
		return -1, false, err
	}
	return ctl.BrokerID, true, nil
}

// WaitForController waits (up to 60 s) until /controller names a broker
// and returns its id.
func (c *Cluster) WaitForController() int32 {
	c.t.Helper()
	return c.waitController(func(int32) bool { return true })
}

// WaitForNewController waits (up to 60 s) until /controller names a broker
// other than old (e.g. after old was killed) and returns its id.
func (c *Cluster) WaitForNewController(old int32) int32 {
	c.t.Helper()
	return c.waitController(func(id int32) bool { return id != old })
}

func (c *Cluster) waitController(accept func(int32) bool) int32 {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var got int32 = -1
	err := c.zkc.WaitFor(ctx, "/controller", func(data []byte, st *zk.Stat) bool {
		if st == nil {
			return false
		}
		id, err := parseController(data)
		if err != nil || !accept(id) {
			return false
		}
		got = id
		return true
	})
	if err != nil {
		data, _, _ := c.zkc.Get("/controller")
		c.t.Fatalf("no acceptable controller: %v (/controller = %q)", err, data)
	}
	return got
}

func parseController(data []byte) (int32, error) {
	var ctl Controller
	if err := json.Unmarshal(data, &ctl); err != nil {
		return -1, err
	}
	return ctl.BrokerID, nil
}

// ControllerEpoch reads /controller_epoch (plain decimal text) and its
// znode version.
func (c *Cluster) ControllerEpoch() (epoch int32, version int32, err error) {
	data, st, err := c.zkc.Get("/controller_epoch")
	if err != nil {
		return 0, 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("/controller_epoch = %q: %w", data, err)
	}
	return int32(n), st.Version, nil
}

// RegisteredBrokers lists the ids under /brokers/ids, sorted.
func (c *Cluster) RegisteredBrokers() ([]int32, error) {
	kids, err := c.zkc.Children("/brokers/ids")
	if errors.Is(err, zk.ErrNoNode) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []int32
	for _, k := range kids {
		n, err := strconv.ParseInt(k, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("/brokers/ids/%s: not a broker id", k)
		}
		ids = append(ids, int32(n))
	}
	slices.Sort(ids)
	return ids, nil
}

// WaitForRegistered waits (up to the session timeout + 60 s, time for a
// killed broker's registration to expire) until exactly the given broker
// ids are registered.
func (c *Cluster) WaitForRegistered(ids ...int32) {
	c.t.Helper()
	want := append([]int32(nil), ids...)
	slices.Sort(want)
	deadline := time.Now().Add(c.brokers[0].sessionTimeout() + 60*time.Second)
	for {
		got, err := c.RegisteredBrokers()
		if err == nil && fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("registered brokers: got %v (err %v), want %v", got, err, want)
		}
		time.Sleep(25 * time.Millisecond)
	}
}
