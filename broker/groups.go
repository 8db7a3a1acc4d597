package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/api"
	"github.com/kbroker/kbroker/group"
	"github.com/kbroker/kbroker/metacache"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/replica"
)

// newGroupCoordinator builds the group coordinator over the local
// __consumer_offsets replicas.
func (b *Broker) newGroupCoordinator() *group.Coordinator {
	ms := func(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
	cfg := group.Config{
		MinSessionTimeout:      ms(int64(b.cfg.GroupMinSessionTimeoutMs)),
		MaxSessionTimeout:      ms(int64(b.cfg.GroupMaxSessionTimeoutMs)),
		InitialRebalanceDelay:  ms(int64(b.cfg.GroupInitialRebalanceDelayMs)),
		MaxSize:                int(b.cfg.GroupMaxSize),
		OffsetMetadataMaxBytes: int(b.cfg.OffsetMetadataMaxBytes),
		OffsetsRetention:       time.Duration(b.cfg.OffsetsRetentionMinutes) * time.Minute,
		RetentionCheckInterval: ms(b.cfg.OffsetsRetentionCheckIntervalMs),
		CommitTimeout:          ms(int64(b.cfg.OffsetsCommitTimeoutMs)),
		PartitionCount:         offsetsPartitionCount(b.cache, b.cfg.OffsetsTopicNumPartitions),
		Logger:                 b.log,
	}
	return group.New(cfg, &offsetsLog{replicas: b.replicas, loadBuffer: int(b.cfg.OffsetsLoadBufferSize), verifier: b.verifier})
}

// offsetsPartitionCount is the partition count groups are placed by: the
// real count of __consumer_offsets once it exists, offsets.topic.num.partitions
// before (Kafka's getGroupMetadataTopicPartitionCount).
func offsetsPartitionCount(cache *metacache.Cache, configured int32) func() (int32, bool) {
	return func() (int32, bool) {
		if n := cache.NumPartitions(group.OffsetsTopic); n > 0 {
			return int32(n), true
		}
		return configured, configured > 0
	}
}

func (b *Broker) offsetsTopicSettings() api.OffsetsTopicSettings {
	return api.OffsetsTopicSettings{
		Partitions:        b.cfg.OffsetsTopicNumPartitions,
		ReplicationFactor: b.cfg.OffsetsTopicReplicationFactor,
		SegmentBytes:      b.cfg.OffsetsTopicSegmentBytes,
	}
}

// offsetsLog is group.Log over the replica manager: appends are produced
// with acks=all as the coordinator (Kafka's AppendOrigin.Coordinator), and
// loads read the local replica from its log start to its log end.
type offsetsLog struct {
	replicas   *replica.Manager
	loadBuffer int
	// verifier checks transactional commits with their coordinator; nil
	// when transaction verification is off.
	verifier *txnVerifier
}

func (l *offsetsLog) Append(ctx context.Context, p int32, entries []group.Entry) (int64, error) {
	spec := record.NewSpec()
	if offsetCommits(entries) {
		// Kafka's storeOffsets builds commit batches with base sequence 0
		// (and no producer id); group metadata and tombstones keep -1.
		spec.BaseSequence = 0
	}
	return l.append(ctx, p, spec, entries)
}

// offsetCommits reports whether every entry is an offset commit (key
// version 0 or 1) with a value, i.e. the batch is an OffsetCommit's.
func offsetCommits(entries []group.Entry) bool {
	for _, e := range entries {
		if len(e.Key) < 2 || e.Key[0] != 0 || e.Key[1] > 1 || e.Value == nil {
			return false
		}
	}
	return len(entries) > 0
}

// AppendTxn writes a transactional offset commit as Kafka's storeOffsets
// does: the producer's id and epoch, base sequence 0, transactional. With
// transaction verification on, a producer without an open transaction on
// the partition is first verified with its coordinator, as a transactional
// produce is (Kafka's handleTxnCommitOffsets: the partition must have been
// added by AddOffsetsToTxn).
func (l *offsetsLog) AppendTxn(ctx context.Context, p int32, transactionalID string, producerID int64, producerEpoch int16, entries []group.Entry) (int64, error) {
	spec := record.NewSpec()
	spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence, spec.Transactional = producerID, producerEpoch, 0, true
	guard := partition.NoTxnGuard
	if l.verifier != nil {
		tp := model.TopicPartition{Topic: group.OffsetsTopic, Partition: p}
		g, err := l.replicas.StartTxnVerification(tp, producerID, -1, producerEpoch)
		if err != nil {
			return 0, err
		}
		if g != partition.NoTxnGuard {
			if err := l.verifier.verify(ctx, transactionalID, producerID, producerEpoch, []model.TopicPartition{tp})[tp]; err != nil {
				return 0, err
			}
			guard = g
		}
	}
	return l.appendGuarded(ctx, p, spec, entries, guard)
}

func (l *offsetsLog) append(ctx context.Context, p int32, spec record.BatchSpec, entries []group.Entry) (int64, error) {
	return l.appendGuarded(ctx, p, spec, entries, partition.NoTxnGuard)
}

func (l *offsetsLog) appendGuarded(ctx context.Context, p int32, spec record.BatchSpec, entries []group.Entry, guard partition.TxnGuard) (int64, error) {
	now := time.Now().UnixMilli()
	recs := make([]record.NewRecord, len(entries))
	for i, e := range entries {
		recs[i] = record.NewRecord{Timestamp: now, Key: e.Key, Value: e.Value}
	}
	batch, err := record.Build(spec, recs)
	if err != nil {
		return 0, err
	}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	tp := model.TopicPartition{Topic: group.OffsetsTopic, Partition: p}
	res := l.replicas.Produce(ctx, -1, timeout, []replica.ProducePartition{{TP: tp, Records: batch, Guard: guard}}, record.FromCoordinator)
	return res[0].BaseOffset, res[0].Err
}

// Load reads data records with their batch's producer id and
// transactional attribute, and COMMIT/ABORT markers.
func (l *offsetsLog) Load(ctx context.Context, p int32, fn func(group.LogRecord) error) error {
	tp := model.TopicPartition{Topic: group.OffsetsTopic, Partition: p}
	return readLocalBatches(ctx, l.replicas, tp, l.loadBuffer, func(b record.Batch) error {
		it, err := b.Records()
		if err != nil {
			return err
		}
		defer it.Close()
		for it.Next() {
			r := it.Record()
			lr := group.LogRecord{Offset: b.BaseOffset() + int64(r.OffsetDelta), ProducerID: b.ProducerID(), Transactional: b.IsTransactional()}
			if b.IsControl() {
				_, typ, err := record.ParseControlKey(r.Key)
				if err != nil || (typ != record.ControlCommit && typ != record.ControlAbort) {
					continue
				}
				lr.Marker, lr.Commit = true, typ == record.ControlCommit
			} else {
				lr.Key, lr.Value = r.Key, r.Value
			}
			if err := fn(lr); err != nil {
				return err
			}
		}
		return it.Err()
	})
}

// txnMarkerWritten tells the group coordinator of a marker written to a
// __consumer_offsets partition (api.Deps.TxnMarkerWritten).
func (b *Broker) txnMarkerWritten(tp model.TopicPartition, producerID int64, commit bool) {
	if tp.Topic == group.OffsetsTopic && b.groups != nil {
		b.groups.CompleteTxn(tp.Partition, producerID, commit)
	}
}

// readLocal calls fn for every data record of a local replica from its log
// start to its log end (loading a coordinator's partition).
func readLocal(ctx context.Context, replicas *replica.Manager, tp model.TopicPartition, loadBuffer int, fn func(offset int64, key, value []byte) error) error {
	return readLocalBatches(ctx, replicas, tp, loadBuffer, func(b record.Batch) error { return eachRecord(b, fn) })
}

// readLocalBatches calls fn for every batch of a local replica from its
// log start to its log end.
func readLocalBatches(ctx context.Context, replicas *replica.Manager, tp model.TopicPartition, loadBuffer int, fn func(record.Batch) error) error {
	part, ok := replicas.Partition(tp)
	if !ok {
		return kerr.NotLeaderForPartition
	}
	log := part.Log()
	end := log.LogEndOffset()
	for off := log.LogStartOffset(); off < end; {
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := log.Read(off, loadBuffer, end, true)
		if err != nil {
			return fmt.Errorf("reading %s at %d: %w", tp, off, err)
		}
		if r.Range.Size == 0 || r.NextOffset <= off {
			return nil
		}
		buf := make([]byte, r.Range.Size)
		if _, err := r.Range.File.ReadAt(buf, r.Range.Position); err != nil {
			return fmt.Errorf("reading %s at %d: %w", tp, off, err)
		}
		batches, _, err := record.Split(buf)
		if err != nil {
			return fmt.Errorf("reading %s at %d: %w", tp, off, err)
		}
		for _, b := range batches {
			if err := fn(b); err != nil {
				return fmt.Errorf("reading %s batch at %d: %w", tp, b.BaseOffset(), err)
			}
		}
		off = r.NextOffset
	}
	return nil
}

// eachRecord calls fn for the data records of a batch (control batches
// carry transaction markers, not group records).
func eachRecord(b record.Batch, fn func(offset int64, key, value []byte) error) error {
	if b.IsControl() {
		return nil
	}
	it, err := b.Records()
	if err != nil {
		return err
	}
	defer it.Close()
	for it.Next() {
		r := it.Record()
		if err := fn(b.BaseOffset()+int64(r.OffsetDelta), r.Key, r.Value); err != nil {
			return err
		}
	}
	return it.Err()
}
