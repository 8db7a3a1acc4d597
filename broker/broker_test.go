package broker_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kbroker/kbroker/broker"
	"github.com/kbroker/kbroker/config"
	"github.com/kbroker/kbroker/internal/testcluster"
	_ "github.com/kbroker/kbroker/internal/testcluster/inproc"
)

func TestMain(m *testing.M) { os.Exit(testcluster.Main(m)) }

// TestInProcessClusterRoundTrip runs three in-process brokers (under the
// test's race detector): a replicated topic is created through the
// controller, written with acks=all and read back.
func TestInProcessClusterRoundTrip(t *testing.T) {
	c := testcluster.NewCluster(t, 3, nil, testcluster.InProcess())
	c.WaitForController()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.DisableIdempotentWrite(), kgo.DefaultProduceTopic("rt"), kgo.ConsumeTopics("rt"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	// A broker learns of the others through the controller's
	// UpdateMetadata; until then it refuses replication factor 3 with
	// INVALID_REPLICATION_FACTOR, as Kafka does. Retry only that.
	for {
		res, err := adm.CreateTopic(ctx, 3, 3, nil, "rt")
		if errors.Is(res.Err, kerr.InvalidReplicationFactor) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond) // poll interval
			continue
		}
		if err != nil || res.Err != nil {
			t.Fatalf("CreateTopic: %v %v", err, res.Err)
		}
		break
	}
	want := map[string]bool{}
	for i := range 30 {
		v := "value-" + string(rune('a'+i%26)) + strings.Repeat("x", i)
		want[v] = true
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	got := map[string]bool{}
	for len(got) < len(want) {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(got), len(want), err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s-%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
	}
	for v := range want {
		if !got[v] {
			t.Fatalf("record %q not read back", v)
		}
	}
}

// TestSecondStartOnSameLogDirsIsRefused: a broker whose log.dirs is held by
// a running broker stops at startup with the lock error.
func TestSecondStartOnSameLogDirsIsRefused(t *testing.T) {
	b := testcluster.StartInProcess(t, nil)
	props := b.Props()
	props["listeners"] = "PLAINTEXT://127.0.0.1:0"
	delete(props, "advertised.listeners")
	cfg, err := config.Load(config.Options{Properties: props, IgnoreEnv: true})
	if err != nil {
		t.Fatal(err)
	}
	second := broker.New(cfg, zerolog.Nop())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = second.Start(ctx)
	if err == nil {
		second.Close()
		t.Fatal("a second broker started on a locked log directory")
	}
	if !strings.Contains(err.Error(), ".lock") && !strings.Contains(strings.ToLower(err.Error()), "lock") {
		t.Fatalf("error does not name the lock: %v", err)
	}
}

// TestGeneratedBrokerIDIsKept: without broker.id the broker takes 1001
// from /brokers/seqid, writes it to meta.properties and keeps it across a
// restart.
func TestGeneratedBrokerIDIsKept(t *testing.T) {
	b := testcluster.StartInProcess(t, map[string]string{"zookeeper.connect": testcluster.Chroot(t)})
	if b.ID() != 1001 {
		t.Fatalf("generated broker id %d, want 1001 (reserved.broker.max.id 1000 + first seqid version 1)", b.ID())
	}
	meta, err := os.ReadFile(filepath.Join(b.LogDir(), "meta.properties"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(meta), "\nbroker.id=1001\n") {
		t.Fatalf("meta.properties:\n%s", meta)
	}
	b.Restart()
	if b.ID() != 1001 {
		t.Fatalf("id after restart %d, want 1001", b.ID())
	}
}

// TestClusterIDMismatchIsRefused: a log directory that belongs to another
// cluster makes the broker refuse to start.
func TestClusterIDMismatchIsRefused(t *testing.T) {
	dir := t.TempDir()
	meta := "#\n#Sun Nov 22 10:00:00 UTC 2026\ncluster.id=AAAAAAAAAAAAAAAAAAAAAA\nversion=0\nbroker.id=5\n"
	if err := os.WriteFile(filepath.Join(dir, "meta.properties"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.Options{IgnoreEnv: true, Properties: map[string]string{
		"broker.id": "5", "log.dirs": dir, "listeners": "PLAINTEXT://127.0.0.1:0",
		"zookeeper.connect": testcluster.Chroot(t),
	}})
	if err != nil {
		t.Fatal(err)
	}
	b := broker.New(cfg, zerolog.Nop())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = b.Start(ctx)
	if err == nil {
		b.Close()
		t.Fatal("the broker started with a meta.properties of another cluster")
	}
	if !strings.Contains(err.Error(), "AAAAAAAAAAAAAAAAAAAAAA") {
		t.Fatalf("error does not name the other cluster id: %v", err)
	}
}

// TestSessionExpiryReregisters freezes a broker process (the only broker,
// so the controller) until ZooKeeper expires its session: its ephemeral
// znodes vanish. Once it runs again it registers with a new broker epoch
// and becomes controller again with a higher epoch.
func TestSessionExpiryReregisters(t *testing.T) {
	b := testcluster.StartProcess(t, map[string]string{"broker.id": "3", "zookeeper.session.timeout.ms": "6000"})
	zc := b.ZK()
	_, st, err := b.Registration()
	if err != nil {
		t.Fatal(err)
	}
	oldEpoch := st.Czxid
	ctrlEpoch := func() int {
		data, _, err := zc.Get("/controller_epoch")
		if err != nil {
			return -1
		}
		var e int
		fmt.Sscan(string(data), &e)
		return e
	}
	waitFor(t, 60*time.Second, "the first controller election", func() bool { return ctrlEpoch() >= 1 })
	first := ctrlEpoch()

	b.Pause()
	waitFor(t, 60*time.Second, "the registration to expire", func() bool {
		ok, _, err := zc.Exists("/brokers/ids/3")
		return err == nil && !ok
	})
	b.Resume()
	waitFor(t, 60*time.Second, "a new registration", func() bool {
		ok, st, err := zc.Exists("/brokers/ids/3")
		return err == nil && ok && st.Czxid != oldEpoch && st.EphemeralOwner != 0
	})
	waitFor(t, 60*time.Second, "a new controller term", func() bool {
		ok, _, err := zc.Exists("/controller")
		return err == nil && ok && ctrlEpoch() > first
	})
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBusyPortIsAStartupError: a listener that cannot bind stops the start
// with an error naming the address (and everything started is closed).
func TestBusyPortIsAStartupError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, err := config.Load(config.Options{IgnoreEnv: true, Properties: map[string]string{
		"broker.id": "1", "log.dirs": t.TempDir(), "listeners": "PLAINTEXT://" + ln.Addr().String(),
		"zookeeper.connect": testcluster.Chroot(t),
	}})
	if err != nil {
		t.Fatal(err)
	}
	b := broker.New(cfg, zerolog.Nop())
	done := make(chan error, 1)
	go func() { done <- b.Start(context.Background()) }()
	select {
	case err := <-done:
		if err == nil {
			b.Close()
			t.Fatal("the broker started on a busy port")
		}
		if !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Fatalf("error does not name the address: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("Start did not return")
	}
}
