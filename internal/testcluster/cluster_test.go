package testcluster

import (
	"slices"
	"strings"
	"testing"
)

func TestClusterOfProcesses(t *testing.T) {
	c := NewCluster(t, 3, map[string]string{"zookeeper.session.timeout.ms": "3000"}, WithBrokerOptions(fakeOptions(t)))
	if c.N() != 3 {
		t.Fatalf("N = %d", c.N())
	}
	ids, err := c.RegisteredBrokers()
	if err != nil || !slices.Equal(ids, []int32{0, 1, 2}) {
		t.Fatalf("registered %v, %v", ids, err)
	}
	addrs := c.BootstrapAddrs()
	if len(addrs) != 3 || c.Bootstrap() != strings.Join(addrs, ",") {
		t.Fatalf("bootstrap %v / %q", addrs, c.Bootstrap())
	}
	for i, b := range c.Brokers() {
		if b.ID() != int32(i) || b.Addr() != addrs[i] || b.ZKConnect() != c.ZKConnect() || c.BrokerByID(int32(i)) != b {
			t.Fatalf("broker %d: id %d addr %s connect %s", i, b.ID(), b.Addr(), b.ZKConnect())
		}
		if p := b.Props(); p["offsets.topic.replication.factor"] != "" || p["zookeeper.session.timeout.ms"] != "3000" {
			t.Fatalf("broker %d props %v", i, p)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(addrs)))) != 3 {
		t.Fatalf("brokers share an address: %v", addrs)
	}

	ctl := c.WaitForController()
	epoch, _, err := c.ControllerEpoch()
	if err != nil || epoch != 1 {
		t.Fatalf("controller epoch %d, %v", epoch, err)
	}
	if eph, err := c.ZK().IsEphemeral("/controller"); err != nil || !eph {
		t.Fatalf("/controller ephemeral %v, %v", eph, err)
	}

	// Failover: kill -9 the controller; another broker takes over once the
	// dead session expires.
	c.BrokerByID(ctl).Kill9()
	next := c.WaitForNewController(ctl)
	if next == ctl || next < 0 || next > 2 {
		t.Fatalf("new controller %d (old %d)", next, ctl)
	}
	if epoch2, _, err := c.ControllerEpoch(); err != nil || epoch2 != 2 {
		t.Fatalf("controller epoch after failover %d, %v", epoch2, err)
	}
	var alive []int32
	for id := int32(0); id < 3; id++ {
		if id != ctl {
			alive = append(alive, id)
		}
	}
	c.WaitForRegistered(alive...)
	c.BrokerByID(ctl).Restart()
	c.WaitForRegistered(0, 1, 2)
}

func TestClusterSmallAndNumbered(t *testing.T) {
	z := StartZooKeeper(t)
	c := NewCluster(t, 1, map[string]string{"num.partitions": "3"},
		WithZooKeeper(z), FirstBrokerID(5), WithBrokerOptions(fakeOptions(t)),
		PerBroker(func(i int, p map[string]string) { p["broker.rack"] = "rack-" + string(rune('a'+i)) }))
	b := c.Broker(0)
	p := b.Props()
	if b.ID() != 5 || p["offsets.topic.replication.factor"] != "1" || p["num.partitions"] != "3" || p["broker.rack"] != "rack-a" {
		t.Fatalf("id %d props %v", b.ID(), p)
	}
	if c.ZooKeeper() != z || !strings.HasPrefix(c.ZKConnect(), z.Addr()+"/kbroker-test-") {
		t.Fatalf("cluster on %q, want the dedicated server %s", c.ZKConnect(), z.Addr())
	}
	if id := c.WaitForController(); id != 5 {
		t.Fatalf("controller %d", id)
	}
}

func TestClusterInProcess(t *testing.T) {
	old := InProcessFactory
	InProcessFactory = fakeFactory
	t.Cleanup(func() { InProcessFactory = old })

	c := NewCluster(t, 2, map[string]string{"zookeeper.session.timeout.ms": "3000"},
		WithBrokerOptions(fakeOptions(t)), InProcess(1))
	if c.Broker(0).InProcess() || !c.Broker(1).InProcess() {
		t.Fatal("broker 1 should be in-process and broker 0 a process")
	}
	if p := c.Broker(0).Props(); p["offsets.topic.replication.factor"] != "2" {
		t.Fatalf("offsets.topic.replication.factor = %q for 2 brokers", p["offsets.topic.replication.factor"])
	}
	in := c.Broker(1)
	if !strings.Contains(in.Log(), `"message":"registered","broker":1`) {
		t.Fatalf("in-process log:\n%s", in.Log())
	}
	in.Kill9()
	if in.Running() {
		t.Fatal("running after Kill9")
	}
	c.WaitForRegistered(0)
	in.Restart()
	c.WaitForRegistered(0, 1)
	if err := in.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := in.Stop(); err == nil {
		t.Fatal("second Stop succeeded")
	}
}

func TestClusterAllInProcess(t *testing.T) {
	old := InProcessFactory
	InProcessFactory = fakeFactory
	t.Cleanup(func() { InProcessFactory = old })
	c := NewCluster(t, 2, nil, InProcess())
	for _, b := range c.Brokers() {
		if !b.InProcess() || b.Process() != nil {
			t.Fatalf("%s is not in-process", b.Name())
		}
	}
	c.WaitForController()
}
