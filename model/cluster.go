package model

// Endpoint is one advertised listener of a broker.
type Endpoint struct {
	// Listener is the listener name ("PLAINTEXT", "INTERNAL", ...).
	Listener string
	Host     string
	Port     int32
	// SecurityProtocol is the protocol name ("PLAINTEXT", "SSL",
	// "SASL_PLAINTEXT", "SASL_SSL").
	SecurityProtocol string
}

// Broker is a live broker as the cluster knows it.
type Broker struct {
	ID        BrokerID
	Endpoints []Endpoint
	// Rack is broker.rack, nil when unset.
	Rack *string
}

// Endpoint returns the broker's endpoint for a listener name.
func (b Broker) Endpoint(listener string) (Endpoint, bool) {
	for _, e := range b.Endpoints {
		if e.Listener == listener {
			return e, true
		}
	}
	return Endpoint{}, false
}

// Special leader ids.
const (
	// NoLeader marks a partition without a live leader.
	NoLeader BrokerID = -1
	// LeaderDuringDelete marks, in UpdateMetadata, a partition of a topic
	// being deleted.
	LeaderDuringDelete BrokerID = -2
)

// LeaderAndISR is the leadership state of a partition: what its ZooKeeper
// state znode holds and what LeaderAndIsr/UpdateMetadata carry.
type LeaderAndISR struct {
	Leader      BrokerID
	LeaderEpoch LeaderEpoch
	ISR         []BrokerID
	// ControllerEpoch is the epoch of the controller that made the decision.
	ControllerEpoch int32
	// PartitionEpoch is the zkVersion of the partition state znode.
	PartitionEpoch int32
	// LeaderRecoveryState is 1 (RECOVERING) after an unclean election, else 0.
	LeaderRecoveryState int8
}
