package controller

import (
	"slices"

	"github.com/kbroker/kbroker/model"
)

// electOffline is Kafka's offline-partition election: the first replica in
// assignment order that is live and in the ISR leads, and the ISR keeps its
// live members. ok is false when no ISR member is live (the partition stays
// offline; unclean election is a later concern).
func electOffline(replicas, isr []model.BrokerID, live func(model.BrokerID) bool) (leader model.BrokerID, newISR []model.BrokerID, ok bool) {
	for _, r := range replicas {
		if live(r) && slices.Contains(isr, r) {
			for _, m := range isr {
				if live(m) {
					newISR = append(newISR, m)
				}
			}
			return r, newISR, true
		}
	}
	return model.NoLeader, nil, false
}

// removeFromISR is Kafka's rule for taking a replica out of a partition's
// ISR (OfflineReplica): the leader becomes -1 if it was that replica; the
// ISR loses it unless it is the last member, which stays so that a clean
// election can happen when it returns; the leader epoch always grows.
func removeFromISR(s model.LeaderAndISR, replica model.BrokerID) model.LeaderAndISR {
	out := s
	if s.Leader == replica {
		out.Leader = model.NoLeader
	}
	if len(s.ISR) > 1 {
		out.ISR = slices.DeleteFunc(slices.Clone(s.ISR), func(b model.BrokerID) bool { return b == replica })
	}
	out.LeaderEpoch = s.LeaderEpoch + 1
	return out
}

// initialState is a new partition's first state: the first live replica
// leads, every live replica is in the ISR, epochs 0.
func initialState(replicas []model.BrokerID, live func(model.BrokerID) bool, controllerEpoch int32) (model.LeaderAndISR, bool) {
	var isr []model.BrokerID
	for _, r := range replicas {
		if live(r) {
			isr = append(isr, r)
		}
	}
	if len(isr) == 0 {
		return model.LeaderAndISR{}, false
	}
	return model.LeaderAndISR{Leader: isr[0], LeaderEpoch: 0, ISR: isr, ControllerEpoch: controllerEpoch}, true
}
