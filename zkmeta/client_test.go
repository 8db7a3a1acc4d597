package zkmeta

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/kbroker/kbroker/model"
)

func TestConnectCreatesChroot(t *testing.T) {
	e := newEnv(t)
	nested := e.chroot + "/kafka/cluster1"
	c := connect(t, testZK.Addr, nested, 10*time.Second)
	for _, p := range []string{e.chroot, e.chroot + "/kafka", nested} {
		data, stat := rawGet(t, e.raw, p)
		if len(data) != 0 || stat.EphemeralOwner != 0 {
			t.Errorf("%s: data %q, ephemeralOwner %d; want persistent, null", p, data, stat.EphemeralOwner)
		}
	}
	// Paths are relative to the chroot.
	if err := c.CreateTopLevelPaths(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if !rawExists(t, e.raw, nested+"/brokers/ids") || rawExists(t, e.raw, "/brokers/ids/"+strings.TrimPrefix(nested, "/")) {
		t.Fatal("top-level paths not under the chroot")
	}
	// An existing chroot is fine.
	connect(t, testZK.Addr, nested+"/", 10*time.Second)
}

func TestConnectFailsWithoutServer(t *testing.T) {
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err = Connect(ctx, Config{Connect: "127.0.0.1:" + strconv.Itoa(port), SessionTimeout: 2 * time.Second, ConnectionTimeout: 300 * time.Millisecond})
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Connect took %v to give up", d)
	}
	waitFor(t, 10*time.Second, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

func TestCreateTopLevelPaths(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	for range 2 { // idempotent
		if err := c.CreateTopLevelPaths(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"/consumers", "/brokers/ids", "/brokers/topics", "/config/changes", "/admin/delete_topics",
		"/brokers/seqid", "/isr_change_notification", "/latest_producer_id_block", "/log_dir_event_notification",
		"/config/topics", "/config/clients", "/config/users", "/config/brokers", "/config/ips", "/brokers", "/config", "/admin"}
	for _, p := range want {
		e.wantEmptyPersistent(p)
	}
}

func TestClusterID(t *testing.T) {
	e := newEnv(t)
	a, b := e.client(), e.client()
	id, err := a.GetOrCreateClusterID(ctxT(t), "8Y2ov0hCS6ek7yF1d3xg1A")
	if err != nil || id != "8Y2ov0hCS6ek7yF1d3xg1A" {
		t.Fatalf("first: %q, %v", id, err)
	}
	e.wantData("/cluster/id", `{"version":"1","id":"8Y2ov0hCS6ek7yF1d3xg1A"}`, false)
	e.wantEmptyPersistent("/cluster")
	// Another broker proposing another id reads the existing one.
	id, err = b.GetOrCreateClusterID(ctxT(t), "AAAAAAAAAAAAAAAAAAAAAB")
	if err != nil || id != "8Y2ov0hCS6ek7yF1d3xg1A" {
		t.Fatalf("second: %q, %v", id, err)
	}
	e.wantData("/cluster/id", `{"version":"1","id":"8Y2ov0hCS6ek7yF1d3xg1A"}`, false)

	// No proposal: a fresh 22-character id is created.
	e2 := newEnv(t)
	id, err = e2.client().GetOrCreateClusterID(ctxT(t), "")
	if err != nil || len(id) != 22 {
		t.Fatalf("generated: %q, %v", id, err)
	}
	e2.wantData("/cluster/id", `{"version":"1","id":"`+id+`"}`, false)
}

func TestGenerateBrokerID(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	// Works before CreateTopLevelPaths too (creates /brokers/seqid).
	for _, want := range []int32{1001, 1002, 1003} {
		got, err := c.GenerateBrokerID(ctxT(t), 1000)
		if err != nil || got != want {
			t.Fatalf("GenerateBrokerID = %d, %v; want %d", got, err, want)
		}
	}
	_, stat := e.get("/brokers/seqid")
	if stat.Version != 3 || stat.EphemeralOwner != 0 || stat.DataLength != 0 {
		t.Fatalf("/brokers/seqid: %+v", stat)
	}
	// A second broker continues the sequence.
	if got, err := e.client().GenerateBrokerID(ctxT(t), 1000); err != nil || got != 1004 {
		t.Fatalf("second client: %d, %v", got, err)
	}
}

func TestWatchesCloseOnClientCloseAndNoGoroutineLeak(t *testing.T) {
	e := newEnv(t)
	setup := e.client()
	if err := setup.CreateTopLevelPaths(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	setup.Close()
	before := runtime.NumGoroutine()

	c, err := Connect(ctxT(t), Config{Connect: testZK.Addr + e.chroot, SessionTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	_, w1, err := c.WatchBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, _, w2, err := c.WatchController(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, w3, err := c.WatchTopic(ctx, "nope")
	if err != nil {
		t.Fatal(err)
	}
	_, w4, err := c.WatchTopicDeletions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, w5, err := c.WatchTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range []<-chan struct{}{w1, w2, w3, w4, w5} {
		if isClosed(w) {
			t.Fatalf("watch %d closed before anything happened", i+1)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for i, w := range []<-chan struct{}{w1, w2, w3, w4, w5} {
		if !isClosed(w) {
			t.Fatalf("watch %d still open after Close", i+1)
		}
	}
	if _, ok := <-c.SessionEvents(); ok {
		t.Fatal("SessionEvents not closed")
	}
	// Calls after Close fail instead of hanging.
	if _, _, err := c.GetController(ctx); err == nil {
		t.Fatal("GetController after Close succeeded")
	}
	if _, _, err := c.WatchBrokers(ctx); err == nil {
		t.Fatal("WatchBrokers after Close succeeded")
	}
	c.Close() // twice is fine
	waitFor(t, 10*time.Second, "zkmeta and go-zookeeper goroutines to end", func() bool {
		return runtime.NumGoroutine() <= before
	})
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if strings.Contains(stacks, "zkmeta.(*Client)") {
		t.Fatalf("zkmeta goroutines left:\n%s", stacks)
	}
}

func TestWatchesFireOnChange(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	other := e.client()
	ctx := ctxT(t)
	if err := c.CreateTopLevelPaths(ctx); err != nil {
		t.Fatal(err)
	}

	ids, brokersChanged, err := c.WatchBrokers(ctx)
	if err != nil || len(ids) != 0 {
		t.Fatalf("WatchBrokers = %v, %v", ids, err)
	}
	id, ok, ctrlChanged, err := c.WatchController(ctx)
	if err != nil || ok {
		t.Fatalf("WatchController = %d, %v, %v", id, ok, err)
	}
	topics, topicsChanged, err := c.WatchTopics(ctx)
	if err != nil || len(topics) != 0 {
		t.Fatalf("WatchTopics = %v, %v", topics, err)
	}
	_, _, ok, topicChanged, err := c.WatchTopic(ctx, "t1")
	if err != nil || ok {
		t.Fatalf("WatchTopic = %v, %v", ok, err)
	}
	dels, delsChanged, err := c.WatchTopicDeletions(ctx)
	if err != nil || len(dels) != 0 {
		t.Fatalf("WatchTopicDeletions = %v, %v", dels, err)
	}

	if _, err := other.RegisterBroker(ctx, BrokerRegistration{ID: 4, JMXPort: -1}); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(brokersChanged, 10*time.Second) {
		t.Fatal("broker watch did not fire on registration")
	}
	if isClosed(ctrlChanged) || isClosed(topicsChanged) || isClosed(topicChanged) || isClosed(delsChanged) {
		t.Fatal("an unrelated watch fired")
	}
	ids, brokersChanged, err = c.WatchBrokers(ctx)
	if err != nil || len(ids) != 1 || ids[0] != 4 {
		t.Fatalf("re-armed WatchBrokers = %v, %v", ids, err)
	}

	if _, err := other.ElectController(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(ctrlChanged, 10*time.Second) {
		t.Fatal("controller watch did not fire on creation")
	}
	id, ok, ctrlChanged, err = c.WatchController(ctx)
	if err != nil || !ok || id != 4 {
		t.Fatalf("re-armed WatchController = %d, %v, %v", id, ok, err)
	}

	a := TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {4}}}
	if err := other.CreateTopic(ctx, "t1", a, nil); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(topicsChanged, 10*time.Second) || !closedWithin(topicChanged, 10*time.Second) {
		t.Fatal("topic watches did not fire on creation")
	}
	got, version, ok, topicChanged, err := c.WatchTopic(ctx, "t1")
	if err != nil || !ok || version != 0 || len(got.Partitions) != 1 {
		t.Fatalf("re-armed WatchTopic = %+v, %d, %v, %v", got, version, ok, err)
	}
	a.Partitions[1] = []model.BrokerID{4}
	if _, err := other.SetTopicAssignment(ctx, nil, "t1", a, 0); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(topicChanged, 10*time.Second) {
		t.Fatal("topic watch did not fire on data change")
	}

	if err := other.MarkTopicForDeletion(ctx, "t1"); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(delsChanged, 10*time.Second) {
		t.Fatal("deletion watch did not fire")
	}

	// The controller and the broker going away (session closed) fire too.
	other.Close()
	if !closedWithin(ctrlChanged, 10*time.Second) {
		t.Fatal("controller watch did not fire on the controller's session close")
	}
	if !closedWithin(brokersChanged, 10*time.Second) {
		t.Fatal("broker watch did not fire on the broker's session close")
	}
	if ids, _, err := c.WatchBrokers(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("brokers after close: %v, %v", ids, err)
	}
}

func TestSessionExpiry(t *testing.T) {
	e := newEnv(t)
	px := newProxy(t, testZK.Addr)
	ctx := ctxT(t)
	setup := e.client()
	if err := setup.CreateTopLevelPaths(ctx); err != nil {
		t.Fatal(err)
	}
	// A short session (the server allows 2 ticks minimum) through the proxy.
	c := connect(t, px.Addr(), e.chroot, 1500*time.Millisecond)
	first := c.SessionID()
	epoch1, err := c.RegisterBroker(ctx, BrokerRegistration{ID: 1, JMXPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ElectController(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, brokersChanged, err := c.WatchBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, topicChanged, err := c.WatchTopic(ctx, "later")
	if err != nil {
		t.Fatal(err)
	}

	px.Cut()
	// The server expires the session: its ephemeral nodes vanish.
	waitFor(t, 20*time.Second, "the server to expire the session", func() bool {
		return !e.exists("/brokers/ids/1") && !e.exists("/controller")
	})
	px.Restore()

	var events []SessionEvent
	deadline := time.After(20 * time.Second)
	for len(events) < 2 {
		select {
		case ev := <-c.SessionEvents():
			events = append(events, ev)
		case <-deadline:
			t.Fatalf("session events so far: %+v", events)
		}
	}
	if events[0] != (SessionEvent{Type: SessionExpired, SessionID: first}) {
		t.Fatalf("first event %+v, want SessionExpired of 0x%x", events[0], first)
	}
	if events[1].Type != SessionEstablished || events[1].SessionID == first || events[1].SessionID == 0 ||
		events[1].SessionID != c.SessionID() {
		t.Fatalf("second event %+v (session now 0x%x)", events[1], c.SessionID())
	}
	// Watches of the lost session have been closed.
	if !isClosed(brokersChanged) || !isClosed(topicChanged) {
		t.Fatal("watches of the expired session are still open")
	}
	// The new session registers again with a new epoch.
	epoch2, err := c.RegisterBroker(ctx, BrokerRegistration{ID: 1, JMXPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	if epoch2 <= epoch1 {
		t.Fatalf("epoch after re-registration %d, before %d", epoch2, epoch1)
	}
	_, stat := e.get("/brokers/ids/1")
	if stat.EphemeralOwner != c.SessionID() || stat.Czxid != epoch2 {
		t.Fatalf("stat %+v", stat)
	}
	f, err := c.ElectController(ctx, 1)
	if err != nil || f.Epoch != 2 {
		t.Fatalf("re-election: %+v, %v", f, err)
	}
	select {
	case ev := <-c.SessionEvents():
		t.Fatalf("unexpected event %+v", ev)
	default:
	}
}

func TestReconnectKeepsSessionAndWatches(t *testing.T) {
	e := newEnv(t)
	px := newProxy(t, testZK.Addr)
	ctx := ctxT(t)
	setup := e.client()
	if err := setup.CreateTopLevelPaths(ctx); err != nil {
		t.Fatal(err)
	}
	c := connect(t, px.Addr(), e.chroot, 20*time.Second)
	session := c.SessionID()
	if _, err := c.RegisterBroker(ctx, BrokerRegistration{ID: 1, JMXPort: -1}); err != nil {
		t.Fatal(err)
	}
	_, changed, err := c.WatchBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	px.Cut()
	waitFor(t, 10*time.Second, "the client to notice", func() bool { return c.conn.State() != zk.StateHasSession })
	// A change while disconnected is delivered once the client is back.
	if _, err := setup.RegisterBroker(ctx, BrokerRegistration{ID: 2, JMXPort: -1}); err != nil {
		t.Fatal(err)
	}
	// A request made while disconnected is retried until the link is back.
	got := make(chan error, 1)
	go func() {
		_, err := c.GenerateBrokerID(ctx, 1000)
		got <- err
	}()
	px.Restore()
	if err := <-got; err != nil {
		t.Fatalf("request across the reconnection: %v", err)
	}
	if !closedWithin(changed, 10*time.Second) {
		t.Fatal("watch set before the disconnection did not fire")
	}
	if c.SessionID() != session {
		t.Fatalf("session changed: 0x%x → 0x%x", session, c.SessionID())
	}
	if _, stat := e.get("/brokers/ids/1"); stat.EphemeralOwner != session {
		t.Fatal("registration lost across a reconnection")
	}
	select {
	case ev := <-c.SessionEvents():
		t.Fatalf("unexpected session event %+v", ev)
	default:
	}
}

func TestContextEndsRetries(t *testing.T) {
	e := newEnv(t)
	px := newProxy(t, testZK.Addr)
	c := connect(t, px.Addr(), e.chroot, 20*time.Second)
	px.Cut()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, _, err := c.GetController(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GetController with a dead link: %v", err)
	}
}
