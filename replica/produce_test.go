package replica

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/partition"
	"github.com/kbroker/kbroker/record"
)

func produce(m *Manager, acks int16, timeout time.Duration, recs []byte) ProduceResult {
	return m.Produce(context.Background(), acks, timeout, []ProducePartition{{TP: tp0, Records: recs}}, record.FromClient)[0]
}

func TestProduceNotLeader(t *testing.T) {
	m, _ := newManager(t, 1)
	if r := produce(m, 1, time.Second, batch(t, "a")); !errors.Is(r.Err, kerr.UnknownTopicOrPartition) && !errors.Is(r.Err, kerr.NotLeaderForPartition) {
		t.Fatalf("produce to an unknown partition: %v", r.Err)
	}
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 2, 0, []int32{2, 1}, []int32{2, 1})); err != nil {
		t.Fatal(err)
	}
	if r := produce(m, 1, time.Second, batch(t, "a")); !errors.Is(r.Err, kerr.NotLeaderForPartition) {
		t.Fatalf("produce to a follower: %v, want NOT_LEADER_OR_FOLLOWER", r.Err)
	}
}

func TestProduceAcksAllWaitsForISRFollower(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1, 2}, []int32{1, 2})); err != nil {
		t.Fatal(err)
	}
	// acks=1 answers at once; the high watermark waits for follower 2.
	if r := produce(m, 1, time.Second, batch(t, "a", "b")); r.Err != nil || r.BaseOffset != 0 {
		t.Fatalf("acks=1: %+v", r)
	}
	p, _ := m.Partition(tp0)
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("HW %d before the follower fetched, want 0", hw)
	}
	done := make(chan ProduceResult, 1)
	go func() { done <- produce(m, -1, 30*time.Second, batch(t, "c")) }()
	// Wait until the acks=all batch is in the log, then let the follower
	// fetch past it.
	deadline := time.Now().Add(10 * time.Second)
	for p.LogEndOffset() != 3 {
		if time.Now().After(deadline) {
			t.Fatalf("LEO %d, want 3", p.LogEndOffset())
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-done:
		t.Fatalf("acks=all answered before the follower caught up: %+v", r)
	default:
	}
	res := m.Fetch(context.Background(), []FetchPartition{{TP: tp0, Params: partition.FetchParams{
		ReplicaID: 2, FetchOffset: 3, MaxBytes: 1 << 20, CurrentLeaderEpoch: 0, LastFetchedEpoch: 0,
	}}}, 1<<20, 0, 0)
	if res[0].Err != nil {
		t.Fatalf("follower fetch: %v", res[0].Err)
	}
	select {
	case r := <-done:
		if r.Err != nil || r.BaseOffset != 2 {
			t.Fatalf("acks=all: %+v", r)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("acks=all did not complete after the follower caught up")
	}
	if hw := p.HighWatermark(); hw != 3 {
		t.Fatalf("HW %d, want 3", hw)
	}
}

func TestProduceAcksAllTimesOut(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1, 2}, []int32{1, 2})); err != nil {
		t.Fatal(err)
	}
	r := produce(m, -1, 50*time.Millisecond, batch(t, "a"))
	if !errors.Is(r.Err, kerr.RequestTimedOut) {
		t.Fatalf("acks=all without the follower: %v, want REQUEST_TIMED_OUT", r.Err)
	}
}

func TestFetchLongPollWakesOnAppend(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1}, []int32{1})); err != nil {
		t.Fatal(err)
	}
	got := make(chan []FetchResult, 1)
	go func() {
		got <- m.Fetch(context.Background(), []FetchPartition{{TP: tp0, Params: partition.FetchParams{
			ReplicaID: -1, FetchOffset: 0, MaxBytes: 1 << 20, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1,
		}}}, 1<<20, 1, time.Minute)
	}()
	if r := produce(m, 1, time.Second, batch(t, "x")); r.Err != nil {
		t.Fatal(r.Err)
	}
	select {
	case res := <-got:
		if res[0].Err != nil || res[0].Range.Size == 0 || res[0].HighWatermark != 1 {
			t.Fatalf("fetch result %+v", res[0])
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the long poll did not wake up on the append")
	}
}

func TestFetchOffsetOutOfRange(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1}, []int32{1})); err != nil {
		t.Fatal(err)
	}
	res := m.Fetch(context.Background(), []FetchPartition{{TP: tp0, Params: partition.FetchParams{
		ReplicaID: -1, FetchOffset: 5, MaxBytes: 1 << 20, CurrentLeaderEpoch: -1, LastFetchedEpoch: -1,
	}}}, 1<<20, 1, time.Minute)
	if !errors.Is(res[0].Err, kerr.OffsetOutOfRange) {
		t.Fatalf("fetch past the end: %v, want OFFSET_OUT_OF_RANGE", res[0].Err)
	}
}

func TestProduceAcksAllNeedsMinISR(t *testing.T) {
	logs := newDirLogs(t)
	m := New(Options{LocalID: 1, Logs: logs, MinISR: func(string) int { return 2 }})
	t.Cleanup(m.Close)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1}, []int32{1, 2})); err != nil {
		t.Fatal(err)
	}
	p, _ := m.Partition(tp0)
	r := produce(m, -1, time.Second, batch(t, "a"))
	if !errors.Is(r.Err, kerr.NotEnoughReplicas) || p.LogEndOffset() != 0 {
		t.Fatalf("acks=all with ISR 1 < min.insync.replicas 2: %v, LEO %d; want NOT_ENOUGH_REPLICAS and nothing written", r.Err, p.LogEndOffset())
	}
	// acks=1 ignores min.insync.replicas; the HW stays (Kafka 3.7+: no
	// HW move while the ISR is under the effective min ISR).
	if r := produce(m, 1, time.Second, batch(t, "b")); r.Err != nil || p.LogEndOffset() != 1 {
		t.Fatalf("acks=1: %v, LEO %d", r.Err, p.LogEndOffset())
	}
	if hw := p.HighWatermark(); hw != 0 {
		t.Fatalf("HW %d under min ISR, want 0", hw)
	}
}

func TestProduceAcksAllAnswersNotLeaderWhenLeadershipMoves(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1, 2}, []int32{1, 2})); err != nil {
		t.Fatal(err)
	}
	p, _ := m.Partition(tp0)
	done := make(chan ProduceResult, 1)
	go func() { done <- produce(m, -1, 30*time.Second, batch(t, "a")) }()
	deadline := time.Now().Add(10 * time.Second)
	for p.LogEndOffset() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the acks=all batch was not appended")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 2, 1, []int32{2, 1}, []int32{1, 2})); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		if !errors.Is(r.Err, kerr.NotLeaderForPartition) {
			t.Fatalf("acks=all after losing leadership: %v, want NOT_LEADER_OR_FOLLOWER", r.Err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting produce did not end when leadership moved")
	}
}
