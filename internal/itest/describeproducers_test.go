package itest

// DescribeProducers (key 61) with real brokers: an idempotent franz-go
// producer writes to a replicated partition, then DescribeProducers over
// the wire lists it on the leader and, once replicated, on the follower
// (Kafka answers from any replica); kadm's DescribeProducers (which sends
// to the leader) agrees; a partition hosted elsewhere answers
// NOT_LEADER_OR_FOLLOWER and an unknown topic UNKNOWN_TOPIC_OR_PARTITION.

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

func describeProducersOn(t *testing.T, addr string, topic string, partitions ...int32) kmsg.DescribeProducersResponseTopic {
	t.Helper()
	req := kmsg.NewPtrDescribeProducersRequest()
	rt := kmsg.NewDescribeProducersRequestTopic()
	rt.Topic, rt.Partitions = topic, partitions
	req.Topics = append(req.Topics, rt)
	resp, err := oneRequest(addr, req)
	if err != nil {
		t.Fatal(err)
	}
	r := resp.(*kmsg.DescribeProducersResponse)
	if len(r.Topics) != 1 || r.Topics[0].Topic != topic || len(r.Topics[0].Partitions) != len(partitions) {
		t.Fatalf("DescribeProducers response %+v", r)
	}
	return r.Topics[0]
}

func TestDescribeProducers(t *testing.T) {
	c := newCluster(t, 2, nil)
	adm := newAdmin(t, c)
	const topic, single = "dp", "dp-single"
	createTopic(t, c, adm, topic, 1, 2, nil)
	createTopic(t, c, adm, single, 1, 1, nil)
	leaderID, err := leaderOf(c.Broker(0).Addr(), topic, 0)
	if err != nil {
		t.Fatal(err)
	}
	var leader, follower *testcluster.Broker
	for _, b := range c.Brokers() {
		if b.ID() == leaderID {
			leader = b
		} else {
			follower = b
		}
	}

	before := time.Now().UnixMilli()
	// newClient disables idempotence; this producer has it (franz-go's
	// default), so it gets a producer id and numbers its batches.
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...), kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RetryTimeout(waitLong))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t, waitLong)
	for i := range 3 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Partition: 0, Value: fmt.Appendf(nil, "v%d", i)}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	pid, epoch, err := cl.ProducerID(ctx)
	if err != nil || pid < 0 {
		t.Fatalf("no producer id: %d, %v", pid, err)
	}

	check := func(where string, p kmsg.DescribeProducersResponseTopicPartition) error {
		if p.ErrorCode != 0 {
			return fmt.Errorf("%s: %v", where, kerr.ErrorForCode(p.ErrorCode))
		}
		if len(p.ActiveProducers) != 1 {
			return fmt.Errorf("%s: producers %+v", where, p.ActiveProducers)
		}
		ap := p.ActiveProducers[0]
		if ap.ProducerID != pid || ap.ProducerEpoch != int32(epoch) || ap.LastSequence != 2 ||
			ap.LastTimestamp < before || ap.CoordinatorEpoch != -1 || ap.CurrentTxnStartOffset != -1 {
			return fmt.Errorf("%s: producer %+v, want id %d epoch %d last sequence 2", where, ap, pid, epoch)
		}
		return nil
	}
	if err := check("leader", describeProducersOn(t, leader.Addr(), topic, 0).Partitions[0]); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLong, "the follower's producer state", func() error {
		return check("follower", describeProducersOn(t, follower.Addr(), topic, 0).Partitions[0])
	})

	described, err := adm.DescribeProducers(ctx, kadm.TopicsSet{topic: {0: {}}})
	if err != nil {
		t.Fatal(err)
	}
	dp, ok := described[topic].Partitions[0]
	if !ok || dp.Err != nil || dp.Leader != leaderID || len(dp.ActiveProducers) != 1 || dp.ActiveProducers[pid].ProducerID != pid {
		t.Fatalf("kadm DescribeProducers: %+v (ok %v)", dp, ok)
	}

	singleLeader, err := leaderOf(c.Broker(0).Addr(), single, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range c.Brokers() {
		if b.ID() == singleLeader {
			continue
		}
		if p := describeProducersOn(t, b.Addr(), single, 0).Partitions[0]; p.ErrorCode != kerr.NotLeaderForPartition.Code {
			t.Fatalf("partition hosted elsewhere: %+v", p)
		}
	}
	if p := describeProducersOn(t, leader.Addr(), "no-such-topic", 0).Partitions[0]; p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: %+v", p)
	}
	if p := describeProducersOn(t, leader.Addr(), topic, 7).Partitions[0]; p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown partition: %+v", p)
	}
}
