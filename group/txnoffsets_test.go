package group

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func txnCommit(c *Coordinator, group string, pid int64, offs ...CommitOffset) []error {
	return c.CommitTxnOffsets(context.Background(), TxnCommitRequest{Group: group, TransactionalID: "tx",
		ProducerID: pid, ProducerEpoch: 1, Generation: -1, Offsets: offs})
}

func fetchOne(t *testing.T, c *Coordinator, group string, stable bool, p int32) FetchedOffset {
	t.Helper()
	got, err := c.FetchOffsets(group, stable, []TopicPartitions{{Topic: "t", Partitions: []int32{p}}})
	if err != nil || len(got) != 1 {
		t.Fatalf("fetch %s t-%d: %+v (%v)", group, p, got, err)
	}
	return got[0]
}

func TestTxnOffsetsCommitAbortAndStable(t *testing.T) {
	l := newMemLog()
	c := newTestCoordinator(t, l, testConfig())
	p := mustPartition(t, c, "g")

	if errs := c.CommitOffsets(context.Background(), CommitRequest{Group: "g", Generation: -1, RetentionMs: -1,
		Offsets: []CommitOffset{{Topic: "t", Partition: 0, Offset: 5, LeaderEpoch: -1, Timestamp: -1}}}); errs[0] != nil {
		t.Fatalf("plain commit: %v", errs)
	}
	errs := txnCommit(c, "g", 7,
		CommitOffset{Topic: "t", Partition: 0, Offset: 10, LeaderEpoch: 2, Metadata: "x", Timestamp: -1},
		CommitOffset{Topic: "t", Partition: 1, Offset: 1, LeaderEpoch: -1, Metadata: string(make([]byte, 5000)), Timestamp: -1})
	if errs[0] != nil || !errors.Is(errs[1], kerr.OffsetMetadataTooLarge) {
		t.Fatalf("txn commit: %v", errs)
	}
	// Pending: the committed offset stays; require_stable is unstable.
	if f := fetchOne(t, c, "g", false, 0); f.Offset != 5 || f.Err != nil {
		t.Fatalf("pending, not stable: %+v", f)
	}
	if f := fetchOne(t, c, "g", true, 0); f.Offset != -1 || !errors.Is(f.Err, kerr.UnstableOffsetCommit) {
		t.Fatalf("pending, stable: %+v", f)
	}
	if all, _ := c.FetchOffsets("g", true, nil); len(all) != 1 || !errors.Is(all[0].Err, kerr.UnstableOffsetCommit) {
		t.Fatalf("pending, all stable: %+v", all)
	}
	if f := fetchOne(t, c, "g", true, 1); f.Err != nil || f.Offset != -1 {
		t.Fatalf("partition without a pending commit: %+v", f)
	}
	// The batch is the producer's, transactional.
	recs := l.records(p)
	meta := l.meta[p]
	if len(recs) != 2 || !meta[1].transactional || meta[1].producerID != 7 {
		t.Fatalf("records %d, meta %+v", len(recs), meta)
	}

	// Another producer's abort changes nothing; this one's commit applies.
	c.CompleteTxn(p, 8, false)
	if f := fetchOne(t, c, "g", true, 0); !errors.Is(f.Err, kerr.UnstableOffsetCommit) {
		t.Fatalf("after another producer's marker: %+v", f)
	}
	l.marker(p, 7, true)
	c.CompleteTxn(p, 7, true)
	if f := fetchOne(t, c, "g", true, 0); f.Err != nil || f.Offset != 10 || f.Metadata != "x" || f.LeaderEpoch != 2 {
		t.Fatalf("after commit: %+v", f)
	}

	// An aborted transaction's offsets are dropped.
	if errs := txnCommit(c, "g", 7, CommitOffset{Topic: "t", Partition: 0, Offset: 20, LeaderEpoch: -1, Timestamp: -1}); errs[0] != nil {
		t.Fatalf("second txn commit: %v", errs)
	}
	l.marker(p, 7, false)
	c.CompleteTxn(p, 7, false)
	if f := fetchOne(t, c, "g", true, 0); f.Err != nil || f.Offset != 10 {
		t.Fatalf("after abort: %+v", f)
	}

	// A plain commit appended after the transactional one wins at commit.
	if errs := txnCommit(c, "g", 9, CommitOffset{Topic: "t", Partition: 0, Offset: 30, LeaderEpoch: -1, Timestamp: -1}); errs[0] != nil {
		t.Fatalf("third txn commit: %v", errs)
	}
	if errs := c.CommitOffsets(context.Background(), CommitRequest{Group: "g", Generation: -1, RetentionMs: -1,
		Offsets: []CommitOffset{{Topic: "t", Partition: 0, Offset: 40, LeaderEpoch: -1, Timestamp: -1}}}); errs[0] != nil {
		t.Fatalf("plain commit: %v", errs)
	}
	l.marker(p, 9, true)
	c.CompleteTxn(p, 9, true)
	if f := fetchOne(t, c, "g", true, 0); f.Err != nil || f.Offset != 40 {
		t.Fatalf("newer plain commit kept: %+v", f)
	}

	// A pending commit left open, then a reload: commit, abort, open.
	if errs := txnCommit(c, "g", 11, CommitOffset{Topic: "t", Partition: 2, Offset: 50, LeaderEpoch: -1, Timestamp: -1}); errs[0] != nil {
		t.Fatalf("open txn commit: %v", errs)
	}
	c2 := newTestCoordinator(t, l, testConfig())
	if f := fetchOne(t, c2, "g", true, 0); f.Err != nil || f.Offset != 40 {
		t.Fatalf("reloaded t-0: %+v", f)
	}
	if f := fetchOne(t, c2, "g", true, 2); !errors.Is(f.Err, kerr.UnstableOffsetCommit) {
		t.Fatalf("reloaded open t-2: %+v", f)
	}
	if f := fetchOne(t, c2, "g", false, 2); f.Offset != -1 || f.Err != nil {
		t.Fatalf("reloaded open t-2, not stable: %+v", f)
	}
	l.marker(p, 11, true)
	c2.CompleteTxn(p, 11, true)
	if f := fetchOne(t, c2, "g", true, 2); f.Err != nil || f.Offset != 50 {
		t.Fatalf("reloaded t-2 after commit: %+v", f)
	}
	c3 := newTestCoordinator(t, l, testConfig())
	for part, want := range map[int32]int64{0: 40, 1: -1, 2: 50} {
		if f := fetchOne(t, c3, "g", true, part); f.Err != nil || f.Offset != want {
			t.Fatalf("third load t-%d: %+v, want %d", part, f, want)
		}
	}
}

