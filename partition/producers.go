package partition

// ActiveProducer is what DescribeProducers reports of one producer on the
// partition (Kafka's UnifiedLog.activeProducers).
type ActiveProducer struct {
	ProducerID    int64
	ProducerEpoch int16
	// LastSequence is the last sequence of the newest retained batch, -1
	// when the producer has none (only markers).
	LastSequence  int32
	LastTimestamp int64
	// CoordinatorEpoch is that of the coordinator that wrote the
	// producer's last marker, -1 if none.
	CoordinatorEpoch int32
	// CurrentTxnStartOffset is the first offset of the open transaction,
	// -1 when none is open.
	CurrentTxnStartOffset int64
}

// ActiveProducers lists the producers of the local log (read under the log
// lock), in the order Kafka's producer map iterates them. As in Kafka's
// Partition.activeProducerState, any replica with a log answers, leader or
// follower: the admin client picks the broker.
func (p *Partition) ActiveProducers() []ActiveProducer {
	entries := p.log.ActiveProducers()
	out := make([]ActiveProducer, 0, len(entries))
	for _, e := range entries {
		out = append(out, ActiveProducer{
			ProducerID:            e.ProducerID,
			ProducerEpoch:         e.Epoch,
			LastSequence:          e.LastSeq(),
			LastTimestamp:         e.LastTimestamp,
			CoordinatorEpoch:      e.CoordinatorEpoch,
			CurrentTxnStartOffset: e.CurrentTxnFirstOffset,
		})
	}
	return out
}
