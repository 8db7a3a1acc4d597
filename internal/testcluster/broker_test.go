package testcluster

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

func TestBrokerProcessLifecycle(t *testing.T) {
	b := StartBroker(t, map[string]string{
		"broker.id":                    "7",
		"zookeeper.session.timeout.ms": "3000",
	}, fakeOptions(t))
	if b.ID() != 7 || b.Name() != "broker-7" || b.InProcess() {
		t.Fatalf("id %d name %q inprocess %v", b.ID(), b.Name(), b.InProcess())
	}
	// Defaults filled in: a chroot on the shared ZooKeeper, a free port, a
	// log directory in the broker's temp directory.
	if !strings.HasPrefix(b.ZKConnect(), SharedZooKeeper(t).Addr()+"/kbroker-test-") {
		t.Errorf("zookeeper.connect = %q", b.ZKConnect())
	}
	if ls := b.Listeners(); len(ls) != 1 || ls[0].Name != "PLAINTEXT" || ls[0].Port == 0 {
		t.Errorf("listeners = %+v", ls)
	}
	if b.LogDir() != filepath.Join(b.Dir(), "data") {
		t.Errorf("LogDir = %q", b.LogDir())
	}
	meta, err := os.ReadFile(filepath.Join(b.LogDir(), "meta.properties"))
	if err != nil || !strings.Contains(string(meta), "broker.id=7") {
		t.Errorf("meta.properties = %q, %v", meta, err)
	}
	written, err := os.ReadFile(b.PropsPath())
	if err != nil || !strings.Contains(string(written), "\nlisteners=PLAINTEXT://127.0.0.1:") {
		t.Errorf("server.properties = %q, %v", written, err)
	}

	// Ready means registered (ephemeral) and listening.
	reg, st, err := b.Registration()
	if err != nil {
		t.Fatal(err)
	}
	if st.EphemeralOwner == 0 || len(reg.Endpoints) != 1 || reg.Endpoints[0] != "PLAINTEXT://"+b.Addr() {
		t.Fatalf("registration %+v owner %x", reg, st.EphemeralOwner)
	}
	conn, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	if !strings.Contains(b.Log(), `"message":"registered"`) {
		t.Fatalf("log lacks the broker's output:\n%s", b.Log())
	}

	// Orderly stop: exit 0, session closed, znode gone at once.
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := b.ZK().Exists("/brokers/ids/7"); err != nil || ok {
		t.Fatalf("registration after Stop: exists=%v err=%v", ok, err)
	}
	b.Restart()
	_, st2, err := b.Registration()
	if err != nil || st2.Czxid == st.Czxid {
		t.Fatalf("after Restart: %v, czxid %d (was %d)", err, st2.Czxid, st.Czxid)
	}

	// kill -9: the registration outlives the process until the session
	// expires; Restart waits for that, then for the new registration.
	b.Kill9()
	if b.Running() {
		t.Fatal("running after Kill9")
	}
	if ok, _, err := b.ZK().Exists("/brokers/ids/7"); err != nil || !ok {
		t.Fatalf("registration right after kill -9: exists=%v err=%v", ok, err)
	}
	b.Restart()
	_, st3, err := b.Registration()
	if err != nil || st3.Czxid == st2.Czxid {
		t.Fatalf("after Kill9+Restart: %v, czxid %d (was %d)", err, st3.Czxid, st2.Czxid)
	}
	if n := strings.Count(b.Log(), "=== start "); n != 3 {
		t.Fatalf("%d start headers in the log, want 3", n)
	}
}

func TestBrokerGeneratedIDAndPortZero(t *testing.T) {
	b := StartBroker(t, map[string]string{
		"listeners":            "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
		"advertised.listeners": "PLAINTEXT://localhost:0,INTERNAL://127.0.0.1:0",
	}, fakeOptions(t))
	if b.ID() < 1000 {
		t.Fatalf("generated id %d, want >= 1000", b.ID())
	}
	ls := b.Listeners()
	if len(ls) != 2 || ls[0].Port == 0 || ls[1].Port == 0 || ls[0].Port == ls[1].Port {
		t.Fatalf("listeners %+v", ls)
	}
	adv, err := ParseListeners(b.Props()["advertised.listeners"])
	if err != nil || adv[0].Port != ls[0].Port || adv[1].Port != ls[1].Port || adv[0].Host != "localhost" {
		t.Fatalf("advertised.listeners %q (%v)", b.Props()["advertised.listeners"], err)
	}
	if b.ListenerAddr("internal") != ls[1].DialAddr() || b.Addr() != ls[0].DialAddr() {
		t.Fatalf("Addr %q, ListenerAddr(internal) %q", b.Addr(), b.ListenerAddr("internal"))
	}
}

