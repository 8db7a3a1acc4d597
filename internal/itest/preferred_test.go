package itest

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// Preferred leader election: the auto leader rebalance, ElectLeaders over
// the wire and through kafka-leader-election, and the legacy
// /admin/preferred_replica_election znode.

// createWithAssignment creates a topic with an explicit replica assignment
// (partition i gets assignment[i]) and waits until every broker knows it.
func createWithAssignment(t testing.TB, c *testcluster.Cluster, topic string, assignment [][]int32) {
	t.Helper()
	cl := newClient(t, c.BootstrapAddrs())
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	for p, replicas := range assignment {
		a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
		a.Partition, a.Replicas = int32(p), replicas
		rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, waitLong), cl)
	if err != nil {
		t.Fatal(err)
	}
	if tr := resp.Topics[0]; tr.ErrorCode != 0 {
		t.Fatalf("create %s: %v", topic, kerr.ErrorForCode(tr.ErrorCode))
	}
	waitTopicEverywhere(t, c, topic, len(assignment))
}

// waitFullISR waits until each listed partition's ISR has n members.
func waitFullISR(t testing.TB, c *testcluster.Cluster, topic string, partitions []int32, n int) {
	t.Helper()
	eventually(t, waitLong, topic+" full ISRs", func() error {
		for _, p := range partitions {
			if st := zkPartitionState(t, c, topic, p); len(st.ISR) != n {
				return fmt.Errorf("%s-%d: %+v", topic, p, st)
			}
		}
		return nil
	})
}

// stopAndRestart stops broker x in order (its leaderships move away) and
// starts it again; it returns each partition's state right after the
// stop, and waits until x is back in the ISR of every partition.
func stopAndRestart(t *testing.T, c *testcluster.Cluster, x int32, topic string, partitions []int32) map[int32]zkPartitionStateJSON {
	t.Helper()
	if err := c.BrokerByID(x).Stop(); err != nil {
		t.Fatal(err)
	}
	moved := map[int32]zkPartitionStateJSON{}
	eventually(t, waitLong, fmt.Sprintf("broker %d out of %s", x, topic), func() error {
		for _, p := range partitions {
			st := zkPartitionState(t, c, topic, p)
			if st.Leader == x || st.Leader < 0 || slices.Contains(st.ISR, x) {
				return fmt.Errorf("%s-%d: %+v", topic, p, st)
			}
			moved[p] = st
		}
		return nil
	})
	c.BrokerByID(x).Restart()
	eventually(t, waitLong, fmt.Sprintf("broker %d back in the ISRs of %s", x, topic), func() error {
		for _, p := range partitions {
			if st := zkPartitionState(t, c, topic, p); !slices.Contains(st.ISR, x) {
				return fmt.Errorf("%s-%d: %+v", topic, p, st)
			}
		}
		return nil
	})
	return moved
}

func sameMembers(a, b []int32) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// nonControllers returns the ids of the brokers that are not the
// controller, sorted.
func nonControllers(c *testcluster.Cluster) []int32 {
	ctrl := c.WaitForController()
	var out []int32
	for _, b := range c.Brokers() {
		if b.ID() != ctrl {
			out = append(out, b.ID())
		}
	}
	slices.Sort(out)
	return out
}

