package api

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TestVerificationProduceError: Kafka's translation of a failed
// verification for producers (ReplicaManager): retriable coordinator
// errors become NOT_ENOUGH_REPLICAS naming the underlying error, a
// partition outside the transaction INVALID_TXN_STATE, the rest as is.
func TestVerificationProduceError(t *testing.T) {
	for _, tc := range []struct {
		in   error
		code *kerr.Error
		msg  string
	}{
		{kerr.InvalidTxnState, kerr.InvalidTxnState, "Partition was not added to the transaction"},
		{kerr.NetworkException, kerr.NotEnoughReplicas, "Unable to verify the partition has been added to the transaction. Underlying error: NETWORK_EXCEPTION"},
		{kerr.CoordinatorLoadInProgress, kerr.NotEnoughReplicas, "Unable to verify the partition has been added to the transaction. Underlying error: COORDINATOR_LOAD_IN_PROGRESS"},
		{kerr.CoordinatorNotAvailable, kerr.NotEnoughReplicas, "Unable to verify the partition has been added to the transaction. Underlying error: COORDINATOR_NOT_AVAILABLE"},
		{kerr.NotCoordinator, kerr.NotEnoughReplicas, "Unable to verify the partition has been added to the transaction. Underlying error: NOT_COORDINATOR"},
		{kerr.ConcurrentTransactions, kerr.NotEnoughReplicas, "Unable to verify the partition has been added to the transaction. Underlying error: CONCURRENT_TRANSACTIONS"},
		{kerr.InvalidProducerEpoch, kerr.InvalidProducerEpoch, ""},
		{kerr.InvalidProducerIDMapping, kerr.InvalidProducerIDMapping, ""},
	} {
		got := verificationProduceError(tc.in)
		if !errors.Is(got, tc.code) {
			t.Errorf("%v → %v, want %v", tc.in, got, tc.code)
			continue
		}
		if tc.msg == "" {
			continue
		}
		if m := errorMessage(got); m == nil || *m != tc.msg {
			t.Errorf("%v → message %v, want %q", tc.in, m, tc.msg)
		}
	}
}
