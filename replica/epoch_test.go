package replica

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
)

// A hosted partition answers itself whatever the metadata cache says; a
// partition not hosted here is NOT_LEADER_OR_FOLLOWER when the cluster
// knows it and UNKNOWN_TOPIC_OR_PARTITION when it does not.
func TestLastOffsetForLeaderEpochRouting(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 3, []int32{1}, []int32{1})); err != nil {
		t.Fatal(err)
	}
	if r := produce(m, 1, time.Second, batch(t, "a", "b")); r.Err != nil {
		t.Fatal(r.Err)
	}
	knowsNothing := func(model.TopicPartition) bool { return false }
	knowsAll := func(model.TopicPartition) bool { return true }

	for _, known := range []func(model.TopicPartition) bool{knowsNothing, knowsAll, nil} {
		got, err := m.LastOffsetForLeaderEpoch(tp0, 3, 3, known)
		if err != nil || got.Epoch != 3 || got.EndOffset != 2 {
			t.Errorf("hosted leader: %+v %v, want (3, 2)", got, err)
		}
		if _, err := m.LastOffsetForLeaderEpoch(tp0, 2, 3, known); !errors.Is(err, kerr.FencedLeaderEpoch) {
			t.Errorf("hosted leader, fenced: %v, want FENCED_LEADER_EPOCH", err)
		}
	}

	other := model.TopicPartition{Topic: "t", Partition: 1}
	got, err := m.LastOffsetForLeaderEpoch(other, -1, 0, knowsAll)
	if !errors.Is(err, kerr.NotLeaderForPartition) || got.Epoch != -1 || got.EndOffset != -1 {
		t.Errorf("known, not hosted: %+v %v, want NOT_LEADER_OR_FOLLOWER", got, err)
	}
	if _, err := m.LastOffsetForLeaderEpoch(other, -1, 0, knowsNothing); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("unknown: %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
	if _, err := m.LastOffsetForLeaderEpoch(other, -1, 0, nil); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("unknown (no cache): %v, want UNKNOWN_TOPIC_OR_PARTITION", err)
	}
}
