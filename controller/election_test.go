package controller

import (
	"slices"
	"testing"

	"github.com/kbroker/kbroker/model"
)

func liveSet(ids ...model.BrokerID) func(model.BrokerID) bool {
	return func(b model.BrokerID) bool { return slices.Contains(ids, b) }
}

func TestElectOffline(t *testing.T) {
	ids := func(b ...model.BrokerID) []model.BrokerID { return b }
	for _, tc := range []struct {
		name     string
		replicas []model.BrokerID
		isr      []model.BrokerID
		live     []model.BrokerID
		unclean  bool
		leader   model.BrokerID
		newISR   []model.BrokerID
		ok       bool
		dirty    bool // the election was unclean
		asked    bool // the unclean setting had to be read
	}{
		{name: "first live ISR member in assignment order", replicas: ids(1, 2, 3), isr: ids(3, 2, 1), live: ids(2, 3), leader: 2, newISR: ids(3, 2), ok: true},
		{name: "live replica outside the ISR is skipped", replicas: ids(1, 2, 3), isr: ids(1, 3), live: ids(2, 3), leader: 3, newISR: ids(3), ok: true},
		{name: "clean choice exists: unclean setting not read", replicas: ids(1, 2, 3), isr: ids(1, 3), live: ids(2, 3), unclean: true, leader: 3, newISR: ids(3), ok: true},
		{name: "no live ISR member: offline", replicas: ids(1, 2, 3), isr: ids(1), live: ids(2, 3), leader: model.NoLeader, asked: true},
		{name: "nothing live", replicas: ids(1), isr: ids(1), leader: model.NoLeader},
		{name: "nothing live, unclean allowed", replicas: ids(1, 2), isr: ids(1), unclean: true, leader: model.NoLeader},
		{name: "preferred replica back", replicas: ids(1, 2), isr: ids(1, 2), live: ids(1, 2), leader: 1, newISR: ids(1, 2), ok: true},
		{name: "unclean: first live replica in assignment order leads alone", replicas: ids(1, 3, 2), isr: ids(1), live: ids(2, 3), unclean: true, leader: 3, newISR: ids(3), ok: true, dirty: true, asked: true},
		{name: "unclean: dead ISR ignored, assignment order wins", replicas: ids(2, 1), isr: ids(1), live: ids(2), unclean: true, leader: 2, newISR: ids(2), ok: true, dirty: true, asked: true},
		{name: "empty ISR: clean impossible, unclean allowed", replicas: ids(1, 2), isr: nil, live: ids(2), unclean: true, leader: 2, newISR: ids(2), ok: true, dirty: true, asked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked := false
			allow := func() bool { asked = true; return tc.unclean }
			e, ok := electOffline(tc.replicas, tc.isr, liveSet(tc.live...), allow)
			if e.leader != tc.leader || ok != tc.ok || !slices.Equal(e.isr, tc.newISR) || e.unclean != tc.dirty {
				t.Fatalf("electOffline = %d %v unclean=%v ok=%v, want %d %v unclean=%v ok=%v", e.leader, e.isr, e.unclean, ok, tc.leader, tc.newISR, tc.dirty, tc.ok)
			}
			if asked != tc.asked {
				t.Fatalf("unclean setting read: %v, want %v", asked, tc.asked)
			}
		})
	}
	// A nil allowUnclean means never.
	if _, ok := electOffline([]model.BrokerID{1, 2}, []model.BrokerID{1}, liveSet(2), nil); ok {
		t.Fatal("electOffline with nil allowUnclean elected uncleanly")
	}
}

