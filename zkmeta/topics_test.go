package zkmeta

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kbroker/kbroker/model"
)

func mustTopicID(t testing.TB, s string) model.TopicID {
	t.Helper()
	id, err := model.ParseTopicID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCreateTopic(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	if err := c.CreateTopLevelPaths(ctx); err != nil {
		t.Fatal(err)
	}
	a := TopicAssignment{
		Partitions: map[int32][]model.BrokerID{0: {1, 2}, 1: {2, 1}},
		TopicID:    mustTopicID(t, "q2xG0yYaTgqX5x3Mv2UeKg"),
	}
	cfg := map[string]string{"retention.ms": "1000", "cleanup.policy": "compact"}
	if err := c.CreateTopic(ctx, "orders", a, cfg); err != nil {
		t.Fatal(err)
	}
	e.wantData("/brokers/topics/orders",
		`{"version":3,"partitions":{"0":[1,2],"1":[2,1]},"adding_replicas":{},"removing_replicas":{},"topic_id":"q2xG0yYaTgqX5x3Mv2UeKg"}`, false)
	cstat := e.wantData("/config/topics/orders", `{"version":1,"config":{"cleanup.policy":"compact","retention.ms":"1000"}}`, false)
	_, tstat := e.get("/brokers/topics/orders")
	if cstat.Czxid >= tstat.Czxid {
		t.Error("the config znode was not written before the topic znode")
	}

	// Without configs and without an id.
	if err := c.CreateTopic(ctx, "plain", TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {3}}}, nil); err != nil {
		t.Fatal(err)
	}
	e.wantData("/brokers/topics/plain", `{"version":3,"partitions":{"0":[3]},"adding_replicas":{},"removing_replicas":{}}`, false)
	e.wantData("/config/topics/plain", `{"version":1,"config":{}}`, false)

	if err := c.CreateTopic(ctx, "orders", a, nil); !errors.Is(err, ErrTopicExists) {
		t.Fatalf("second create: %v", err)
	}
	e.wantData("/config/topics/orders", `{"version":1,"config":{"cleanup.policy":"compact","retention.ms":"1000"}}`, false)

	topics, err := c.GetTopics(ctx)
	if err != nil || !reflect.DeepEqual(topics, []string{"orders", "plain"}) {
		t.Fatalf("GetTopics = %v, %v", topics, err)
	}
	got, version, ok, err := c.GetTopic(ctx, "orders")
	a.Adding, a.Removing = map[int32][]model.BrokerID{}, map[int32][]model.BrokerID{}
	if err != nil || !ok || version != 0 || !reflect.DeepEqual(got, a) {
		t.Fatalf("GetTopic = %+v, %d, %v, %v", got, version, ok, err)
	}
	if _, _, ok, err := c.GetTopic(ctx, "missing"); err != nil || ok {
		t.Fatalf("GetTopic(missing) = %v, %v", ok, err)
	}
	if got, err := c.GetTopicConfig(ctx, "orders"); err != nil || !reflect.DeepEqual(got, cfg) {
		t.Fatalf("GetTopicConfig = %v, %v", got, err)
	}
	if got, err := c.GetTopicConfig(ctx, "missing"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("GetTopicConfig(missing) = %v, %v", got, err)
	}
}

func TestCreateTopicWithoutTopLevelPaths(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	if err := c.CreateTopic(ctxT(t), "t", TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {1}}}, nil); err != nil {
		t.Fatal(err)
	}
	e.wantEmptyPersistent("/brokers/topics")
	e.wantEmptyPersistent("/config/topics")
}

