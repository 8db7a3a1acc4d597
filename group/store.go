package group

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pendingStore is a write of group metadata prepared under the group lock
// and appended without it; apply then runs under the lock again with the
// outcome, mapped to the error the members should see.
type pendingStore struct {
	g       *group
	entries []Entry
	apply   func(err error)
}

func (p *pendingStore) run() {
	_, err := p.g.c.append(p.g.s, p.entries)
	p.g.mu.Lock()
	defer p.g.mu.Unlock()
	if p.apply != nil {
		p.apply(storeGroupError(err))
	}
}

// storeGroupLocked prepares the group's metadata record with the given
// assignments (Kafka's storeGroup).
func (g *group) storeGroupLocked(assignment map[string][]byte) *pendingStore {
	return &pendingStore{g: g, entries: []Entry{{Key: GroupKeyBytes(g.id), Value: GroupValueBytes(g.metadataValue(assignment))}}}
}

// storeEmptyAsync stores an Empty group after a rebalance without members;
// a failure is only logged, as in Kafka.
func (g *group) storeEmptyAsync() {
	g.mu.Lock()
	if g.state != Empty {
		g.mu.Unlock()
		return
	}
	st := g.storeGroupLocked(nil)
	g.mu.Unlock()
	st.apply = func(err error) {
		if err != nil {
			g.c.lg.Warn().Err(err).Str("group", g.id).Msg("storing the empty group failed")
		}
	}
	st.run()
}

// metadataValue is the group's GroupMetadataValue.
func (g *group) metadataValue(assignment map[string][]byte) kmsg.GroupMetadataValue {
	v := kmsg.NewGroupMetadataValue()
	v.ProtocolType = g.protocolType
	v.Generation = g.generation
	if g.protocol != "" {
		p := g.protocol
		v.Protocol = &p
	}
	if g.leader != "" {
		l := g.leader
		v.Leader = &l
	}
	v.CurrentStateTimestamp = g.stateTime.UnixMilli()
	for _, m := range g.sortedMembers() {
		vm := kmsg.NewGroupMetadataValueMember()
		vm.MemberID, vm.InstanceID, vm.ClientID, vm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		vm.RebalanceTimeoutMillis = int32(m.rebalanceTimeout.Milliseconds())
		vm.SessionTimeoutMillis = int32(m.sessionTimeout.Milliseconds())
		vm.Subscription = m.metadataFor(g.protocol)
		if vm.Subscription == nil {
			vm.Subscription = []byte{}
		}
		vm.Assignment = assignment[m.id]
		if vm.Assignment == nil {
			vm.Assignment = []byte{}
		}
		v.Members = append(v.Members, vm)
	}
	return v
}

// unavailableError maps the append failures both writes treat alike: the
// partition is not led here or cannot take the write now. nil otherwise.
func unavailableError(err error) error {
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition), errors.Is(err, kerr.NotEnoughReplicas),
		errors.Is(err, kerr.NotEnoughReplicasAfterAppend):
		return kerr.CoordinatorNotAvailable
	case errors.Is(err, kerr.NotLeaderForPartition), errors.Is(err, kerr.KafkaStorageError), errors.Is(err, context.Canceled):
		return kerr.NotCoordinator
	}
	return nil
}

// storeGroupError maps a failed group-metadata append to the error the
// members get (Kafka's GroupMetadataManager.storeGroup).
func storeGroupError(err error) error {
	if err == nil {
		return nil
	}
	if u := unavailableError(err); u != nil {
		return u
	}
	if errors.Is(err, kerr.RequestTimedOut) || errors.Is(err, context.DeadlineExceeded) {
		return kerr.RebalanceInProgress
	}
	return kerr.UnknownServerError
}

// storeOffsetsError maps a failed offset-commit append to the error each
// partition gets (Kafka's GroupMetadataManager.storeOffsets).
func storeOffsetsError(err error) error {
	if err == nil {
		return nil
	}
	if u := unavailableError(err); u != nil {
		return u
	}
	switch {
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge), errors.Is(err, kerr.InvalidFetchSize):
		return kerr.InvalidCommitOffsetSize
	case errors.Is(err, context.DeadlineExceeded):
		return kerr.RequestTimedOut
	case errors.Is(err, kerr.NetworkException):
		// The transaction verification could not reach the transaction
		// coordinator: older clients retry this one without a new
		// coordinator lookup (Kafka's maybeConvertOffsetCommitError).
		return kerr.CoordinatorLoadInProgress
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke
	}
	return kerr.UnknownServerError
}
