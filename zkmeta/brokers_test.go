package zkmeta

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/kbroker/kbroker/model"
)

func testRegistration(id model.BrokerID) BrokerRegistration {
	return BrokerRegistration{
		ID: id,
		Endpoints: []model.Endpoint{
			{Listener: "PLAINTEXT", Host: "localhost", Port: 9092, SecurityProtocol: "PLAINTEXT"},
			{Listener: "REPLICATION", Host: "::1", Port: 9093, SecurityProtocol: "SASL_PLAINTEXT"},
		},
		Rack:      strp("rack-a"),
		JMXPort:   -1,
		Timestamp: 1700000000123,
		Features:  map[string]FeatureRange{"metadata.version": {Min: 1, Max: 21}},
	}
}

func TestRegisterBroker(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	if err := c.CreateTopLevelPaths(ctx); err != nil {
		t.Fatal(err)
	}
	reg := testRegistration(1)
	epoch, err := c.RegisterBroker(ctx, reg)
	if err != nil {
		t.Fatal(err)
	}
	stat := e.wantData("/brokers/ids/1",
		`{"version":5,"host":"localhost","port":9092,"jmx_port":-1,"timestamp":"1700000000123",`+
			`"endpoints":["PLAINTEXT://localhost:9092","REPLICATION://[::1]:9093"],`+
			`"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","REPLICATION":"SASL_PLAINTEXT"},`+
			`"rack":"rack-a","features":{"metadata.version":{"min_version":1,"max_version":21}}}`, true)
	if stat.EphemeralOwner != c.SessionID() {
		t.Errorf("ephemeralOwner 0x%x, session 0x%x", stat.EphemeralOwner, c.SessionID())
	}
	if stat.Version != 1 {
		t.Errorf("dataVersion %d, want 1 (create null + setData v0)", stat.Version)
	}
	if epoch != stat.Czxid || epoch == 0 {
		t.Errorf("epoch %d, czxid %d", epoch, stat.Czxid)
	}

	// Registering the same thing again in the same session is a no-op.
	if again, err := c.RegisterBroker(ctx, reg); err != nil || again != epoch {
		t.Fatalf("re-register in the same session: %d, %v", again, err)
	}

	// Another live session cannot take the id.
	other := e.client()
	if _, err := other.RegisterBroker(ctx, testRegistration(1)); !errors.Is(err, ErrBrokerIDInUse) {
		t.Fatalf("duplicate id: %v", err)
	}
	if _, st := e.get("/brokers/ids/1"); st.EphemeralOwner != c.SessionID() || st.Czxid != epoch {
		t.Fatal("the duplicate registration changed the znode")
	}

	// Reading back.
	reg2 := testRegistration(2)
	reg2.Rack = nil
	reg2.Features = nil
	epoch2, err := other.RegisterBroker(ctx, reg2)
	if err != nil {
		t.Fatal(err)
	}
	e.wantData("/brokers/ids/2",
		`{"version":5,"host":"localhost","port":9092,"jmx_port":-1,"timestamp":"1700000000123",`+
			`"endpoints":["PLAINTEXT://localhost:9092","REPLICATION://[::1]:9093"],`+
			`"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT","REPLICATION":"SASL_PLAINTEXT"},"features":{}}`, true)
	brokers, err := c.GetBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[model.BrokerID]RegisteredBroker{
		1: {BrokerRegistration: reg, Epoch: epoch},
		2: {BrokerRegistration: reg2, Epoch: epoch2},
	}
	if !reflect.DeepEqual(brokers, want) {
		t.Fatalf("GetBrokers:\n got %+v\nwant %+v", brokers, want)
	}
	if b, ok, err := c.GetBroker(ctx, 2); err != nil || !ok || !reflect.DeepEqual(b, want[2]) {
		t.Fatalf("GetBroker = %+v, %v, %v", b, ok, err)
	}
	if _, ok, err := c.GetBroker(ctx, 3); err != nil || ok {
		t.Fatalf("GetBroker(3) = %v, %v", ok, err)
	}

	// Closing the session removes the registration at once; the id is free.
	c.Close()
	if e.exists("/brokers/ids/1") {
		t.Fatal("registration survived Close")
	}
	epoch3, err := other.RegisterBroker(ctx, testRegistration(1))
	if err != nil || epoch3 <= epoch {
		t.Fatalf("take over a freed id: %d, %v", epoch3, err)
	}
}

func TestRegisterBrokerTimestampDefaultsToNow(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	before := time.Now().UnixMilli()
	reg := testRegistration(9)
	reg.Timestamp = 0
	if _, err := c.RegisterBroker(ctxT(t), reg); err != nil { // also creates /brokers/ids
		t.Fatal(err)
	}
	got, ok, err := c.GetBroker(ctxT(t), 9)
	if err != nil || !ok || got.Timestamp < before || got.Timestamp > time.Now().UnixMilli() {
		t.Fatalf("timestamp %d (before %d), %v, %v", got.Timestamp, before, ok, err)
	}
}

func TestRegisterBrokerReplacesOwnStaleSession(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	if err := c.CreateTopLevelPaths(ctx); err != nil {
		t.Fatal(err)
	}
	// A node left by an earlier session of this client that the server has
	// not cleaned up yet (ZOOKEEPER-2985). Stand in for it with another
	// live session and tell the client that session was its own.
	stale := rawConn(t, testZK.Addr)
	if _, err := stale.Create(e.chroot+"/brokers/ids/5", []byte(`{"version":5}`), zk.FlagEphemeral, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RegisterBroker(ctx, testRegistration(5)); !errors.Is(err, ErrBrokerIDInUse) {
		t.Fatalf("before the session is known as ours: %v", err)
	}
	c.mu.Lock()
	c.prevSessions = append(c.prevSessions, stale.SessionID())
	c.mu.Unlock()
	epoch, err := c.RegisterBroker(ctx, testRegistration(5))
	if err != nil {
		t.Fatal(err)
	}
	data, stat := e.get("/brokers/ids/5")
	if stat.EphemeralOwner != c.SessionID() || stat.Czxid != epoch || stat.Version != 1 ||
		string(data) != string(MarshalBrokerRegistration(testRegistration(5))) {
		t.Fatalf("after replacement: %s %+v", data, stat)
	}
}

func TestRegisterBrokerUpdatesOwnNode(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	epoch, err := c.RegisterBroker(ctx, testRegistration(3))
	if err != nil {
		t.Fatal(err)
	}
	reg := testRegistration(3)
	reg.Endpoints[0].Port = 19092
	if again, err := c.RegisterBroker(ctx, reg); err != nil || again != epoch {
		t.Fatalf("update: %d, %v", again, err)
	}
	data, stat := e.get("/brokers/ids/3")
	if string(data) != string(MarshalBrokerRegistration(reg)) || stat.Czxid != epoch {
		t.Fatalf("after update: %s %+v", data, stat)
	}
}
