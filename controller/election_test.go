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
	for _, tc := range []struct {
		name     string
		replicas []model.BrokerID
		isr      []model.BrokerID
		live     []model.BrokerID
		leader   model.BrokerID
		newISR   []model.BrokerID
		ok       bool
	}{
		{"first live ISR member in assignment order", []model.BrokerID{1, 2, 3}, []model.BrokerID{3, 2, 1}, []model.BrokerID{2, 3}, 2, []model.BrokerID{3, 2}, true},
		{"live replica outside the ISR is skipped", []model.BrokerID{1, 2, 3}, []model.BrokerID{1, 3}, []model.BrokerID{2, 3}, 3, []model.BrokerID{3}, true},
		{"no live ISR member: offline", []model.BrokerID{1, 2, 3}, []model.BrokerID{1}, []model.BrokerID{2, 3}, model.NoLeader, nil, false},
		{"nothing live", []model.BrokerID{1}, []model.BrokerID{1}, nil, model.NoLeader, nil, false},
		{"preferred replica back", []model.BrokerID{1, 2}, []model.BrokerID{1, 2}, []model.BrokerID{1, 2}, 1, []model.BrokerID{1, 2}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leader, isr, ok := electOffline(tc.replicas, tc.isr, liveSet(tc.live...))
			if leader != tc.leader || ok != tc.ok || !slices.Equal(isr, tc.newISR) {
				t.Fatalf("electOffline = %d %v %v, want %d %v %v", leader, isr, ok, tc.leader, tc.newISR, tc.ok)
			}
		})
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
