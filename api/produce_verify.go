package api

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/replica"
)

// verifyTxnProduce is Kafka's transaction verification of a transactional
// Produce (KIP-890 part 1; ReplicaManager.handleProduceAppend): the
// transactional batches must all be of one producer id and epoch (ok is
// false otherwise: the whole request fails with INVALID_PRODUCER_ID_MAPPING).
// Each partition where the producer has no open transaction starts a
// verification on its leader log, and the transactional id's coordinator
// is asked, in one question, whether those partitions are in the
// transaction. It returns the error of each partition that failed, by its
// index in parts; the others carry their guard in parts. Without VerifyTxn
// (verification off) only the producer-id check is made.
func (h *Handler) verifyTxnProduce(ctx context.Context, txnID string, parts []replica.ProducePartition) (failed map[int]error, ok bool) {
	type producerKey struct {
		id    int64
		epoch int16
	}
	var prod *producerKey
	seqs := make(map[int]int32)
	for i, pp := range parts {
		b, _, err := record.Next(pp.Records, 0)
		if err != nil || b == nil || !b.HasProducerID() || !b.IsTransactional() {
			continue
		}
		k := producerKey{b.ProducerID(), b.ProducerEpoch()}
		if prod != nil && *prod != k {
			return nil, false
		}
		prod = &k
		seqs[i] = b.BaseSequence()
	}
	if prod == nil || h.d.VerifyTxn == nil {
		return nil, true
	}

	failed = map[int]error{}
	need := map[model.TopicPartition]int{}
	var tps []model.TopicPartition
	for i := range parts {
		seq, ok := seqs[i]
		if !ok {
			continue
		}
		g, err := h.d.Replicas.StartTxnVerification(parts[i].TP, prod.id, seq, prod.epoch)
		switch {
		case err != nil:
			failed[i] = err
		case g != partition.NoTxnGuard:
			parts[i].Guard = g
			need[parts[i].TP] = i
			tps = append(tps, parts[i].TP)
		}
	}
	if len(tps) > 0 {
		for tp, err := range h.d.VerifyTxn(ctx, txnID, prod.id, prod.epoch, tps) {
			if i, ok := need[tp]; ok && err != nil {
				failed[i] = verificationProduceError(err)
			}
		}
	}
	return failed, true
}

// verificationProduceError is the error a producer gets for a failed
// verification, as Kafka translates the coordinator's: the retriable
// coordinator errors, which older producers do not retry well, become
// NOT_ENOUGH_REPLICAS; INVALID_TXN_STATE says the partition was not added.
func verificationProduceError(err error) error {
	if errors.Is(err, kerr.InvalidTxnState) {
		return &wireError{code: kerr.InvalidTxnState, msg: "Partition was not added to the transaction"}
	}
	for _, retriable := range []*kerr.Error{kerr.NetworkException, kerr.CoordinatorLoadInProgress,
		kerr.CoordinatorNotAvailable, kerr.NotCoordinator, kerr.ConcurrentTransactions} {
		if errors.Is(err, retriable) {
			return &wireError{code: kerr.NotEnoughReplicas,
				msg: "Unable to verify the partition has been added to the transaction. Underlying error: " + retriable.Message}
		}
	}
	return err
}
