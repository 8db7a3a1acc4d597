package controller

import (
	"slices"

	"github.com/kbroker/kbroker/model"
)

// election is the outcome of a leader election for one partition.
type election struct {
	leader model.BrokerID
	isr    []model.BrokerID
	// unclean is set when the leader was not in the ISR (an unclean
	// election): the partition's leader recovery state becomes RECOVERING.
	unclean bool
}

// electOffline is Kafka's offline-partition election. The first replica in
// assignment order that is live and in the ISR leads, and the ISR keeps its
// live members. When no ISR member is live and allowUnclean says so (it is
// asked only then: it may read the topic's configuration), the first live
// replica in assignment order leads alone, whatever it missed. ok is false
// when nobody can lead; the partition stays offline.
func electOffline(replicas, isr []model.BrokerID, live func(model.BrokerID) bool, allowUnclean func() bool) (e election, ok bool) {
	for _, r := range replicas {
		if live(r) && slices.Contains(isr, r) {
			e.leader = r
			for _, m := range isr {
				if live(m) {
					e.isr = append(e.isr, m)
				}
			}
			return e, true
		}
	}
	i := slices.IndexFunc(replicas, live)
	if i < 0 || allowUnclean == nil || !allowUnclean() {
		return election{leader: model.NoLeader}, false
	}
	return election{leader: replicas[i], isr: []model.BrokerID{replicas[i]}, unclean: true}, true
}

// electControlledShutdown is Kafka's election for a partition whose leader
// is shutting down in order: the first replica in assignment order that is
// live (shutting-down brokers count as live here), in the ISR and not
// shutting down leads; the ISR loses every shutting-down broker. ok is
// false when no such replica exists (the leader stays where it is).
func electControlledShutdown(replicas, isr []model.BrokerID, liveOrShuttingDown, shuttingDown func(model.BrokerID) bool) (e election, ok bool) {
	for _, r := range replicas {
		if liveOrShuttingDown(r) && slices.Contains(isr, r) && !shuttingDown(r) {
			e.leader = r
			e.isr = slices.DeleteFunc(slices.Clone(isr), shuttingDown)
			return e, true
		}
	}
	return election{leader: model.NoLeader}, false
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
