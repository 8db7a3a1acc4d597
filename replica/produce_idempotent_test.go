package replica

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/record"
)

func idempotentBatch(t *testing.T, pid int64, epoch int16, seq int32, values ...string) []byte {
	t.Helper()
	spec := record.NewSpec()
	spec.ProducerID, spec.ProducerEpoch, spec.BaseSequence = pid, epoch, seq
	var recs []record.NewRecord
	for _, v := range values {
		recs = append(recs, record.NewRecord{Timestamp: 1_700_000_000_000, Value: []byte(v)})
	}
	b, err := record.Build(spec, recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A retried idempotent batch is answered with the original base offset and
// no error, with acks=1 and acks=all, and is not written again; producer
// errors reach the result with their Kafka code.
func TestProduceDuplicateAnsweredWithOriginalOffset(t *testing.T) {
	m, _ := newManager(t, 1)
	if _, err := m.LeaderAndIsr(leaderAndIsr(1, -1, "t", 0, 1, 0, []int32{1}, []int32{1})); err != nil {
		t.Fatal(err)
	}
	if r := produce(m, 1, time.Second, batch(t, "plain")); r.Err != nil || r.BaseOffset != 0 {
		t.Fatalf("plain batch: %+v", r)
	}
	b := idempotentBatch(t, 4000, 0, 0, "a", "b")
	first := produce(m, -1, time.Second, append([]byte(nil), b...))
	if first.Err != nil || first.BaseOffset != 1 {
		t.Fatalf("first send: %+v", first)
	}
	p, _ := m.Partition(tp0)
	for _, acks := range []int16{1, -1} {
		r := produce(m, acks, time.Second, append([]byte(nil), b...))
		if r.Err != nil || r.BaseOffset != 1 || r.LogAppendTime != 1_700_000_000_000 {
			t.Fatalf("retry with acks=%d: %+v, want base offset 1, no error", acks, r)
		}
	}
	if leo := p.LogEndOffset(); leo != 3 {
		t.Fatalf("LEO %d after retries, want 3", leo)
	}
	if r := produce(m, 1, time.Second, idempotentBatch(t, 4000, 0, 5, "gap")); !errors.Is(r.Err, kerr.OutOfOrderSequenceNumber) || r.BaseOffset != -1 {
		t.Fatalf("sequence gap: %+v, want OUT_OF_ORDER_SEQUENCE_NUMBER", r)
	}
	if r := produce(m, 1, time.Second, idempotentBatch(t, 4000, 0, 2, "next")); r.Err != nil || r.BaseOffset != 3 {
		t.Fatalf("next batch: %+v", r)
	}
}
