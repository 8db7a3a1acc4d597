package zkmeta

import (
	"errors"
	"reflect"
	"testing"

	"github.com/kbroker/kbroker/model"
)

func TestPartitionStates(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	f, err := c.ElectController(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(ctx, "t", TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {1, 2}, 1: {2, 1}, 2: {1, 2}}}, nil); err != nil {
		t.Fatal(err)
	}
	states := map[int32]model.LeaderAndISR{
		0: {Leader: 1, LeaderEpoch: 0, ControllerEpoch: 1, ISR: []model.BrokerID{1, 2}},
		1: {Leader: 2, LeaderEpoch: 0, ControllerEpoch: 1, ISR: []model.BrokerID{2, 1}},
		2: {Leader: -1, LeaderEpoch: 3, ControllerEpoch: 1, ISR: []model.BrokerID{}, LeaderRecoveryState: 1},
	}
	failed, err := c.CreatePartitionStates(ctx, f, "t", states)
	if err != nil || len(failed) != 0 {
		t.Fatalf("CreatePartitionStates: %v, %v", failed, err)
	}
	e.wantEmptyPersistent("/brokers/topics/t/partitions")
	for _, p := range []string{"0", "1", "2"} {
		e.wantEmptyPersistent("/brokers/topics/t/partitions/" + p)
	}
	e.wantData("/brokers/topics/t/partitions/0/state", `{"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":[1,2]}`, false)
	e.wantData("/brokers/topics/t/partitions/1/state", `{"version":1,"leader":2,"leader_epoch":0,"controller_epoch":1,"isr":[2,1]}`, false)
	e.wantData("/brokers/topics/t/partitions/2/state", `{"version":1,"leader":-1,"leader_epoch":3,"controller_epoch":1,"isr":[],"leader_recovery_state":1}`, false)

	got, err := c.GetPartitionStates(ctx, "t", nil)
	if err != nil || !reflect.DeepEqual(got, states) { // PartitionEpoch 0 everywhere
		t.Fatalf("GetPartitionStates:\n got %+v\nwant %+v", got, states)
	}
	got, err = c.GetPartitionStates(ctx, "t", []int32{1, 7})
	if err != nil || len(got) != 1 || !reflect.DeepEqual(got[1], states[1]) {
		t.Fatalf("GetPartitionStates(1,7) = %+v, %v", got, err)
	}
	if got, err := c.GetPartitionStates(ctx, "missing", nil); err != nil || len(got) != 0 {
		t.Fatalf("GetPartitionStates(missing) = %+v, %v", got, err)
	}

	// Creating again: per-partition NodeExists, nothing rewritten.
	failed, err = c.CreatePartitionStates(ctx, f, "t", map[int32]model.LeaderAndISR{0: {Leader: 9, ISR: []model.BrokerID{9}}, 3: states[0]})
	if err != nil || len(failed) != 1 || !errors.Is(failed[0], ErrNodeExists) {
		t.Fatalf("re-create: %v, %v", failed, err)
	}
	e.wantData("/brokers/topics/t/partitions/0/state", `{"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":[1,2]}`, false)
	e.wantData("/brokers/topics/t/partitions/3/state", `{"version":1,"leader":1,"leader_epoch":0,"controller_epoch":1,"isr":[1,2]}`, false)

	// Partitions of a topic without a znode fail with NoNode.
	failed, err = c.CreatePartitionStates(ctx, f, "gone", map[int32]model.LeaderAndISR{0: states[0]})
	if err != nil || len(failed) != 1 || !errors.Is(failed[0], ErrNoNode) {
		t.Fatalf("topic gone: %v, %v", failed, err)
	}

	// Updates: each conditional on its own version; one stale partition
	// does not fail the others.
	upd := map[int32]model.LeaderAndISR{
		0: {Leader: 2, LeaderEpoch: 1, ControllerEpoch: 1, ISR: []model.BrokerID{2}, PartitionEpoch: 0},
		1: {Leader: 1, LeaderEpoch: 1, ControllerEpoch: 1, ISR: []model.BrokerID{1}, PartitionEpoch: 5}, // stale
		2: {Leader: 1, LeaderEpoch: 4, ControllerEpoch: 1, ISR: []model.BrokerID{1}, PartitionEpoch: 0},
		9: {Leader: 1, LeaderEpoch: 0, ControllerEpoch: 1, ISR: []model.BrokerID{1}, PartitionEpoch: 0}, // no znode
	}
	newEpochs, bad, err := c.UpdatePartitionStates(ctx, f, "t", upd)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(newEpochs, map[int32]int32{0: 1, 2: 1}) || !reflect.DeepEqual(bad, []int32{1, 9}) {
		t.Fatalf("UpdatePartitionStates = %v, %v", newEpochs, bad)
	}
	st := e.wantData("/brokers/topics/t/partitions/0/state", `{"version":1,"leader":2,"leader_epoch":1,"controller_epoch":1,"isr":[2]}`, false)
	if st.Version != 1 {
		t.Fatalf("partition 0 zkVersion %d", st.Version)
	}
	e.wantData("/brokers/topics/t/partitions/1/state", `{"version":1,"leader":2,"leader_epoch":0,"controller_epoch":1,"isr":[2,1]}`, false)
	e.wantData("/brokers/topics/t/partitions/2/state", `{"version":1,"leader":1,"leader_epoch":4,"controller_epoch":1,"isr":[1]}`, false)
	if e.exists("/brokers/topics/t/partitions/9") {
		t.Fatal("an update created a partition")
	}
	got, err = c.GetPartitionStates(ctx, "t", []int32{0})
	if err != nil || got[0].PartitionEpoch != 1 || got[0].Leader != 2 {
		t.Fatalf("after update: %+v, %v", got, err)
	}
}