func TestElectControlledShutdown(t *testing.T) {
	ids := func(b ...model.BrokerID) []model.BrokerID { return b }
	for _, tc := range []struct {
		name         string
		replicas     []model.BrokerID
		isr          []model.BrokerID
		live         []model.BrokerID // live or shutting down
		shuttingDown []model.BrokerID
		leader       model.BrokerID
		newISR       []model.BrokerID
		ok           bool
	}{
		{"next ISR member in assignment order", ids(1, 2, 3), ids(1, 3, 2), ids(1, 2, 3), ids(1), 2, ids(3, 2), true},
		{"replica outside the ISR is skipped", ids(1, 2, 3), ids(1, 3), ids(1, 2, 3), ids(1), 3, ids(3), true},
		{"dead ISR member is skipped", ids(1, 2, 3), ids(1, 2, 3), ids(1, 3), ids(1), 3, ids(2, 3), true},
		{"every shutting-down broker leaves the ISR", ids(1, 2, 3), ids(1, 2, 3), ids(1, 2, 3), ids(1, 2), 3, ids(3), true},
		{"only the shutting-down leader in the ISR: stays", ids(1, 2), ids(1), ids(1, 2), ids(1), model.NoLeader, nil, false},
		{"other ISR members also shutting down: stays", ids(1, 2), ids(1, 2), ids(1, 2), ids(1, 2), model.NoLeader, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := slices.Clone(tc.isr)
			e, ok := electControlledShutdown(tc.replicas, tc.isr, liveSet(tc.live...), liveSet(tc.shuttingDown...))
			if e.leader != tc.leader || ok != tc.ok || !slices.Equal(e.isr, tc.newISR) || e.unclean {
				t.Fatalf("electControlledShutdown = %d %v ok=%v unclean=%v, want %d %v ok=%v", e.leader, e.isr, ok, e.unclean, tc.leader, tc.newISR, tc.ok)
			}
			if !slices.Equal(tc.isr, orig) {
				t.Fatalf("input ISR modified: %v", tc.isr)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	for in, want := range map[string][2]bool{
		"true": {true, true}, " TRUE ": {true, true}, "False": {false, true}, "yes": {false, false}, "": {false, false},
	} {
		v, ok := parseBool(in)
		if v != want[0] || ok != want[1] {
			t.Errorf("parseBool(%q) = %v %v, want %v %v", in, v, ok, want[0], want[1])
		}
	}
}

func TestRemoveFromISR(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      model.LeaderAndISR
		replica model.BrokerID
		leader  model.BrokerID
		isr     []model.BrokerID
	}{
		{"follower leaves", model.LeaderAndISR{Leader: 1, LeaderEpoch: 4, ISR: []model.BrokerID{1, 2, 3}}, 2, 1, []model.BrokerID{1, 3}},
		{"leader leaves: no leader", model.LeaderAndISR{Leader: 1, LeaderEpoch: 4, ISR: []model.BrokerID{1, 2}}, 1, model.NoLeader, []model.BrokerID{2}},
		{"last ISR member stays", model.LeaderAndISR{Leader: 1, LeaderEpoch: 4, ISR: []model.BrokerID{1}}, 1, model.NoLeader, []model.BrokerID{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := slices.Clone(tc.in.ISR)
			out := removeFromISR(tc.in, tc.replica)
			if out.Leader != tc.leader || !slices.Equal(out.ISR, tc.isr) || out.LeaderEpoch != tc.in.LeaderEpoch+1 {
				t.Fatalf("removeFromISR = leader %d isr %v epoch %d, want %d %v %d", out.Leader, out.ISR, out.LeaderEpoch, tc.leader, tc.isr, tc.in.LeaderEpoch+1)
			}
			if !slices.Equal(tc.in.ISR, orig) {
				t.Fatalf("input ISR modified: %v", tc.in.ISR)
			}
		})
	}
}

func TestInitialState(t *testing.T) {
	s, ok := initialState([]model.BrokerID{3, 1, 2}, liveSet(1, 2), 7)
	if !ok || s.Leader != 1 || !slices.Equal(s.ISR, []model.BrokerID{1, 2}) || s.LeaderEpoch != 0 || s.ControllerEpoch != 7 {
		t.Fatalf("initialState = %+v %v", s, ok)
	}
	if _, ok := initialState([]model.BrokerID{3}, liveSet(1), 7); ok {
		t.Fatal("initialState with no live replica succeeded")
	}
}
