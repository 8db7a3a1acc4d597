package itest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// zkEventLog is a ZooKeeper session of its own whose watch events are
// recorded in the order the server delivered them (ZooKeeper delivers a
// session's watch events in zxid order), so a test can tell which of two
// znode changes happened first.
type zkEventLog struct {
	conn   *zk.Conn
	chroot string

	mu     sync.Mutex
	events []zk.Event // guarded by mu; watch events only, paths without the chroot
}

func newZKEventLog(t testing.TB, c *testcluster.Cluster) *zkEventLog {
	t.Helper()
	servers, chroot, err := testcluster.SplitConnect(c.ZKConnect())
	if err != nil {
		t.Fatal(err)
	}
	l := &zkEventLog{chroot: chroot}
	conn, events, err := zk.Connect(servers, 20*time.Second, zk.WithLogger(quietZK{}), zk.WithEventCallback(func(ev zk.Event) {
		if ev.Type == zk.EventSession || ev.Type == zk.EventNotWatching {
			return
		}
		l.mu.Lock()
		ev.Path = strings.TrimPrefix(ev.Path, chroot)
		l.events = append(l.events, ev)
		l.mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for range events {
		}
	}()
	t.Cleanup(conn.Close)
	l.conn = conn
	return l
}

type quietZK struct{}

func (quietZK) Printf(string, ...any) {}

// watchData sets a one-shot data watch on an existing znode.
func (l *zkEventLog) watchData(t testing.TB, p string) {
	t.Helper()
	if _, _, _, err := l.conn.GetW(l.chroot + p); err != nil {
		t.Fatalf("watch %s: %v", p, err)
	}
}

// recorded returns the events so far.
func (l *zkEventLog) recorded() []zk.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// index is the position of the first event of type typ on p, -1 if none.
func indexOfEvent(events []zk.Event, typ zk.EventType, p string) int {
	return slices.IndexFunc(events, func(ev zk.Event) bool { return ev.Type == typ && ev.Path == p })
}

func statePath(topic string, p int32) string {
	return fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, p)
}

func TestControlledShutdown(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	seeds := c.BootstrapAddrs()
	const topic = "cs"
	all := []int32{0, 1, 2, 3, 4, 5}
	createTopic(t, c, adm, topic, 6, 3, nil)
	eventually(t, waitLong, "full ISRs", func() error {
		for _, p := range all {
			if st := zkPartitionState(t, c, topic, p); len(st.ISR) != 3 {
				return fmt.Errorf("%s/%d: %+v", topic, p, st)
			}
		}
		return nil
	})
	sent := produceTo(t, seeds, topic, "before", all, 20)

	ctrl := c.WaitForController()
	first := int32(-1) // a broker other than the controller that leads something
	for _, p := range all {
		if l := zkPartitionState(t, c, topic, p).Leader; l != ctrl {
			first = l
			break
		}
	}
	if first < 0 {
		t.Fatalf("the controller %d leads every partition", ctrl)
	}

	t.Run("Broker", func(t *testing.T) {
		stopInOrder(t, c, topic, all, first)
		if id, ok, _ := c.Controller(); !ok || id != ctrl {
			t.Errorf("controller %d (present %v) after broker %d stopped, want %d still", id, ok, first, ctrl)
		}
	})
	var live []string
	for _, b := range c.Brokers() {
		if b.Running() {
			live = append(live, b.Addr())
		}
	}
	t.Run("RoundTripAfterBroker", func(t *testing.T) {
		sent = append(sent, produceTo(t, live, topic, "after-broker", all, 10)...)
		checkDenseOffsets(t, sent)
		checkRecords(t, sent, consumeRange(t, live, topic, countByPartition(sent)))
	})

	// The controller itself: it sends ControlledShutdown to itself over
	// its inter-broker listener, like any broker, and resigns afterwards.
	t.Run("Controller", func(t *testing.T) {
		stopInOrder(t, c, topic, all, ctrl)
		c.WaitForNewController(ctrl)
	})
	live = nil
	for _, b := range c.Brokers() {
		if b.Running() {
			live = append(live, b.Addr())
		}
	}
	t.Run("RoundTripAfterController", func(t *testing.T) {
		sent = append(sent, produceTo(t, live, topic, "after-controller", all, 10)...)
		checkDenseOffsets(t, sent)
		checkRecords(t, sent, consumeRange(t, live, topic, countByPartition(sent)))
	})
}

// stopInOrder sends SIGTERM to broker victim and checks its controlled
// shutdown: every partition it led has a new leader from the old ISR with
// a larger leader epoch, no ISR holds it any more, each of those state
// znodes changed while its /brokers/ids registration still existed (watch
// events arrive in zxid order), and the process exited 0 well within a
// session timeout.
func stopInOrder(t *testing.T, c *testcluster.Cluster, topic string, parts []int32, victim int32) {
	t.Helper()
	reg := fmt.Sprintf("/brokers/ids/%d", victim)
	events := newZKEventLog(t, c)
	before := map[int32]zkPartitionStateJSON{}
	var led, involved []int32
	for _, p := range parts {
		events.watchData(t, statePath(topic, p))
		st := zkPartitionState(t, c, topic, p)
		before[p] = st
		if st.Leader == victim {
			led = append(led, p)
		}
		if st.Leader == victim || slices.Contains(st.ISR, victim) {
			involved = append(involved, p)
		}
	}
	events.watchData(t, reg)
	if len(led) == 0 {
		t.Fatalf("broker %d leads no partition of %s", victim, topic)
	}
	t.Logf("broker %d leads %v and is in the ISR of %v", victim, led, involved)

	b := c.BrokerByID(victim)
	start := time.Now()
	if err := b.Process().Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := b.Process().Wait(waitLong); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("broker %d exited %v after SIGTERM", victim, took.Round(time.Millisecond))
	if code := b.Process().ExitCode(); code != 0 {
		t.Errorf("broker %d exit status %d after SIGTERM, want 0", victim, code)
	}
	// Three attempts would take two back-offs of 5 s: one attempt must do.
	if limit := testcluster.DefaultSessionTimeoutMs * time.Millisecond; took >= limit {
		t.Errorf("broker %d took %v to stop, not under the session timeout %v", victim, took, limit)
	}
	log := b.Log()
	if !strings.Contains(log, "controlled shutdown succeeded") {
		t.Errorf("broker %d's log does not report a successful controlled shutdown:\n%s", victim, tail(log, 30))
	}

	var evs []zk.Event
	eventually(t, waitLong, "the registration's deletion event", func() error {
		evs = events.recorded()
		if indexOfEvent(evs, zk.EventNodeDeleted, reg) < 0 {
			return fmt.Errorf("events so far: %v", evs)
		}
		return nil
	})
	gone := indexOfEvent(evs, zk.EventNodeDeleted, reg)
	for _, p := range involved {
		i := indexOfEvent(evs, zk.EventNodeDataChanged, statePath(topic, p))
		if i < 0 || i > gone {
			t.Errorf("%s/%d: state change at event %d, registration deleted at event %d (%v): not moved while the broker was registered", topic, p, i, gone, evs)
		}
	}
	// The states as the controller left them. (A leader could add the
	// stopping broker back to an ISR before it exits, if the controller
	// accepted it; its death then takes it out again: wait for that.)
	assignment := zkAssignment(t, c, topic)
	eventually(t, waitLong, "partition states without broker "+fmt.Sprint(victim), func() error {
		var errs []string
		for _, p := range parts {
			old, now := before[p], zkPartitionState(t, c, topic, p)
			wantISR := slices.DeleteFunc(slices.Clone(old.ISR), func(b int32) bool { return b == victim })
			if !slices.Equal(now.ISR, wantISR) {
				errs = append(errs, fmt.Sprintf("%s/%d: ISR %v, want %v (was %v)", topic, p, now.ISR, wantISR, old.ISR))
			}
			if old.Leader != victim {
				if now.Leader != old.Leader {
					errs = append(errs, fmt.Sprintf("%s/%d: leader moved from %d to %d though %d did not lead it", topic, p, old.Leader, now.Leader, victim))
				}
				continue
			}
			// Controlled-shutdown election: first replica in assignment
			// order that is live, in the ISR and not shutting down.
			want := int32(-1)
			for _, r := range assignment[p] {
				if r != victim && slices.Contains(old.ISR, r) && c.BrokerByID(r).Running() {
					want = r
					break
				}
			}
			if now.Leader != want || now.LeaderEpoch <= old.LeaderEpoch {
				errs = append(errs, fmt.Sprintf("%s/%d: leader %d epoch %d, want leader %d and an epoch above %d", topic, p, now.Leader, now.LeaderEpoch, want, old.LeaderEpoch))
			}
		}
		if len(errs) > 0 {
			return errors.New(strings.Join(errs, "; "))
		}
		return nil
	})
	// The controller answered with nothing left to move.
	handled := false
	for _, b := range c.Brokers() {
		for _, e := range logEntries(b.Log(), "controlled shutdown handled") {
			if e["peer"] == float64(victim) && e["remaining"] == nil && e["movedLeaderships"] == float64(len(led)) {
				handled = true
			}
		}
	}
	if !handled {
		t.Errorf("no controller log line says broker %d's %d leaderships moved with nothing remaining", victim, len(led))
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// logEntries decodes a broker's JSON log lines that carry msg (a
// substring of the message).
func logEntries(log, msg string) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, msg) {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}