func TestSetTopicAssignment(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	a := TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {1}}}
	if err := c.CreateTopic(ctx, "t", a, nil); err != nil {
		t.Fatal(err)
	}
	// Admin partition addition: conditional, unfenced.
	a.Partitions[1] = []model.BrokerID{2}
	v, err := c.SetTopicAssignment(ctx, nil, "t", a, 0)
	if err != nil || v != 1 {
		t.Fatalf("admin write: %d, %v", v, err)
	}
	if _, err := c.SetTopicAssignment(ctx, nil, "t", a, 0); !errors.Is(err, ErrBadVersion) {
		t.Fatalf("stale version: %v", err)
	}
	if _, err := c.SetTopicAssignment(ctx, nil, "missing", a, -1); !errors.Is(err, ErrNoNode) {
		t.Fatalf("missing topic: %v", err)
	}
	// Controller write: fenced.
	f, err := c.ElectController(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	a.TopicID = mustTopicID(t, "AAAAAAAAAAAAAAAAAAAAAQ")
	a.Adding = map[int32][]model.BrokerID{0: {3}}
	v, err = c.SetTopicAssignment(ctx, &f, "t", a, 1)
	if err != nil || v != 2 {
		t.Fatalf("fenced write: %d, %v", v, err)
	}
	e.wantData("/brokers/topics/t",
		`{"version":3,"partitions":{"0":[1],"1":[2]},"adding_replicas":{"0":[3]},"removing_replicas":{},"topic_id":"AAAAAAAAAAAAAAAAAAAAAQ"}`, false)
	if _, err := c.SetTopicAssignment(ctx, &f, "t", a, 1); !errors.Is(err, ErrBadVersion) || errors.Is(err, ErrControllerMoved) {
		t.Fatalf("fenced write, stale version: %v", err)
	}
	stale := Fence{Epoch: f.Epoch - 1, EpochZkVersion: f.EpochZkVersion - 1}
	if _, err := c.SetTopicAssignment(ctx, &stale, "t", TopicAssignment{}, -1); !errors.Is(err, ErrControllerMoved) {
		t.Fatalf("stale fence: %v", err)
	}
	if _, st := e.get("/brokers/topics/t"); st.Version != 2 {
		t.Fatal("a fenced-off write changed the topic")
	}
}