// TestPreferredAutoRebalance: a broker stopped in order loses the
// leaderships it preferred; once it is back in their ISRs the controller's
// auto leader rebalance (every leader.imbalance.check.interval.seconds, at
// its 1 s minimum here) gives them back: leader = assignment head, the ISR
// as it was, the leader epoch one above the epoch it had without the
// broker. A partition preferring another broker keeps its leader.
func TestPreferredAutoRebalance(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"leader.imbalance.check.interval.seconds": "1"})
	others := nonControllers(c)
	x, y := others[0], others[1]
	z := c.WaitForController()
	const topic = "auto"
	createWithAssignment(t, c, topic, [][]int32{{x, y, z}, {x, z, y}, {y, x, z}})
	all := []int32{0, 1, 2}
	waitFullISR(t, c, topic, all, 3)
	p2 := zkPartitionState(t, c, topic, 2)

	moved := stopAndRestart(t, c, x, topic, all)
	if moved[0].Leader != y || moved[1].Leader != z {
		t.Fatalf("leaders after the controlled shutdown of %d: %+v", x, moved)
	}
	for _, p := range []int32{0, 1} {
		eventually(t, waitLong, fmt.Sprintf("%s-%d led by its preferred replica %d again", topic, p, x), func() error {
			st := zkPartitionState(t, c, topic, p)
			if st.Leader != x {
				return fmt.Errorf("%+v", st)
			}
			if st.LeaderEpoch != moved[p].LeaderEpoch+1 || !sameMembers(st.ISR, []int32{x, y, z}) || st.ControllerEpoch < moved[p].ControllerEpoch {
				t.Fatalf("%s-%d: preferred election wrote %+v; before it (without %d): %+v", topic, p, st, x, moved[p])
			}
			return nil
		})
	}
	// Clients see it: every broker's metadata names the preferred leader.
	for _, b := range c.Brokers() {
		eventually(t, waitLong, fmt.Sprintf("broker %d's metadata", b.ID()), func() error {
			for _, p := range []int32{0, 1} {
				if l, err := leaderOf(b.Addr(), topic, p); err != nil || l != x {
					return fmt.Errorf("%s-%d: leader %d, %v", topic, p, l, err)
				}
			}
			return nil
		})
	}
	if st := zkPartitionState(t, c, topic, 2); st.Leader != y || st.LeaderEpoch != p2.LeaderEpoch+1 {
		// One bump: the controlled shutdown took x out of its ISR.
		t.Fatalf("%s-2 (preferred %d): %+v, before %+v", topic, y, st, p2)
	}
}

// electLeaders sends ElectLeaders v2 to one broker.
func electLeaders(t testing.TB, addr string, electionType int8, topic string, partitions ...int32) *kmsg.ElectLeadersResponse {
	t.Helper()
	req := kmsg.NewPtrElectLeadersRequest()
	req.Version = 2
	req.ElectionType = electionType
	req.TimeoutMillis = 30000
	rt := kmsg.NewElectLeadersRequestTopic()
	rt.Topic, rt.Partitions = topic, partitions
	req.Topics = append(req.Topics, rt)
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.(*kmsg.ElectLeadersResponse)
}

// electionResults renders an answer as "topic-p:CODE:message" lines.
func electionResults(r *kmsg.ElectLeadersResponse) []string {
	var out []string
	for _, rt := range r.Topics {
		for _, p := range rt.Partitions {
			code := "NONE"
			if p.ErrorCode != 0 {
				code = kerr.ErrorForCode(p.ErrorCode).(*kerr.Error).Message
			}
			msg := "<nil>"
			if p.ErrorMessage != nil {
				msg = *p.ErrorMessage
			}
			out = append(out, fmt.Sprintf("%s-%d:%s:%s", rt.Topic, p.Partition, code, msg))
		}
	}
	return out
}

