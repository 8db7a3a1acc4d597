package itest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// zkRecoveryState is a partition state znode with leader_recovery_state
// (absent = RECOVERED, 0).
type zkRecoveryState struct {
	Leader              int32   `json:"leader"`
	LeaderEpoch         int32   `json:"leader_epoch"`
	ISR                 []int32 `json:"isr"`
	LeaderRecoveryState *int8   `json:"leader_recovery_state"`
	version             int32
}

func zkStateWithRecovery(t testing.TB, c *testcluster.Cluster, topic string, p int32) zkRecoveryState {
	t.Helper()
	var st zkRecoveryState
	stat, err := c.ZK().GetJSON(statePath(topic, p), &st)
	if err != nil {
		t.Fatalf("partition state %s/%d: %v", topic, p, err)
	}
	st.version = stat.Version
	return st
}

// createAssigned creates a one-partition topic on the given replicas
// through the controller.
func createAssigned(t testing.TB, c *testcluster.Cluster, topic string, replicas []int32, configs map[string]string) {
	t.Helper()
	cl := newClient(t, c.BootstrapAddrs())
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, -1, -1
	a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
	a.Partition, a.Replicas = 0, replicas
	rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
	for k, v := range configs {
		cfg := kmsg.NewCreateTopicsRequestTopicConfig()
		cfg.Name, cfg.Value = k, kmsg.StringPtr(v)
		rt.Configs = append(rt.Configs, cfg)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testCtx(t, waitLong), cl)
	if err != nil {
		t.Fatal(err)
	}
	if tr := resp.Topics[0]; tr.ErrorCode != 0 {
		t.Fatalf("create %s: %v", topic, kerr.ErrorForCode(tr.ErrorCode))
	}
	waitTopicEverywhere(t, c, topic, 1)
}

// uncleanWarnings counts, over every broker's log, the controller's
// warnings about an unclean election of topic-0 with the given leader.
func uncleanWarnings(c *testcluster.Cluster, partition string, leader int32) int {
	n := 0
	for _, b := range c.Brokers() {
		for _, e := range logEntries(b.Log(), "unclean leader election") {
			if e["level"] == "warn" && e["partition"] == partition && e["leader"] == float64(leader) {
				n++
			}
		}
	}
	return n
}

// offlineWarnings counts the controller's "partition is offline" warnings
// for a partition in one broker's log.
func offlineWarnings(b *testcluster.Broker, partition string) int {
	n := 0
	for _, e := range logEntries(b.Log(), "the partition is offline") {
		if e["partition"] == partition {
			n++
		}
	}
	return n
}

