package zkmeta

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/kbroker/kbroker/model"
)

func TestPreferredReplicaElectionCodec(t *testing.T) {
	tps := []model.TopicPartition{{Topic: "orders", Partition: 0}, {Topic: "a\"b", Partition: 12}}
	want := `{"version":1,"partitions":[{"topic":"orders","partition":0},{"topic":"a\"b","partition":12}]}`
	if got := string(MarshalPreferredReplicaElection(tps)); got != want {
		t.Fatalf("marshal:\n got %s\nwant %s", got, want)
	}
	if got := string(MarshalPreferredReplicaElection(nil)); got != `{"version":1,"partitions":[]}` {
		t.Fatalf("marshal empty: %s", got)
	}
	for _, tc := range []struct {
		in   string
		want []model.TopicPartition
		err  bool
	}{
		{in: want, want: tps},
		// What the old Scala tool wrote: no version, extra spaces.
		{in: `{"partitions": [ {"topic": "t", "partition": 3} ] }`, want: []model.TopicPartition{{Topic: "t", Partition: 3}}},
		// A set: duplicates dropped, first order kept; unknown keys ignored.
		{in: `{"version":1,"x":2,"partitions":[{"topic":"t","partition":1},{"topic":"s","partition":0,"y":1},{"topic":"t","partition":1}]}`,
			want: []model.TopicPartition{{Topic: "t", Partition: 1}, {Topic: "s", Partition: 0}}},
		{in: `{"version":1,"partitions":[]}`},
		// Not JSON (or nothing): Kafka reads no partitions.
		{in: ``},
		{in: `  `},
		{in: `{"partitions":[`},
		{in: `not json`},
		// JSON of the wrong shape: an error, as Kafka's controller fails.
		{in: `null`, err: true},
		{in: `[]`, err: true},
		{in: `{"version":1}`, err: true},
		{in: `{"partitions":{}}`, err: true},
		{in: `{"partitions":null}`, err: true},
		{in: `{"partitions":[null]}`, err: true},
		{in: `{"partitions":[{"topic":"t"}]}`, err: true},
		{in: `{"partitions":[{"partition":0}]}`, err: true},
		{in: `{"partitions":[{"topic":null,"partition":0}]}`, err: true},
		{in: `{"partitions":[{"topic":1,"partition":0}]}`, err: true},
		{in: `{"partitions":[{"topic":"t","partition":"0"}]}`, err: true},
		{in: `{"partitions":[{"topic":"t","partition":1.5}]}`, err: true},
		{in: `{"partitions":[{"topic":"t","partition":1e2}]}`, err: true},
		{in: `{"partitions":[{"topic":"t","partition":2147483648}]}`, err: true},
	} {
		got, err := ParsePreferredReplicaElection([]byte(tc.in))
		if (err != nil) != tc.err {
			t.Errorf("%s: error %v, want error %v", tc.in, err, tc.err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.in, got, tc.want)
		}
	}
	if got, err := ParsePreferredReplicaElection([]byte(`{"partitions":[{"topic":"t","partition":-2147483648}]}`)); err != nil || got[0].Partition != -2147483648 {
		t.Errorf("min int32: %v %v", got, err)
	}
}

func TestPreferredReplicaElectionWatchAndDelete(t *testing.T) {
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

	// Missing: an exists watch that fires on creation.
	data, ok, changed, err := c.WatchPreferredReplicaElection(ctx)
	if err != nil || ok || data != nil {
		t.Fatalf("missing: %q %v %v", data, ok, err)
	}
	body := MarshalPreferredReplicaElection([]model.TopicPartition{{Topic: "t", Partition: 0}})
	if _, err := e.raw.Create(e.chroot+PreferredReplicaElectionPath, body, 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatal(err)
	}
	if !closedWithin(changed, 10*time.Second) {
		t.Fatal("the exists watch did not fire on creation")
	}

	// Present: a data watch that fires on deletion.
	data, ok, changed, err = c.WatchPreferredReplicaElection(ctx)
	if err != nil || !ok || string(data) != string(body) {
		t.Fatalf("present: %q %v %v", data, ok, err)
	}
	if isClosed(changed) {
		t.Fatal("watch fired early")
	}

	// A deposed controller deletes nothing.
	stale := Fence{Epoch: f.Epoch - 1, EpochZkVersion: f.EpochZkVersion - 1}
	if err := c.DeletePreferredReplicaElection(ctx, stale); !errors.Is(err, ErrControllerMoved) {
		t.Fatalf("stale fence: %v", err)
	}
	if !e.exists(PreferredReplicaElectionPath) {
		t.Fatal("deleted despite a stale fence")
	}
	if err := c.DeletePreferredReplicaElection(ctx, f); err != nil {
		t.Fatal(err)
	}
	if e.exists(PreferredReplicaElectionPath) {
		t.Fatal("not deleted")
	}
	if !closedWithin(changed, 10*time.Second) {
		t.Fatal("the data watch did not fire on deletion")
	}
	// Already gone is fine.
	if err := c.DeletePreferredReplicaElection(ctx, f); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}
