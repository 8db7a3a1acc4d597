package itest

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestTopicsFromOutside covers the topic paths that do not go through
// CreateTopics: a /brokers/topics/<t> znode written by an external tool
// (as ZooKeeper-era scripts and `kafka-topics --zookeeper` did), partitions
// added by rewriting that znode, auto-creation through Metadata, and
// delete.topic.enable=false.
func TestTopicsFromOutside(t *testing.T) {
	c := newCluster(t, 3, map[string]string{
		"auto.create.topics.enable":  "true",
		"delete.topic.enable":        "false",
		"num.partitions":             "2",
		"default.replication.factor": "2",
	})
	ids := []int32{c.Broker(0).ID(), c.Broker(1).ID(), c.Broker(2).ID()}
	seeds := c.BootstrapAddrs()
	epoch, _, err := c.ControllerEpoch()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ZnodeWrittenByTool", func(t *testing.T) {
		const topic = "ext-tool"
		// Version 1, no topic id: what pre-2.8 tools wrote.
		old := fmt.Sprintf(`{"version":1,"partitions":{"0":[%d,%d],"1":[%d,%d]}}`, ids[1], ids[2], ids[2], ids[0])
		if err := c.ZK().Create("/brokers/topics/"+topic, []byte(old), false); err != nil {
			t.Fatal(err)
		}
		waitTopicEverywhere(t, c, topic, 2)

		// The controller gave it a topic id and rewrote the znode in
		// the current (v3) form.
		var zt zkTopic
		if _, err := c.ZK().GetJSON("/brokers/topics/"+topic, &zt); err != nil {
			t.Fatal(err)
		}
		id := topicIDBytes(t, zt.TopicID)
		if id == [16]byte{} {
			t.Fatalf("topic id %q", zt.TopicID)
		}
		assignment := fmt.Sprintf(`"0":[%d,%d],"1":[%d,%d]`, ids[1], ids[2], ids[2], ids[0])
		checkZnode(t, c, "/brokers/topics/"+topic, fmt.Sprintf(specTopic, assignment, zt.TopicID), false)
		mt, err := topicMetadataFrom(c.Broker(0).Addr(), topic)
		if err != nil {
			t.Fatal(err)
		}
		if mt.TopicID != id {
			t.Errorf("Metadata topic id %x, znode %x", mt.TopicID, id)
		}
		for _, p := range mt.Partitions {
			want := fmt.Sprintf(specPartitionState, p.Replicas[0], 0, epoch, joinInts(p.Replicas))
			checkZnode(t, c, fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, p.Partition), want, false)
			if p.Leader != p.Replicas[0] {
				t.Errorf("partition %d: leader %d, want the first replica %d", p.Partition, p.Leader, p.Replicas[0])
			}
		}

		// Usable: a record in and out of partition 1.
		cl := newClient(t, seeds, kgo.RecordPartitioner(kgo.ManualPartitioner()))
		r := &kgo.Record{Topic: topic, Partition: 1, Key: []byte("k"), Value: []byte("from outside")}
		if err := cl.ProduceSync(testCtx(t, waitLong), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		got := consumeRange(t, seeds, topic, map[int32]int64{1: 1})
		if len(got[1]) != 1 || string(got[1][0].Value) != "from outside" {
			t.Fatalf("consumed %v", got)
		}

		// A tool adds partition 2 by rewriting the znode.
		grown := fmt.Sprintf(specTopic, assignment+fmt.Sprintf(`,"2":[%d,%d]`, ids[0], ids[1]), zt.TopicID)
		if err := c.ZK().Set("/brokers/topics/"+topic, []byte(grown)); err != nil {
			t.Fatal(err)
		}
		waitTopicEverywhere(t, c, topic, 3)
		checkZnode(t, c, "/brokers/topics/"+topic+"/partitions/2/state",
			fmt.Sprintf(specPartitionState, ids[0], 0, epoch, joinInts([]int32{ids[0], ids[1]})), false)
	})

	t.Run("AutoCreate", func(t *testing.T) {
		const topic = "auto-made"
		// AllowAutoTopicCreation false: unknown, and nothing written.
		req := metadataRequest(12)
		req.AllowAutoTopicCreation = false
		req.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(topic)}}
		resp, err := oneRequest(seeds[1], req)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.MetadataResponse).Topics[0].ErrorCode; code != kerr.UnknownTopicOrPartition.Code {
			t.Fatalf("without auto-creation: %v", kerr.ErrorForCode(code))
		}
		if ok, _, err := c.ZK().Exists("/brokers/topics/" + topic); err != nil || ok {
			t.Fatalf("topic znode exists=%v (%v) after a Metadata request that did not allow creation", ok, err)
		}

		// Allowed: LEADER_NOT_AVAILABLE at once, then the topic with
		// num.partitions partitions of default.replication.factor.
		req.AllowAutoTopicCreation = true
		resp, err = oneRequest(seeds[1], req)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.MetadataResponse).Topics[0].ErrorCode; code != kerr.LeaderNotAvailable.Code {
			t.Fatalf("first Metadata with auto-creation: %v, want LEADER_NOT_AVAILABLE", kerr.ErrorForCode(code))
		}
		waitTopicEverywhere(t, c, topic, 2)
		for p, replicas := range zkAssignment(t, c, topic) {
			if len(replicas) != 2 {
				t.Errorf("partition %d replicas %v, want 2 (default.replication.factor)", p, replicas)
			}
		}
		checkZnode(t, c, "/config/topics/"+topic, fmt.Sprintf(specEntityConfig, ""), false)
	})

	t.Run("DeletionDisabled", func(t *testing.T) {
		const topic = "ext-tool"
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.Version = 6
		req.TimeoutMillis = 30000
		rt := kmsg.NewDeleteTopicsRequestTopic()
		rt.Topic = kmsg.StringPtr(topic)
		req.Topics = append(req.Topics, rt)
		ctrl := c.WaitForController()
		resp, err := oneRequest(c.BrokerByID(ctrl).Addr(), req)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode; code != kerr.TopicDeletionDisabled.Code {
			t.Fatalf("DeleteTopics: %v, want TOPIC_DELETION_DISABLED", kerr.ErrorForCode(code))
		}
		// A deletion request written by a tool is removed by the
		// controller and the topic stays.
		if err := c.ZK().Create("/admin/delete_topics/"+topic, nil, false); err != nil {
			t.Fatal(err)
		}
		eventually(t, waitLong, "deletion request removed", func() error {
			ok, _, err := c.ZK().Exists("/admin/delete_topics/" + topic)
			if err != nil || ok {
				return fmt.Errorf("still there (%v)", err)
			}
			return nil
		})
		waitTopicEverywhere(t, c, topic, 3)
		var zt zkTopic
		if _, err := c.ZK().GetJSON("/brokers/topics/"+topic, &zt); err != nil {
			t.Fatalf("topic znode after a refused deletion: %v", err)
		}
	})
}