func TestTxnOffsetsLoadAbortedAndOrder(t *testing.T) {
	l := newMemLog()
	c := newTestCoordinator(t, l, testConfig())
	p := mustPartition(t, c, "g")
	// A transaction only in the log: pending, then aborted.
	if errs := txnCommit(c, "g", 3, CommitOffset{Topic: "t", Partition: 0, Offset: 7, LeaderEpoch: -1, Timestamp: -1}); errs[0] != nil {
		t.Fatalf("txn commit: %v", errs)
	}
	l.marker(p, 3, false)
	// A committed transaction followed by a plain commit of the same
	// partition: the plain one is later and stays.
	if errs := txnCommit(c, "g", 4, CommitOffset{Topic: "t", Partition: 1, Offset: 8, LeaderEpoch: -1, Timestamp: -1}); errs[0] != nil {
		t.Fatalf("txn commit: %v", errs)
	}
	if errs := c.CommitOffsets(context.Background(), CommitRequest{Group: "g", Generation: -1, RetentionMs: -1,
		Offsets: []CommitOffset{{Topic: "t", Partition: 1, Offset: 9, LeaderEpoch: -1, Timestamp: -1}}}); errs[0] != nil {
		t.Fatalf("plain commit: %v", errs)
	}
	l.marker(p, 4, true)
	c2 := newTestCoordinator(t, l, testConfig())
	if f := fetchOne(t, c2, "g", true, 0); f.Err != nil || f.Offset != -1 {
		t.Fatalf("aborted t-0: %+v", f)
	}
	if f := fetchOne(t, c2, "g", true, 1); f.Err != nil || f.Offset != 9 {
		t.Fatalf("t-1: %+v", f)
	}
}

func TestTxnOffsetsChecks(t *testing.T) {
	l := newMemLog()
	c := newTestCoordinator(t, l, testConfig())
	leader, _, gen := stableGroup(t, c, "g")
	req := func(member string, gen int32, inst *string) []error {
		return c.CommitTxnOffsets(context.Background(), TxnCommitRequest{Group: "g", ProducerID: 1, ProducerEpoch: 0,
			MemberID: member, Generation: gen, InstanceID: inst,
			Offsets: []CommitOffset{{Topic: "t", Partition: 0, Offset: 1, LeaderEpoch: -1, Timestamp: -1}}})
	}
	if errs := req("nobody", gen, nil); !errors.Is(errs[0], kerr.UnknownMemberID) {
		t.Fatalf("unknown member: %v", errs)
	}
	if errs := req(leader, gen+1, nil); !errors.Is(errs[0], kerr.IllegalGeneration) {
		t.Fatalf("wrong generation: %v", errs)
	}
	if errs := req(leader, gen, nil); errs[0] != nil {
		t.Fatalf("member commit: %v", errs)
	}
	// Without member fields anyone may commit, even to a Stable group.
	if errs := req("", -1, nil); errs[0] != nil {
		t.Fatalf("anonymous commit: %v", errs)
	}
	if errs := c.CommitTxnOffsets(context.Background(), TxnCommitRequest{Group: "", Generation: -1,
		Offsets: []CommitOffset{{Topic: "t"}}}); !errors.Is(errs[0], kerr.InvalidGroupID) {
		t.Fatalf("empty group: %v", errs)
	}
	l.fail = kerr.NotLeaderForPartition
	if errs := req(leader, gen, nil); !errors.Is(errs[0], kerr.NotCoordinator) {
		t.Fatalf("failed append: %v", errs)
	}
	l.fail = nil
	// As in Kafka, the failed commit replaced the producer's pending one
	// and is dropped with it.
	if f := fetchOne(t, c, "g", true, 0); f.Err != nil || f.Offset != -1 {
		t.Fatalf("after failed append: %+v", f)
	}
}
