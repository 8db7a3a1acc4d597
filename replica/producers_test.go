package replica

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

// DescribeProducers' per-partition answer: the producers of a hosted
// partition (leader or follower), NOT_LEADER_OR_FOLLOWER for a known
// partition hosted elsewhere, UNKNOWN_TOPIC_OR_PARTITION otherwise.
func TestActiveProducers(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1}, []int32{1})); err != nil {
		t.Fatal(err)
	}
	got, err := m.ActiveProducers(tp0, nil)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty partition: %+v, %v", got, err)
	}
	if r := produce(m, 1, time.Second, idempotentBatch(t, 4000, 3, 0, "a", "b", "c")); r.Err != nil {
		t.Fatalf("produce: %+v", r)
	}
	got, err = m.ActiveProducers(tp0, nil)
	want := []partition.ActiveProducer{{ProducerID: 4000, ProducerEpoch: 3, LastSequence: 2, LastTimestamp: 1_700_000_000_000, CoordinatorEpoch: -1, CurrentTxnStartOffset: -1}}
	if err != nil || len(got) != 1 || got[0] != want[0] {
		t.Fatalf("after an idempotent batch: %+v, %v; want %+v", got, err, want)
	}
	other := model.TopicPartition{Topic: "t", Partition: 1}
	known := func(tp model.TopicPartition) bool { return tp == other }
	if _, err := m.ActiveProducers(other, known); !errors.Is(err, kerr.NotLeaderForPartition) {
		t.Fatalf("known, not hosted: %v", err)
	}
	if _, err := m.ActiveProducers(model.TopicPartition{Topic: "u"}, known); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Fatalf("unknown: %v", err)
	}
}
