package metacache

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kbroker/kbroker/model"
)

func part(topic string, p int32, leader model.BrokerID, epoch model.LeaderEpoch) PartitionUpdate {
	return PartitionUpdate{Topic: topic, Partition: p, PartitionInfo: PartitionInfo{
		LeaderAndISR: model.LeaderAndISR{Leader: leader, LeaderEpoch: epoch, ISR: []model.BrokerID{leader}},
		Replicas:     []model.BrokerID{leader},
	}}
}

func TestApplyUpsertsAndDeletes(t *testing.T) {
	c := New()
	if c.ControllerID() != -1 {
		t.Fatalf("controller of an empty cache: %d", c.ControllerID())
	}
	id := model.TopicID{9}
	c.Apply(Update{ControllerID: 2, ControllerEpoch: 3,
		Brokers:    []model.Broker{{ID: 2}, {ID: 1}},
		Partitions: []PartitionUpdate{part("a", 1, 1, 0), part("a", 0, 2, 0), part("b", 0, 1, 5)},
		TopicIDs:   map[string]model.TopicID{"a": id, "ghost": {7}},
	})
	if got := c.Brokers(); len(got) != 2 || got[0].ID != 1 || got[1].ID != 2 {
		t.Fatalf("brokers %+v, want 1 and 2 sorted", got)
	}
	if !slices.Equal(c.Topics(), []string{"a", "b"}) {
		t.Fatalf("topics %v", c.Topics())
	}
	parts, gotID, ok := c.Topic("a")
	if !ok || gotID != id || len(parts) != 2 || parts[0].Partition != 0 || parts[0].Leader != 2 {
		t.Fatalf("topic a: %+v %v %v", parts, gotID, ok)
	}
	if name, ok := c.TopicByID(id); !ok || name != "a" {
		t.Fatalf("TopicByID: %q %v", name, ok)
	}
	if _, ok := c.TopicByID(model.TopicID{7}); ok {
		t.Fatal("an id of a topic without partitions was recorded")
	}

	// An update replaces the brokers, changes one partition and deletes b.
	del := part("b", 0, model.LeaderDuringDelete, 6)
	c.Apply(Update{ControllerID: 1, ControllerEpoch: 4, Brokers: []model.Broker{{ID: 1}},
		Partitions: []PartitionUpdate{part("a", 0, 1, 1), del}})
	if c.IsLive(2) || !c.IsLive(1) || c.ControllerID() != 1 || c.ControllerEpoch() != 4 {
		t.Fatalf("after the second update: live2=%v live1=%v controller %d epoch %d", c.IsLive(2), c.IsLive(1), c.ControllerID(), c.ControllerEpoch())
	}
	if info, _ := c.Partition(model.TopicPartition{Topic: "a", Partition: 0}); info.Leader != 1 || info.LeaderEpoch != 1 {
		t.Fatalf("a-0 %+v", info)
	}
	if _, _, ok := c.Topic("b"); ok || c.NumPartitions("b") != 0 {
		t.Fatal("deleted topic b is still known")
	}
	if c.NumPartitions("a") != 2 || c.TopicID("a") != id {
		t.Fatalf("topic a lost state: %d partitions, id %v", c.NumPartitions("a"), c.TopicID("a"))
	}
}

func TestWaitForWakesOnApply(t *testing.T) {
	c := New()
	done := make(chan bool, 1)
	go func() {
		done <- c.WaitFor(context.Background(), time.Minute, func() bool { return c.NumPartitions("t") == 1 })
	}()
	c.Apply(Update{ControllerID: 1, Partitions: []PartitionUpdate{part("t", 0, 1, 0)}})
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("WaitFor reported false")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("WaitFor did not wake up")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if c.WaitFor(ctx, time.Minute, func() bool { return false }) {
		t.Fatal("WaitFor with a cancelled context reported true")
	}
}