// TestUncleanLeaderElection: a partition whose only ISR member died is
// led again by an out-of-sync replica only when its topic allows it (the
// override in /config/topics/<t>, else the broker default).
func TestUncleanLeaderElection(t *testing.T) {
	// Broker default: allowed. "uc-off" overrides it to false, "uc-on"
	// inherits it.
	c := newCluster(t, 3, map[string]string{"unclean.leader.election.enable": "true"})
	ctrl := c.WaitForController()
	var others []int32
	for _, b := range c.Brokers() {
		if b.ID() != ctrl {
			others = append(others, b.ID())
		}
	}
	lead, follower := others[0], others[1]
	const on, off = "uc-on", "uc-off"
	topics := []string{on, off}
	createAssigned(t, c, on, []int32{lead, follower}, map[string]string{"min.insync.replicas": "1"})
	createAssigned(t, c, off, []int32{lead, follower}, map[string]string{"min.insync.replicas": "1", "unclean.leader.election.enable": "false"})
	for _, topic := range topics {
		if st := zkPartitionState(t, c, topic, 0); st.Leader != lead || !slices.Equal(st.ISR, []int32{lead, follower}) {
			t.Fatalf("%s/0 starts as %+v, want leader %d isr [%d %d]", topic, st, lead, lead, follower)
		}
	}
	seeds := c.BootstrapAddrs()
	for _, topic := range topics {
		produceTo(t, seeds, topic, "both", []int32{0}, 10)
	}

	// The follower dies; the controller takes it out of the ISR; the
	// leader alone acknowledges more records.
	c.BrokerByID(follower).Kill9()
	for _, topic := range topics {
		eventually(t, waitLong, topic+" ISR without the killed follower", func() error {
			if st := zkPartitionState(t, c, topic, 0); !slices.Equal(st.ISR, []int32{lead}) {
				return fmt.Errorf("%+v", st)
			}
			return nil
		})
	}
	var live []string
	for _, b := range c.Brokers() {
		if b.Running() {
			live = append(live, b.Addr())
		}
	}
	for _, topic := range topics {
		produceTo(t, live, topic, "leader-only", []int32{0}, 10)
	}

	// The leader dies too: no leader, the ISR keeps its last member.
	c.BrokerByID(lead).Kill9()
	offline := map[string]zkRecoveryState{}
	for _, topic := range topics {
		eventually(t, waitLong, topic+" offline", func() error {
			st := zkStateWithRecovery(t, c, topic, 0)
			if st.Leader != -1 || !slices.Equal(st.ISR, []int32{lead}) {
				return fmt.Errorf("%+v", st)
			}
			offline[topic] = st
			return nil
		})
	}

	// Only the out-of-sync follower comes back.
	controller := c.BrokerByID(ctrl)
	offBefore := offlineWarnings(controller, off+"-0")
	c.BrokerByID(follower).Restart()

	t.Run("DefaultAllows", func(t *testing.T) {
		checkUncleanlyLed(t, c, on, follower, offline[on])
	})

	t.Run("OverrideForbids", func(t *testing.T) {
		// The same election round decided uc-off: wait for its warning.
		eventually(t, waitLong, "the controller's decision on "+off, func() error {
			if n := offlineWarnings(controller, off+"-0"); n <= offBefore {
				return fmt.Errorf("%d offline warnings, %d before the restart", n, offBefore)
			}
			return nil
		})
		st := zkStateWithRecovery(t, c, off, 0)
		if st.Leader != -1 || !slices.Equal(st.ISR, []int32{lead}) || st.version != offline[off].version || st.LeaderRecoveryState != nil {
			t.Errorf("%s/0 = %+v, want unchanged %+v", off, st, offline[off])
		}
		fb := c.BrokerByID(follower)
		eventually(t, waitLong, "the restarted broker's metadata of "+off, func() error {
			mt, err := topicMetadataFrom(fb.Addr(), off)
			if err != nil {
				return err
			}
			if p := mt.Partitions[0]; p.Leader != -1 || p.ErrorCode != kerr.LeaderNotAvailable.Code {
				return fmt.Errorf("leader %d error %v", p.Leader, kerr.ErrorForCode(p.ErrorCode))
			}
			return nil
		})
		if n := uncleanWarnings(c, off+"-0", follower); n != 0 {
			t.Errorf("%d unclean election warnings for %s-0", n, off)
		}
	})

	// Allow it for uc-off (the znode Kafka's tools write) and make the
	// controller run its offline elections again: a new controller does
	// on failover.
	t.Run("OverrideAllows", func(t *testing.T) {
		if err := c.ZK().Set("/config/topics/"+off, []byte(`{"version":1,"config":{"min.insync.replicas":"1","unclean.leader.election.enable":"true"}}`)); err != nil {
			t.Fatal(err)
		}
		controller.Restart()
		c.WaitForController()
		checkUncleanlyLed(t, c, off, follower, offline[off])
	})
}

// checkUncleanlyLed waits until topic-0 is led by the out-of-sync replica
// alone and checks the controller's warning; the state written by the
// election (one version after the offline state) says RECOVERING. Its
// leader may report recovery later, clearing it.
func checkUncleanlyLed(t *testing.T, c *testcluster.Cluster, topic string, leader int32, offline zkRecoveryState) {
	t.Helper()
	var st zkRecoveryState
	eventually(t, waitLong, topic+" led uncleanly", func() error {
		st = zkStateWithRecovery(t, c, topic, 0)
		if st.Leader != leader {
			return fmt.Errorf("%+v", st)
		}
		return nil
	})
	if !slices.Equal(st.ISR, []int32{leader}) || st.LeaderEpoch <= offline.LeaderEpoch {
		t.Errorf("%s/0 = %+v after the unclean election (offline state %+v)", topic, st, offline)
	}
	if st.version == offline.version+1 && (st.LeaderRecoveryState == nil || *st.LeaderRecoveryState != 1) {
		t.Errorf("%s/0: the unclean election wrote no leader_recovery_state 1: %+v", topic, st)
	}
	// The controller logs it right after the write.
	eventually(t, waitLong, "the controller's warning about "+topic, func() error {
		if n := uncleanWarnings(c, topic+"-0", leader); n != 1 {
			return fmt.Errorf("%d warnings about the unclean election of %s-0, want 1", n, topic)
		}
		return nil
	})
	b := c.BrokerByID(leader)
	eventually(t, waitLong, fmt.Sprintf("broker %d leads %s/0", leader, topic), func() error {
		l, err := leaderOf(b.Addr(), topic, 0)
		if err != nil {
			return err
		}
		if l != leader {
			return fmt.Errorf("leader %d", l)
		}
		return nil
	})
}
