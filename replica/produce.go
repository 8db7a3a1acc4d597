package replica

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
	"github.com/kbroker/kbroker/record"
)

// ProducePartition is one partition's records in a Produce request.
type ProducePartition struct {
	TP      model.TopicPartition
	Records []byte
	// Guard is the transaction verification the batch passed
	// (StartTxnVerification), partition.NoTxnGuard if none.
	Guard partition.TxnGuard
}

// ProduceResult is one partition's outcome.
type ProduceResult struct {
	TP             model.TopicPartition
	BaseOffset     int64
	LogAppendTime  int64
	LogStartOffset int64
	Err            error
}

// StartTxnVerification starts the verification of producer pid's first
// transactional batch on a partition this broker leads; see
// partition.StartTxnVerification.
func (m *Manager) StartTxnVerification(tp model.TopicPartition, pid int64, seq int32, epoch int16) (partition.TxnGuard, error) {
	p, err := m.leaderPartition(tp)
	if err != nil {
		return partition.NoTxnGuard, err
	}
	return p.StartTxnVerification(pid, seq, epoch)
}

// Produce appends to the partitions this broker leads. With acks=all
// (-1) it then waits until every partition that was appended has a high
// watermark past its batch, has lost leadership (NOT_LEADER_OR_FOLLOWER),
// or timeout passed (REQUEST_TIMED_OUT); a partition whose ISR fell below
// min.insync.replicas meanwhile answers NOT_ENOUGH_REPLICAS_AFTER_APPEND.
func (m *Manager) Produce(ctx context.Context, acks int16, timeout time.Duration, parts []ProducePartition, origin record.Origin) []ProduceResult {
	out := make([]ProduceResult, len(parts))
	type pending struct {
		i        int
		p        *partition.Partition
		required model.Offset
	}
	var waits []pending
	for i, pp := range parts {
		out[i] = ProduceResult{TP: pp.TP, BaseOffset: -1, LogAppendTime: -1, LogStartOffset: -1}
		p, err := m.leaderPartition(pp.TP)
		if err != nil {
			out[i].Err = err
			continue
		}
		minISR := 1
		if acks == -1 {
			minISR = m.opts.MinISR(pp.TP.Topic)
		}
		info, err := p.AppendAsLeader(pp.Records, acks, minISR, origin, pp.Guard)
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i].BaseOffset = int64(info.FirstOffset)
		out[i].LogAppendTime = info.LogAppendTime
		out[i].LogStartOffset = int64(info.LogStartOffset)
		if acks == -1 {
			waits = append(waits, pending{i, p, info.LastOffset + 1})
		}
	}
	if len(waits) == 0 {
		return out
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for _, w := range waits {
		for {
			ch := w.p.Changed()
			if w.p.Role() != partition.RoleLeader {
				out[w.i].Err = fmt.Errorf("leadership of %s moved while waiting for replication: %w", w.p.TopicPartition(), kerr.NotLeaderForPartition)
				break
			}
			if w.p.HighWatermark() >= w.required {
				if n := w.p.MaximalISRSize(); n < m.opts.MinISR(w.p.TopicPartition().Topic) {
					out[w.i].Err = fmt.Errorf("the ISR of %s shrank to %d after the append: %w", w.p.TopicPartition(), n, kerr.NotEnoughReplicasAfterAppend)
				}
				break
			}
			select {
			case <-ch:
				continue
			case <-deadline.C:
				for _, rest := range waits {
					if out[rest.i].Err == nil && rest.p.HighWatermark() < rest.required {
						out[rest.i].Err = fmt.Errorf("replication of %s did not complete in time: %w", rest.p.TopicPartition(), kerr.RequestTimedOut)
					}
				}
				return out
			case <-ctx.Done():
				out[w.i].Err = fmt.Errorf("%s: %w", ctx.Err(), kerr.RequestTimedOut)
				return out
			}
		}
	}
	return out
}
