package replica

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

var tp0 = model.TopicPartition{Topic: "t", Partition: 0}

func TestLeaderAndIsrLeaderEpochRules(t *testing.T) {
	m, _ := newManager(t, 1)
	res, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 3, []int32{1}, []int32{1}))
	if err != nil || len(res) != 1 || res[0].Err != nil {
		t.Fatalf("first LeaderAndIsr: %v %+v", err, res)
	}
	p, ok := m.Partition(tp0)
	if !ok || p.Role() != partition.RoleLeader || p.LeaderEpoch() != 3 {
		t.Fatalf("after LeaderAndIsr: ok=%v role=%v epoch=%d", ok, p.Role(), p.LeaderEpoch())
	}
	// Equal and older leader epochs are ignored with STALE_CONTROLLER_EPOCH.
	for _, epoch := range []int32{3, 2} {
		res, err = m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 2, epoch, []int32{1, 2}, []int32{1, 2}))
		if err != nil || !errors.Is(res[0].Err, kerr.StaleControllerEpoch) {
			t.Fatalf("epoch %d: err %v result %v, want STALE_CONTROLLER_EPOCH", epoch, err, res[0].Err)
		}
		if p.Role() != partition.RoleLeader || p.LeaderEpoch() != 3 {
			t.Fatalf("epoch %d changed the partition: role %v epoch %d", epoch, p.Role(), p.LeaderEpoch())
		}
	}
	// A newer epoch naming another leader makes us a follower.
	res, err = m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 2, 4, []int32{2, 1}, []int32{1, 2}))
	if err != nil || res[0].Err != nil || p.Role() != partition.RoleFollower || p.LeaderEpoch() != 4 {
		t.Fatalf("epoch 4: %v %v role %v epoch %d", err, res[0].Err, p.Role(), p.LeaderEpoch())
	}
	// The epoch of each leadership is in the leader-epoch cache.
	if e := p.Log().EpochEntries(); len(e) != 1 || e[0].Epoch != 3 {
		t.Fatalf("epoch cache %+v, want one entry for epoch 3", e)
	}
}

func TestLeaderAndIsrNotAReplica(t *testing.T) {
	m, _ := newManager(t, 1)
	res, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 2, 0, []int32{2}, []int32{2}))
	if err != nil || !errors.Is(res[0].Err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("got %v %v, want UNKNOWN_TOPIC_OR_PARTITION", err, res[0].Err)
	}
	if _, ok := m.Partition(tp0); ok {
		t.Fatal("a partition was created for a replica not in the assignment")
	}
}

func TestControllerRequestEpochs(t *testing.T) {
	m, _ := newManager(t, 1)
	m.SetBrokerEpoch(100)
	if _, err := m.LeaderAndIsr(leaderAndIsr(5, 99, "t", 0, 1, 0, []int32{1}, []int32{1})); !errors.Is(err, kerr.StaleBrokerEpoch) {
		t.Fatalf("older broker epoch: %v, want STALE_BROKER_EPOCH", err)
	}
	if _, err := m.LeaderAndIsr(leaderAndIsr(5, 100, "t", 0, 1, 0, []int32{1}, []int32{1})); err != nil {
		t.Fatalf("current epochs: %v", err)
	}
	if _, err := m.LeaderAndIsr(leaderAndIsr(4, -1, "t", 0, 1, 1, []int32{1}, []int32{1})); !errors.Is(err, kerr.StaleControllerEpoch) {
		t.Fatalf("older controller epoch: %v, want STALE_CONTROLLER_EPOCH", err)
	}
	if err := m.CheckControllerRequest(6, -1); err != nil {
		t.Fatalf("newer controller epoch with broker epoch -1: %v", err)
	}
	if err := m.CheckControllerRequest(5, -1); !errors.Is(err, kerr.StaleControllerEpoch) {
		t.Fatalf("epoch 5 after 6: %v", err)
	}
}