func TestPartitionStatesFenced(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	old, next := e.client(), e.client()
	fOld, err := old.ElectController(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := old.CreateTopic(ctx, "t", TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {1}}}, nil); err != nil {
		t.Fatal(err)
	}
	s := model.LeaderAndISR{Leader: 1, ControllerEpoch: 1, ISR: []model.BrokerID{1}}
	if failed, err := old.CreatePartitionStates(ctx, fOld, "t", map[int32]model.LeaderAndISR{0: s}); err != nil || len(failed) != 0 {
		t.Fatalf("create: %v, %v", failed, err)
	}
	// The old controller resigns (as after a session loss); a new one is
	// elected. The old fence must no longer write anything.
	if err := old.ResignController(ctx, fOld); err != nil {
		t.Fatal(err)
	}
	fNew, err := next.ElectController(ctx, 2)
	if err != nil || fNew.Epoch != 2 {
		t.Fatalf("new controller: %+v, %v", fNew, err)
	}
	_, before := e.get("/brokers/topics/t/partitions/0/state")

	upd := map[int32]model.LeaderAndISR{0: {Leader: 1, LeaderEpoch: 1, ControllerEpoch: 1, ISR: []model.BrokerID{1}, PartitionEpoch: 0}}
	newEpochs, bad, err := old.UpdatePartitionStates(ctx, fOld, "t", upd)
	if !errors.Is(err, ErrControllerMoved) || len(newEpochs) != 0 || len(bad) != 0 {
		t.Fatalf("stale update: %v, %v, %v", newEpochs, bad, err)
	}
	failed, err := old.CreatePartitionStates(ctx, fOld, "t", map[int32]model.LeaderAndISR{1: s})
	if !errors.Is(err, ErrControllerMoved) || len(failed) != 0 {
		t.Fatalf("stale create: %v, %v", failed, err)
	}
	// Also when the partitions parent would have to be created.
	if err := old.CreateTopic(ctx, "u", TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {1}}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := old.CreatePartitionStates(ctx, fOld, "u", map[int32]model.LeaderAndISR{0: s}); !errors.Is(err, ErrControllerMoved) {
		t.Fatalf("stale create with parents: %v", err)
	}
	if e.exists("/brokers/topics/t/partitions/1") || e.exists("/brokers/topics/u/partitions") {
		t.Fatal("a stale controller created nodes")
	}
	if _, after := e.get("/brokers/topics/t/partitions/0/state"); after.Version != before.Version || after.Mzxid != before.Mzxid {
		t.Fatal("a stale controller changed a partition state")
	}

	// The new controller's write goes through.
	upd[0] = model.LeaderAndISR{Leader: 1, LeaderEpoch: 1, ControllerEpoch: 2, ISR: []model.BrokerID{1}, PartitionEpoch: 0}
	newEpochs, bad, err = next.UpdatePartitionStates(ctx, fNew, "t", upd)
	if err != nil || !reflect.DeepEqual(newEpochs, map[int32]int32{0: 1}) || len(bad) != 0 {
		t.Fatalf("new controller update: %v, %v, %v", newEpochs, bad, err)
	}
	e.wantData("/brokers/topics/t/partitions/0/state", `{"version":1,"leader":1,"leader_epoch":1,"controller_epoch":2,"isr":[1]}`, false)
}