func wantElection(t testing.TB, r *kmsg.ElectLeadersResponse, want ...string) {
	t.Helper()
	if got := electionResults(r); r.ErrorCode != 0 || !slices.Equal(got, want) {
		t.Fatalf("ElectLeaders: top-level %d, results\n%s\nwant\n%s", r.ErrorCode, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func runLeaderElection(t testing.TB, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), code
}

// TestPreferredElectLeaders: with auto.leader.rebalance.enable=false the
// leaderships stay away from a restarted preferred replica; ElectLeaders
// (over the wire, through kafka-leader-election, and through the legacy
// znode) brings them back, one partition at a time, with Kafka's answers
// for every other case.
func TestPreferredElectLeaders(t *testing.T) {
	bin := testcluster.BuildPackage(t, "./tools/kafka-leader-election")
	c := newCluster(t, 3, map[string]string{
		"auto.leader.rebalance.enable":            "false",
		"leader.imbalance.check.interval.seconds": "1",
	})
	// The controller took over before newCluster returned: a rebalance
	// timer, if it ran, would check 5 s after that, then every second.
	failoverBefore := time.Now()
	others := nonControllers(c)
	x, y := others[0], others[1]
	ctrlID := c.WaitForController()
	ctrl := c.BrokerByID(ctrlID).Addr()
	const topic = "manual"
	all := []int32{0, 1, 2, 3, 4}
	var assignment [][]int32
	for range all {
		assignment = append(assignment, []int32{x, y, ctrlID})
	}
	createWithAssignment(t, c, topic, assignment)
	createWithAssignment(t, c, "solo", [][]int32{{x}})
	waitFullISR(t, c, topic, all, 3)

	moved := stopAndRestart(t, c, x, topic, all)
	// The rebalance is off: the time of its first check and three more
	// pass, and the leaderships stay where the shutdown put them.
	deadline := failoverBefore.Add(5*time.Second + 4*time.Second)
	if floor := time.Now().Add(3 * time.Second); deadline.Before(floor) {
		deadline = floor
	}
	for time.Now().Before(deadline) {
		for _, p := range all {
			if st := zkPartitionState(t, c, topic, p); st.Leader != y || st.LeaderEpoch != moved[p].LeaderEpoch {
				t.Fatalf("%s-%d moved with auto.leader.rebalance.enable=false: %+v (was %+v)", topic, p, st, moved[p])
			}
		}
		time.Sleep(pollEvery)
	}

	// Over the wire, to the controller: elected, and the answer comes only
	// once the controller's own metadata shows the new leader.
	wantElection(t, electLeaders(t, ctrl, 0, topic, 0), topic+"-0:NONE:<nil>")
	if l, err := leaderOf(ctrl, topic, 0); err != nil || l != x {
		t.Fatalf("right after ElectLeaders, the controller's metadata says leader %d (%v), want %d", l, err, x)
	}
	st := zkPartitionState(t, c, topic, 0)
	if st.Leader != x || st.LeaderEpoch != moved[0].LeaderEpoch+1 || !sameMembers(st.ISR, []int32{x, y, ctrlID}) {
		t.Fatalf("%s-0 after ElectLeaders: %+v (before %+v)", topic, st, moved[0])
	}
	// Once more: nothing to do. Unknown partitions, and other brokers.
	wantElection(t, electLeaders(t, ctrl, 0, topic, 0, 9),
		topic+"-0:ELECTION_NOT_NEEDED:Leader election not needed for topic partition.",
		topic+"-9:UNKNOWN_TOPIC_OR_PARTITION:The partition does not exist.")
	wantElection(t, electLeaders(t, ctrl, 0, "nope", 0), "nope-0:UNKNOWN_TOPIC_OR_PARTITION:The partition does not exist.")
	wantElection(t, electLeaders(t, c.BrokerByID(y).Addr(), 0, topic, 1), topic+"-1:NOT_CONTROLLER:<nil>")
	if st := zkPartitionState(t, c, topic, 1); st.Leader != y {
		t.Fatalf("a broker that is not the controller elected: %+v", st)
	}
	// UNCLEAN where a live broker leads: not needed. An unknown election
	// type fails the request as Kafka's IllegalArgumentException does.
	wantElection(t, electLeaders(t, ctrl, 1, topic, 1), topic+"-1:ELECTION_NOT_NEEDED:Leader election not needed for topic partition.")
	if r := electLeaders(t, ctrl, 7, topic, 1); r.ErrorCode != kerr.UnknownServerError.Code ||
		!slices.Equal(electionResults(r), []string{topic + "-1:UNKNOWN_SERVER_ERROR:<nil>"}) {
		t.Fatalf("election type 7: %d %v", r.ErrorCode, electionResults(r))
	}

	// kafka-leader-election for one partition, then again.
	bs := c.Bootstrap()
	out, errOut, code := runLeaderElection(t, bin, "--bootstrap-server", bs, "--election-type", "preferred", "--topic", topic, "--partition", "1")
	if code != 0 || out != "Successfully completed leader election (PREFERRED) for partitions manual-1\n" || errOut != "" {
		t.Fatalf("tool: %d %q %q", code, out, errOut)
	}
	if st := zkPartitionState(t, c, topic, 1); st.Leader != x || st.LeaderEpoch != moved[1].LeaderEpoch+1 {
		t.Fatalf("%s-1 after the tool: %+v", topic, st)
	}
	out, errOut, code = runLeaderElection(t, bin, "--bootstrap-server", bs, "--election-type", "PREFERRED", "--topic", topic, "--partition", "1")
	if code != 0 || out != "Valid replica already elected for partitions manual-1\n" || errOut != "" {
		t.Fatalf("tool again: %d %q %q", code, out, errOut)
	}

	// The legacy znode: elected, then the controller deletes it.
	legacy := `{"version":1,"partitions":[{"topic":"manual","partition":2},{"topic":"gone","partition":0}]}`
	if err := c.ZK().Create("/admin/preferred_replica_election", []byte(legacy), false); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLong, "the znode's election", func() error {
		if ok, _, err := c.ZK().Exists("/admin/preferred_replica_election"); err != nil || ok {
			return fmt.Errorf("znode still there (%v)", err)
		}
		if st := zkPartitionState(t, c, topic, 2); st.Leader != x || st.LeaderEpoch != moved[2].LeaderEpoch+1 {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	// The watch is armed again: a second request is served too (here
	// naming only partitions that need nothing).
	if err := c.ZK().Create("/admin/preferred_replica_election", []byte(`{"version":1,"partitions":[{"topic":"manual","partition":0}]}`), false); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLong, "the second znode deleted", func() error {
		ok, _, err := c.ZK().Exists("/admin/preferred_replica_election")
		if err != nil || ok {
			return fmt.Errorf("znode still there (%v)", err)
		}
		return nil
	})

	// Every partition: only those elected are reported (the others needed
	// nothing and a broker leaves them out).
	out, errOut, code = runLeaderElection(t, bin, "--bootstrap-server", bs, "--election-type", "preferred", "--all-topic-partitions")
	const prefix = "Successfully completed leader election (PREFERRED) for partitions "
	if code != 0 || errOut != "" || !strings.HasPrefix(out, prefix) || strings.Count(out, "\n") != 1 {
		t.Fatalf("tool --all-topic-partitions: %d %q %q", code, out, errOut)
	}
	got := strings.Split(strings.TrimSuffix(strings.TrimPrefix(out, prefix), "\n"), ", ")
	sort.Strings(got)
	if !slices.Equal(got, []string{"manual-3", "manual-4"}) {
		t.Fatalf("tool --all-topic-partitions elected %v", got)
	}
	for _, p := range all {
		if st := zkPartitionState(t, c, topic, p); st.Leader != x || st.LeaderEpoch != moved[p].LeaderEpoch+1 {
			t.Fatalf("%s-%d at the end: %+v (before %+v)", topic, p, st, moved[p])
		}
	}

	// The preferred replica stops again: it cannot lead.
	if err := c.BrokerByID(x).Stop(); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLong, fmt.Sprintf("broker %d unregistered", x), func() error {
		ok, _, err := c.ZK().Exists(fmt.Sprintf("/brokers/ids/%d", x))
		if err != nil || ok {
			return fmt.Errorf("registered (%v)", err)
		}
		return nil
	})
	eventually(t, waitLong, "the controller sees the broker gone", func() error {
		r := electLeaders(t, ctrl, 0, topic, 0)
		want := topic + "-0:PREFERRED_LEADER_NOT_AVAILABLE:Failed to elect leader for partition manual-0 under strategy PreferredReplicaPartitionLeaderElectionStrategy"
		if got := electionResults(r); !slices.Equal(got, []string{want}) {
			return fmt.Errorf("%v", got)
		}
		return nil
	})
	out, errOut, code = runLeaderElection(t, bin, "--bootstrap-server", bs, "--election-type", "preferred", "--topic", topic, "--partition", "0")
	if code != 1 || errOut != "1 replica(s) could not be elected\n" ||
		out != "Error completing leader election (PREFERRED) for partition: manual-0: org.apache.kafka.common.errors.PreferredLeaderNotAvailableException: "+
			"Failed to elect leader for partition manual-0 under strategy PreferredReplicaPartitionLeaderElectionStrategy\n" {
		t.Fatalf("tool without the preferred replica: %d %q %q", code, out, errOut)
	}
	// UNCLEAN for a partition whose only replica is gone.
	eventually(t, waitLong, "solo-0 offline", func() error {
		if st := zkPartitionState(t, c, "solo", 0); st.Leader != -1 {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	wantElection(t, electLeaders(t, ctrl, 1, "solo", 0),
		"solo-0:ELIGIBLE_LEADERS_NOT_AVAILABLE:Failed to elect leader for partition solo-0 under strategy OfflinePartitionLeaderElectionStrategy(true)")
}
