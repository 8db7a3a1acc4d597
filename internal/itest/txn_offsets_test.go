package itest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupOffsetSum waits until the sum of the committed offsets of a group
// on topic is want (the markers that apply transactional offsets are
// written after EndTxn answers) and returns the last sum seen.
func groupOffsetSum(t *testing.T, adm *kadm.Client, group, topic string, want int64) int64 {
	t.Helper()
	var sum int64
	deadline := time.Now().Add(10 * time.Second)
	eventually(t, waitLong, "offsets of "+group, func() error {
		resp, err := adm.FetchOffsets(testCtx(t, 10*time.Second), group)
		if err != nil {
			return err
		}
		if err := resp.Error(); err != nil {
			return err
		}
		sum = 0
		resp.Each(func(o kadm.OffsetResponse) {
			if o.Topic == topic && o.At > 0 {
				sum += o.At
			}
		})
		if sum != want && time.Now().Before(deadline) {
			return fmt.Errorf("offsets sum %d, want %d", sum, want)
		}
		return nil
	})
	return sum
}

// transactSession runs a consume-transform-produce session (franz-go's
// GroupTransactSession) from in to out: each poll is one transaction.
// It stops once done says so, or after one transaction when abort is set
// (that transaction is aborted). It returns the records it committed.
func transactSession(t *testing.T, seeds []string, txID, group, in, out string, abort bool, done func(committed int) bool) int {
	t.Helper()
	s, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(seeds...), kgo.ClientID("kbroker-itest"), kgo.RetryTimeout(waitLong),
		kgo.TransactionalID(txID), kgo.ConsumerGroup(group), kgo.ConsumeTopics(in),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.RequireStableFetchOffsets(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DefaultProduceTopic(out),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	committed := 0
	deadline := time.Now().Add(waitLong)
	for !done(committed) {
		if time.Now().After(deadline) {
			t.Fatalf("session %s: %d records committed before the deadline", txID, committed)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := s.PollFetches(ctx)
		cancel()
		var recs []*kgo.Record
		fs.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
		if len(recs) == 0 {
			continue
		}
		if err := s.Begin(); err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			s.Produce(testCtx(t, waitLong), &kgo.Record{Value: r.Value}, func(_ *kgo.Record, err error) {
				if err != nil && !abort {
					t.Errorf("produce: %v", err)
				}
			})
		}
		try := kgo.TryCommit
		if abort {
			try = kgo.TryAbort
		}
		ok, err := s.End(testCtx(t, waitLong), try)
		if err != nil {
			t.Fatalf("session %s: End: %v", txID, err)
		}
		if abort {
			return 0
		}
		if ok {
			committed += len(recs)
		}
	}
	return committed
}

// TestTxnOffsetsGroupTransactSession: consume-transform-produce with
// franz-go's GroupTransactSession; a second session resumes from the
// offsets the first committed in its transactions, an aborted
// transaction's offsets are never visible, and the output topic read with
// read_committed holds every input record exactly once. Then the wire:
// OffsetFetch require_stable answers UNSTABLE_OFFSET_COMMIT while a
// TxnOffsetCommit is pending, the offset after the COMMIT marker.
func TestTxnOffsetsGroupTransactSession(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"transaction.state.log.num.partitions": "3",
		"offsets.topic.num.partitions": "3", "group.initial.rebalance.delay.ms": "0"})
	adm := newAdmin(t, c)
	const in, out, group, n = "txo-in", "txo-out", "txo-group", 300
	createTopic(t, c, adm, in, 3, 3, nil)
	createTopic(t, c, adm, out, 3, 3, nil)
	seeds := c.BootstrapAddrs()
	want := produceN(t, seeds, in, "txo", n)

	first := transactSession(t, seeds, "txo-a", group, in, out, false, func(k int) bool { return k >= n/3 })
	if sum := groupOffsetSum(t, adm, group, in, int64(first)); sum != int64(first) {
		t.Fatalf("after the first session: offsets sum %d, %d records committed", sum, first)
	}
	transactSession(t, seeds, "txo-b", group, in, out, true, func(int) bool { return false })
	if sum := groupOffsetSum(t, adm, group, in, int64(first)); sum != int64(first) {
		t.Fatalf("after an aborted transaction: offsets sum %d, want %d", sum, first)
	}
	second := transactSession(t, seeds, "txo-a", group, in, out, false, func(k int) bool { return first+k >= n })
	if first+second != n {
		t.Fatalf("sessions committed %d + %d records, want %d", first, second, n)
	}
	if sum := groupOffsetSum(t, adm, group, in, n); sum != n {
		t.Fatalf("final offsets sum %d, want %d", sum, n)
	}

	cons := newClient(t, seeds, kgo.ConsumeTopics(out), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := map[string]int{}
	total := 0
	eventually(t, waitLong, "the output records", func() error {
		fs := cons.PollFetches(testCtx(t, 2*time.Second))
		fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)]++; total++ })
		if total < n {
			return fmt.Errorf("%d of %d records", total, n)
		}
		return nil
	})
	// Anything more would be a duplicate; give it a moment to show.
	fs := cons.PollFetches(testCtx(t, time.Second))
	fs.EachRecord(func(r *kgo.Record) { got[string(r.Value)]++; total++ })
	for v, k := range got {
		if !want[v] || k != 1 {
			t.Errorf("output record %q seen %d times (input: %v)", v, k, want[v])
		}
	}
	if len(got) != n {
		t.Fatalf("%d distinct output records, want %d", len(got), n)
	}

	// The wire: a pending transactional commit, then its COMMIT.
	const txID, wireGroup = "txo-wire", "txo-wire-group"
	coord := waitTxnCoordinator(t, c, seeds[0], txID, -1)
	p, code := txnInit(t, coord.Addr(), txID, 4)
	if code != 0 {
		t.Fatalf("InitProducerId: %v", kerr.ErrorForCode(code))
	}
	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.Version = 3
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = txID, p.pid, p.epoch, wireGroup
	var gc string
	eventually(t, waitLong, "AddOffsetsToTxn and the group coordinator", func() error {
		resp, err := oneRequest(coord.Addr(), add)
		if err != nil {
			return err
		}
		if ec := resp.(*kmsg.AddOffsetsToTxnResponse).ErrorCode; ec != 0 {
			return kerr.ErrorForCode(ec)
		}
		id, err := coordinatorOf(seeds[0], wireGroup)
		if err != nil {
			return err
		}
		gc = c.BrokerByID(id).Addr()
		return nil
	})
	commit := kmsg.NewPtrTxnOffsetCommitRequest()
	commit.Version = 3
	commit.TransactionalID, commit.Group, commit.ProducerID, commit.ProducerEpoch = txID, wireGroup, p.pid, p.epoch
	commit.Generation = -1
	ct := kmsg.NewTxnOffsetCommitRequestTopic()
	ct.Topic = in
	cp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	cp.Partition, cp.Offset, cp.LeaderEpoch = 1, 42, -1
	ct.Partitions = append(ct.Partitions, cp)
	cp2 := cp
	cp2.Partition = 7 // no such partition
	ct.Partitions = append(ct.Partitions, cp2)
	commit.Topics = append(commit.Topics, ct)
	eventually(t, waitLong, "TxnOffsetCommit", func() error {
		resp, err := oneRequest(gc, commit)
		if err != nil {
			return err
		}
		ps := resp.(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions
		if ps[1].ErrorCode != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("unknown partition: %v", kerr.ErrorForCode(ps[1].ErrorCode))
		}
		return kerr.ErrorForCode(ps[0].ErrorCode)
	})
	fetch := func(version int16, stable bool) (int64, int16) {
		t.Helper()
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version, req.RequireStable = version, stable
		if version >= 8 {
			g := kmsg.NewOffsetFetchRequestGroup()
			g.Group = wireGroup
			g.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: in, Partitions: []int32{1}}}
			req.Groups = append(req.Groups, g)
		} else {
			req.Group = wireGroup
			req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: in, Partitions: []int32{1}}}
		}
		resp, err := oneRequest(gc, req)
		if err != nil {
			t.Fatal(err)
		}
		r := resp.(*kmsg.OffsetFetchResponse)
		if version >= 8 {
			pp := r.Groups[0].Topics[0].Partitions[0]
			return pp.Offset, pp.ErrorCode
		}
		pp := r.Topics[0].Partitions[0]
		return pp.Offset, pp.ErrorCode
	}
	for _, v := range []int16{7, 8} {
		if off, ec := fetch(v, true); ec != kerr.UnstableOffsetCommit.Code || off != -1 {
			t.Fatalf("v%d require_stable while pending: offset %d, %v", v, off, kerr.ErrorForCode(ec))
		}
		if off, ec := fetch(v, false); ec != 0 || off != -1 {
			t.Fatalf("v%d while pending: offset %d, %v", v, off, kerr.ErrorForCode(ec))
		}
	}
	if ec := endTxn(t, coord.Addr(), p, 3, true); ec != 0 {
		t.Fatalf("EndTxn: %v", kerr.ErrorForCode(ec))
	}
	eventually(t, waitLong, "the committed offset", func() error {
		off, ec := fetch(8, true)
		if ec != 0 || off != 42 {
			return fmt.Errorf("offset %d, %v", off, kerr.ErrorForCode(ec))
		}
		return nil
	})

	// An aborted transaction's offset never shows.
	commit.Topics[0].Partitions = commit.Topics[0].Partitions[:1]
	commit.Topics[0].Partitions[0].Offset = 99
	eventually(t, waitLong, "the second transaction's offset commit", func() error {
		resp, err := oneRequest(coord.Addr(), add)
		if err != nil {
			return err
		}
		if ec := resp.(*kmsg.AddOffsetsToTxnResponse).ErrorCode; ec != 0 {
			return kerr.ErrorForCode(ec)
		}
		resp, err = oneRequest(gc, commit)
		if err != nil {
			return err
		}
		return kerr.ErrorForCode(resp.(*kmsg.TxnOffsetCommitResponse).Topics[0].Partitions[0].ErrorCode)
	})
	if off, ec := fetch(8, false); ec != 0 || off != 42 {
		t.Fatalf("second transaction pending: offset %d, %v", off, kerr.ErrorForCode(ec))
	}
	if ec := endTxn(t, coord.Addr(), p, 3, false); ec != 0 {
		t.Fatalf("EndTxn abort: %v", kerr.ErrorForCode(ec))
	}
	eventually(t, waitLong, "the aborted transaction ended", func() error {
		off, ec := fetch(8, true)
		if ec != 0 {
			return kerr.ErrorForCode(ec)
		}
		if off != 42 {
			t.Fatalf("offset %d after the abort, want 42", off)
		}
		return nil
	})
}
