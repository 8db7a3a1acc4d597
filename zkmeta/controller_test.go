package zkmeta

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/kbroker/kbroker/model"
)

// wantController asserts /controller names id (v2 JSON, ephemeral, owned by
// session) and /controller_epoch holds epoch.
func (e *env) wantController(id model.BrokerID, session int64, epoch string) {
	e.t.Helper()
	data, stat := e.get("/controller")
	var j map[string]any
	if err := json.Unmarshal(data, &j); err != nil {
		e.t.Fatal(err)
	}
	ts, _ := j["timestamp"].(string)
	want := fmt.Sprintf(`{"version":2,"brokerid":%d,"timestamp":"%s","kraftControllerEpoch":-1}`, id, ts)
	if string(data) != want || len(ts) < 13 {
		e.t.Errorf("/controller = %s, want %s", data, want)
	}
	if stat.EphemeralOwner != session {
		e.t.Errorf("/controller owner 0x%x, want 0x%x", stat.EphemeralOwner, session)
	}
	e.wantData("/controller_epoch", epoch, false)
}

func TestElectController(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	a, b := e.client(), e.client()
	if _, _, ok, err := a.GetControllerEpoch(ctx); err != nil || ok {
		t.Fatalf("epoch before any election: %v, %v", ok, err)
	}
	fa, err := a.ElectController(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// /controller_epoch was created with "0" (version 0), then set to 1.
	if fa != (Fence{Epoch: 1, EpochZkVersion: 1}) {
		t.Fatalf("first fence %+v", fa)
	}
	e.wantController(1, a.SessionID(), "1")
	if epoch, v, ok, err := b.GetControllerEpoch(ctx); err != nil || !ok || epoch != 1 || v != 1 {
		t.Fatalf("GetControllerEpoch = %d, %d, %v, %v", epoch, v, ok, err)
	}

	// The other broker loses; the epoch does not move.
	if _, err := b.ElectController(ctx, 2); !errors.Is(err, ErrControllerExists) {
		t.Fatalf("second election: %v", err)
	}
	e.wantController(1, a.SessionID(), "1")

	// Electing again in the winning session returns the same fence.
	if again, err := a.ElectController(ctx, 1); err != nil || again != fa {
		t.Fatalf("re-election by the controller: %+v, %v", again, err)
	}
	// Another broker with the same id in another session does not win.
	if _, err := b.ElectController(ctx, 1); !errors.Is(err, ErrControllerExists) {
		t.Fatalf("same id, other session: %v", err)
	}

	id, ok, changed, err := b.WatchController(ctx)
	if err != nil || !ok || id != 1 {
		t.Fatalf("WatchController = %d, %v, %v", id, ok, err)
	}
	if id, ok, err := b.GetController(ctx); err != nil || !ok || id != 1 {
		t.Fatalf("GetController = %d, %v, %v", id, ok, err)
	}

	// The controller's session ends: the watch fires, the other one wins
	// with epoch+1.
	a.Close()
	if !closedWithin(changed, 10*time.Second) {
		t.Fatal("watch did not fire when the controller went away")
	}
	if _, ok, err := b.GetController(ctx); err != nil || ok {
		t.Fatalf("controller after close: %v, %v", ok, err)
	}
	fb, err := b.ElectController(ctx, 2)
	if err != nil || fb != (Fence{Epoch: 2, EpochZkVersion: 2}) {
		t.Fatalf("second controller: %+v, %v", fb, err)
	}
	e.wantController(2, b.SessionID(), "2")

	// A fence from the old epoch writes nothing.
	c := e.client()
	_, bad, err := c.UpdatePartitionStates(ctx, fa, "t", map[int32]model.LeaderAndISR{0: {Leader: 1, ISR: []model.BrokerID{1}}})
	if !errors.Is(err, ErrControllerMoved) || len(bad) != 0 {
		t.Fatalf("stale fence: %v, %v", bad, err)
	}

	// Resigning with a fence of someone else's election: not ours, nothing
	// happens.
	if err := c.ResignController(ctx, fb); err != nil {
		t.Fatal(err)
	}
	e.wantController(2, b.SessionID(), "2")
	// The controller resigns: /controller goes, the epoch stays.
	if err := b.ResignController(ctx, fb); err != nil {
		t.Fatal(err)
	}
	if e.exists("/controller") {
		t.Fatal("/controller still there after resignation")
	}
	e.wantData("/controller_epoch", "2", false)
	if err := b.ResignController(ctx, fb); err != nil { // nothing left to do
		t.Fatal(err)
	}
	fc, err := c.ElectController(ctx, 3)
	if err != nil || fc != (Fence{Epoch: 3, EpochZkVersion: 3}) {
		t.Fatalf("third controller: %+v, %v", fc, err)
	}
}

func TestResignControllerFenced(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	a := e.client()
	fa, err := a.ElectController(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Someone bumps the epoch behind the controller's back (as a KRaft
	// migration would): the controller's own resignation is fenced off.
	if _, err := e.raw.Set(e.chroot+"/controller_epoch", []byte("7"), fa.EpochZkVersion); err != nil {
		t.Fatal(err)
	}
	if err := a.ResignController(ctx, fa); !errors.Is(err, ErrControllerMoved) {
		t.Fatalf("resign with a stale fence: %v", err)
	}
	if !e.exists("/controller") {
		t.Fatal("a fenced resignation deleted /controller")
	}
}

func TestElectControllerExistingEpoch(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	// A cluster that already had controllers (e.g. migrated from Kafka).
	if _, err := e.raw.Create(e.chroot, nil, 0, openACL); err != nil {
		t.Fatal(err)
	}
	if _, err := e.raw.Create(e.chroot+"/controller_epoch", []byte("41"), 0, openACL); err != nil {
		t.Fatal(err)
	}
	c := e.client()
	f, err := c.ElectController(ctx, 5)
	if err != nil || f != (Fence{Epoch: 42, EpochZkVersion: 1}) {
		t.Fatalf("fence %+v, %v", f, err)
	}
	e.wantController(5, c.SessionID(), "42")
}