func TestTopicDeletion(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	if err := c.CreateTopLevelPaths(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := c.ElectController(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	a := TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {1}, 1: {1}, 2: {1}}}
	if err := c.CreateTopic(ctx, "doomed", a, map[string]string{"retention.ms": "1"}); err != nil {
		t.Fatal(err)
	}
	states := map[int32]model.LeaderAndISR{}
	for p := range int32(3) {
		states[p] = model.LeaderAndISR{Leader: 1, ControllerEpoch: f.Epoch, ISR: []model.BrokerID{1}}
	}
	if failed, err := c.CreatePartitionStates(ctx, f, "doomed", states); err != nil || len(failed) != 0 {
		t.Fatalf("CreatePartitionStates: %v, %v", failed, err)
	}

	dels, changed, err := c.WatchTopicDeletions(ctx)
	if err != nil || len(dels) != 0 {
		t.Fatalf("WatchTopicDeletions = %v, %v", dels, err)
	}
	if err := c.MarkTopicForDeletion(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	e.wantEmptyPersistent("/admin/delete_topics/doomed")
	if !closedWithin(changed, 10*time.Second) {
		t.Fatal("deletion watch did not fire")
	}
	if dels, _, err := c.WatchTopicDeletions(ctx); err != nil || !reflect.DeepEqual(dels, []string{"doomed"}) {
		t.Fatalf("WatchTopicDeletions = %v, %v", dels, err)
	}
	if err := c.MarkTopicForDeletion(ctx, "doomed"); !errors.Is(err, ErrTopicAlreadyMarked) {
		t.Fatalf("second mark: %v", err)
	}
	if err := c.MarkTopicForDeletion(ctx, "nosuch"); !errors.Is(err, ErrNoNode) {
		t.Fatalf("mark missing topic: %v", err)
	}

	// A stale controller deletes nothing.
	stale := Fence{Epoch: f.Epoch - 1, EpochZkVersion: f.EpochZkVersion - 1}
	if err := c.DeleteTopic(ctx, stale, "doomed"); !errors.Is(err, ErrControllerMoved) {
		t.Fatalf("stale DeleteTopic: %v", err)
	}
	if err := c.DeleteTopicDeletionMarker(ctx, stale, "doomed"); !errors.Is(err, ErrControllerMoved) {
		t.Fatalf("stale DeleteTopicDeletionMarker: %v", err)
	}
	for _, p := range []string{"/brokers/topics/doomed/partitions/2/state", "/config/topics/doomed", "/admin/delete_topics/doomed"} {
		if !e.exists(p) {
			t.Fatalf("%s deleted by a stale controller", p)
		}
	}

	// While marked, the topic cannot be re-created.
	if err := c.DeleteTopic(ctx, f, "doomed"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/brokers/topics/doomed", "/config/topics/doomed", "/admin/delete_topics/doomed"} {
		if e.exists(p) {
			t.Fatalf("%s survived DeleteTopic", p)
		}
	}
	if err := c.DeleteTopic(ctx, f, "doomed"); err != nil { // already gone
		t.Fatal(err)
	}
	if err := c.DeleteTopicDeletionMarker(ctx, f, "doomed"); err != nil {
		t.Fatal(err)
	}
}

func TestCreateTopicRefusedWhileMarkedForDeletion(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	f, err := c.ElectController(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	a := TopicAssignment{Partitions: map[int32][]model.BrokerID{0: {1}}}
	if err := c.CreateTopic(ctx, "t", a, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.MarkTopicForDeletion(ctx, "t"); err != nil {
		t.Fatal(err)
	}
	// The controller removed the topic but not yet the marker.
	if err := c.fencedDelete(ctx, f, "test", []string{TopicPath("t")}); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTopic(ctx, "t", a, nil); !errors.Is(err, ErrTopicExists) || !strings.Contains(err.Error(), "marked for deletion") {
		t.Fatalf("create while marked: %v", err)
	}
	if err := c.DeleteTopicDeletionMarker(ctx, f, "t"); err != nil {
		t.Fatal(err)
	}
	if e.exists("/admin/delete_topics/t") {
		t.Fatal("marker still there")
	}
	if err := c.CreateTopic(ctx, "t", a, nil); err != nil {
		t.Fatalf("create after deletion: %v", err)
	}
}

func TestDeleteTopicManyPartitions(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	f, err := c.ElectController(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// 300 partitions = 601 nodes under the topic: more than one multi.
	a := TopicAssignment{Partitions: map[int32][]model.BrokerID{}}
	states := map[int32]model.LeaderAndISR{}
	for p := range int32(300) {
		a.Partitions[p] = []model.BrokerID{1}
		states[p] = model.LeaderAndISR{Leader: 1, ControllerEpoch: 1, ISR: []model.BrokerID{1}}
	}
	if err := c.CreateTopic(ctx, "big", a, nil); err != nil {
		t.Fatal(err)
	}
	if failed, err := c.CreatePartitionStates(ctx, f, "big", states); err != nil || len(failed) != 0 {
		t.Fatalf("CreatePartitionStates: %v, %v", failed, err)
	}
	got, err := c.GetPartitionStates(ctx, "big", nil)
	if err != nil || len(got) != 300 {
		t.Fatalf("GetPartitionStates: %d, %v", len(got), err)
	}
	if err := c.DeleteTopic(ctx, f, "big"); err != nil {
		t.Fatal(err)
	}
	if e.exists("/brokers/topics/big") || e.exists("/config/topics/big") {
		t.Fatal("big topic survived")
	}
}

func TestEntityConfig(t *testing.T) {
	e := newEnv(t)
	c := e.client()
	ctx := ctxT(t)
	if got, err := c.GetEntityConfig(ctx, "brokers", "<default>"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("missing default broker config: %v, %v", got, err)
	}
	if err := c.SetEntityConfig(ctx, "brokers", "<default>", map[string]string{"log.retention.ms": "5"}); err != nil {
		t.Fatal(err)
	}
	e.wantData("/config/brokers/<default>", `{"version":1,"config":{"log.retention.ms":"5"}}`, false)
	e.wantData("/config/changes/config_change_0000000000", `{"version":2,"entity_path":"brokers/<default>"}`, false)
	if got, err := c.GetEntityConfig(ctx, "brokers", "<default>"); err != nil || !reflect.DeepEqual(got, map[string]string{"log.retention.ms": "5"}) {
		t.Fatalf("GetEntityConfig = %v, %v", got, err)
	}
	if err := c.SetEntityConfig(ctx, "topics", "t", map[string]string{"a": "b"}); err != nil {
		t.Fatal(err)
	}
	e.wantData("/config/changes/config_change_0000000001", `{"version":2,"entity_path":"topics/t"}`, false)
	// Kafka-written config with its own key order and a v1 shape.
	if _, err := e.raw.Create(e.chroot+"/config/brokers/1", []byte(`{"config":{"x":"1"},"version":1}`), 0, openACL); err != nil {
		t.Fatal(err)
	}
	if got, err := c.GetEntityConfig(ctx, "brokers", "1"); err != nil || !reflect.DeepEqual(got, map[string]string{"x": "1"}) {
		t.Fatalf("GetEntityConfig(brokers,1) = %v, %v", got, err)
	}
}