func TestBrokerEnvironmentIsolation(t *testing.T) {
	t.Setenv("KBROKER_SOME_OVERRIDE", "leak")
	b := StartBroker(t, nil, fakeOptions(t))
	env, err := os.ReadFile("/proc/" + strconv.Itoa(b.Process().PID()) + "/environ")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(env), "KBROKER_SOME_OVERRIDE") {
		t.Fatal("the test's KBROKER_* variables reached the broker")
	}
	if !strings.Contains(string(env), fakeEnv+"=1") {
		t.Fatal("BrokerOptions.Env did not reach the broker")
	}
}

// The failure paths are exercised through the error-returning internals so
// that the test itself does not fail.

func TestBrokerExitsBeforeReady(t *testing.T) {
	b, err := newBroker(t, map[string]string{"broker.id": "1", "fake.mode": "exit"}, fakeOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	err = b.startAndWait()
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") ||
		!strings.Contains(err.Error(), "fake broker told to exit") {
		t.Fatalf("error %v", err)
	}
}

func TestBrokerNeverRegisters(t *testing.T) {
	opts := fakeOptions(t)
	opts.ReadyTimeout = 700 * time.Millisecond
	b, err := newBroker(t, map[string]string{"broker.id": "1", "fake.mode": "noregister"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	err = b.startAndWait()
	if err == nil || !strings.Contains(err.Error(), "not registered in ZooKeeper") {
		t.Fatalf("error %v", err)
	}
}

func TestBrokerUncleanStops(t *testing.T) {
	fail := StartBroker(t, map[string]string{"broker.id": "1", "fake.mode": "fail-on-term"}, fakeOptions(t))
	if err := fail.Stop(); err == nil || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("Stop of a broker exiting 1: %v", err)
	}
	opts := fakeOptions(t)
	opts.StopTimeout = 300 * time.Millisecond
	hang := StartBroker(t, map[string]string{"broker.id": "2", "fake.mode": "hang-on-term"}, opts)
	if err := hang.Stop(); err == nil || !strings.Contains(err.Error(), "SIGKILL") {
		t.Fatalf("Stop of a broker ignoring SIGTERM: %v", err)
	}
	if hang.Running() {
		t.Fatal("still running")
	}
}

func TestBrokerDuplicateIDRefused(t *testing.T) {
	connect := Chroot(t)
	StartBroker(t, map[string]string{"broker.id": "3", "zookeeper.connect": connect}, fakeOptions(t))
	b, err := newBroker(t, map[string]string{"broker.id": "3", "zookeeper.connect": connect}, fakeOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	// The first broker's registration is not this run's: the second must
	// not be taken for ready (the fake exits, as Kafka does).
	err = b.startAndWait()
	if err == nil || !strings.Contains(err.Error(), "exited before it was ready") {
		t.Fatalf("error %v", err)
	}
	if !strings.Contains(b.Log(), zk.ErrNodeExists.Error()) {
		t.Fatalf("log:\n%s", b.Log())
	}
}

func TestBrokerPauseExpiresSession(t *testing.T) {
	b := StartBroker(t, map[string]string{"broker.id": "4", "zookeeper.session.timeout.ms": "1000"}, fakeOptions(t))
	_, st, err := b.Registration()
	if err != nil {
		t.Fatal(err)
	}
	b.Pause()
	defer b.Resume()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, _, err := b.ZK().Exists("/brokers/ids/4")
		if err == nil && !ok {
			break // the frozen broker's session expired
		}
		if time.Now().After(deadline) {
			t.Fatalf("registration of a paused broker never expired (czxid %d)", st.Czxid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
