package itest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// errCode is the Kafka error code of err (0 for nil, -2 if not a Kafka error).
func errCode(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return -2
}

// absentInZK checks that a topic left no znode behind.
func absentInZK(t testing.TB, c *testcluster.Cluster, topic string) {
	t.Helper()
	for _, p := range []string{"/brokers/topics/" + topic, "/config/topics/" + topic, "/admin/delete_topics/" + topic} {
		if ok, _, err := c.ZK().Exists(p); err != nil || ok {
			t.Errorf("%s exists=%v (%v)", p, ok, err)
		}
	}
}

// unknownEverywhere checks that no broker knows the topic.
func unknownEverywhere(t testing.TB, c *testcluster.Cluster, topic string) {
	t.Helper()
	for _, b := range c.Brokers() {
		eventually(t, waitLong, fmt.Sprintf("broker %d forgets %s", b.ID(), topic), func() error {
			_, err := topicMetadataFrom(b.Addr(), topic)
			if err == nil {
				return errors.New("still listed")
			}
			if !strings.Contains(err.Error(), kerr.UnknownTopicOrPartition.Message) {
				return err
			}
			return nil
		})
	}
}

func configOf(rc kadm.ResourceConfig, key string) (kadm.Config, bool) {
	for _, c := range rc.Configs {
		if c.Key == key {
			return c, true
		}
	}
	return kadm.Config{}, false
}

func describeConfig(c kadm.Config) string {
	s := fmt.Sprintf("%s=%s (%v)", c.Key, c.MaybeValue(), c.Source)
	for _, syn := range c.Synonyms {
		v := "<nil>"
		if syn.Value != nil {
			v = *syn.Value
		}
		s += fmt.Sprintf(" [%s=%s %v]", syn.Key, v, syn.Source)
	}
	return s
}

func TestTopicLifecycle(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"log.segment.bytes": "536870912"})
	adm := newAdmin(t, c)
	cl := newClient(t, c.BootstrapAddrs())
	ctx := testCtx(t, 5*waitLong)

	t.Run("ValidateOnly", func(t *testing.T) {
		rs, err := adm.ValidateCreateTopics(ctx, 3, 2, map[string]*string{"retention.ms": kadm.StringPtr("1000")}, "lc-validate")
		if err != nil {
			t.Fatal(err)
		}
		r := rs["lc-validate"]
		if r.Err != nil || r.NumPartitions != 3 || r.ReplicationFactor != 2 {
			t.Errorf("validate-only: %+v", r)
		}
		absentInZK(t, c, "lc-validate")
		unknownEverywhere(t, c, "lc-validate")
	})

	createTopic(t, c, adm, "lc-exists", 1, 1, nil)
	t.Run("Rejected", func(t *testing.T) {
		for _, tc := range []struct {
			name       string
			topic      string
			partitions int32
			rf         int16
			configs    map[string]*string
			code       int16
		}{
			{"ReplicationFactorAboveBrokers", "lc-bad-rf", 1, 4, nil, kerr.InvalidReplicationFactor.Code},
			{"ZeroPartitions", "lc-bad-p", 0, 1, nil, kerr.InvalidPartitions.Code},
			{"UnknownConfig", "lc-bad-cfg", 1, 1, map[string]*string{"no.such.config": kadm.StringPtr("1")}, kerr.InvalidConfig.Code},
			{"BadConfigValue", "lc-bad-val", 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("soon")}, kerr.InvalidConfig.Code},
			{"BadName", "lc bad name!", 1, 1, nil, kerr.InvalidTopicException.Code},
			{"NameTooLong", strings.Repeat("x", 250), 1, 1, nil, kerr.InvalidTopicException.Code},
			{"Exists", "lc-exists", 1, 1, nil, kerr.TopicAlreadyExists.Code},
		} {
			t.Run(tc.name, func(t *testing.T) {
				for _, validate := range []bool{true, false} {
					var rs kadm.CreateTopicResponses
					var err error
					if validate {
						rs, err = adm.ValidateCreateTopics(ctx, tc.partitions, tc.rf, tc.configs, tc.topic)
					} else {
						rs, err = adm.CreateTopics(ctx, tc.partitions, tc.rf, tc.configs, tc.topic)
					}
					if err != nil {
						t.Fatal(err)
					}
					if got := errCode(rs[tc.topic].Err); got != tc.code {
						t.Errorf("validateOnly=%v: error %v (%d), want %d", validate, rs[tc.topic].Err, got, tc.code)
					}
				}
				if tc.name != "Exists" {
					absentInZK(t, c, tc.topic)
				}
			})
		}
	})

	t.Run("WithConfigs", func(t *testing.T) {
		configs := map[string]*string{
			"retention.ms":      kadm.StringPtr("3600000"),
			"cleanup.policy":    kadm.StringPtr("compact"),
			"max.message.bytes": kadm.StringPtr("2000000"),
		}
		r := createTopic(t, c, adm, "lc-configs", 2, 3, configs)
		// CreateTopics v5+ answers the new topic's configs.
		for key, want := range map[string]string{"retention.ms": "3600000", "segment.bytes": "536870912", "min.insync.replicas": "1"} {
			if got, ok := r.Configs[key]; !ok || got.MaybeValue() != want {
				t.Errorf("CreateTopics answer: %s = %q (present %v), want %q", key, got.MaybeValue(), ok, want)
			}
		}
		data, _, err := c.ZK().Get("/config/topics/lc-configs")
		if err != nil {
			t.Fatal(err)
		}
		var zc struct {
			Version int               `json:"version"`
			Config  map[string]string `json:"config"`
		}
		if err := json.Unmarshal(data, &zc); err != nil || zc.Version != 1 || len(zc.Config) != 3 ||
			zc.Config["retention.ms"] != "3600000" || zc.Config["cleanup.policy"] != "compact" || zc.Config["max.message.bytes"] != "2000000" {
			t.Errorf("/config/topics/lc-configs = %s (%v)", data, err)
		}
		if !strings.HasPrefix(string(data), `{"version":1,"config":{`) {
			t.Errorf("/config/topics/lc-configs = %s", data)
		}
	})

	t.Run("DescribeTopicConfigs", func(t *testing.T) {
		rcs, err := adm.DescribeTopicConfigs(ctx, "lc-configs")
		if err != nil {
			t.Fatal(err)
		}
		rc, err := rcs.On("lc-configs", nil)
		if err != nil || rc.Err != nil {
			t.Fatalf("%v %v", err, rc.Err)
		}
		for _, want := range []string{
			// Kafka lists broker synonyms from the first one named like the
			// primary (log.retention.ms, unset): log.retention.hours's
			// default is dropped.
			"retention.ms=3600000 (DYNAMIC_TOPIC_CONFIG) [retention.ms=3600000 DYNAMIC_TOPIC_CONFIG]",
			"cleanup.policy=compact (DYNAMIC_TOPIC_CONFIG) [cleanup.policy=compact DYNAMIC_TOPIC_CONFIG] [log.cleanup.policy=delete DEFAULT_CONFIG]",
			"segment.bytes=536870912 (STATIC_BROKER_CONFIG) [log.segment.bytes=536870912 STATIC_BROKER_CONFIG] [log.segment.bytes=1073741824 DEFAULT_CONFIG]",
			"min.insync.replicas=1 (DEFAULT_CONFIG) [min.insync.replicas=1 DEFAULT_CONFIG]",
		} {
			key := want[:strings.IndexByte(want, '=')]
			got, ok := configOf(rc, key)
			if !ok || describeConfig(got) != want {
				t.Errorf("topic config %s:\n got %s\nwant %s", key, describeConfig(got), want)
			}
		}
		rcs, err = adm.DescribeTopicConfigs(ctx, "lc-no-such-topic")
		if err != nil {
			t.Fatal(err)
		}
		if len(rcs) != 1 || errCode(rcs[0].Err) != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("unknown topic: %+v", rcs)
		}
	})

	t.Run("DescribeBrokerConfigs", func(t *testing.T) {
		for _, b := range c.Brokers() {
			rcs, err := adm.DescribeBrokerConfigs(ctx, b.ID())
			if err != nil {
				t.Fatal(err)
			}
			if len(rcs) != 1 || rcs[0].Err != nil || rcs[0].Name != strconv.Itoa(int(b.ID())) {
				t.Fatalf("broker %d: %+v", b.ID(), rcs)
			}
			for _, want := range []string{
				"log.segment.bytes=536870912 (STATIC_BROKER_CONFIG) [log.segment.bytes=536870912 STATIC_BROKER_CONFIG] [log.segment.bytes=1073741824 DEFAULT_CONFIG]",
				fmt.Sprintf("broker.id=%d (STATIC_BROKER_CONFIG) [broker.id=%d STATIC_BROKER_CONFIG] [broker.id=-1 DEFAULT_CONFIG]", b.ID(), b.ID()),
				"num.partitions=1 (DEFAULT_CONFIG) [num.partitions=1 DEFAULT_CONFIG]",
			} {
				key := want[:strings.IndexByte(want, '=')]
				got, ok := configOf(rcs[0], key)
				if !ok || describeConfig(got) != want {
					t.Errorf("broker %d config %s:\n got %s\nwant %s", b.ID(), key, describeConfig(got), want)
				}
			}
		}
	})

	t.Run("ExplicitAssignment", func(t *testing.T) {
		assignment := map[int32][]int32{0: {2, 1}, 1: {0, 2}, 2: {1, 0}}
		req := kmsg.NewPtrCreateTopicsRequest()
		req.TimeoutMillis = 30000
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "lc-assigned", -1, -1
		for p := int32(0); p < 3; p++ {
			a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
			a.Partition, a.Replicas = p, assignment[p]
			rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
		}
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl) // to the controller
		if err != nil {
			t.Fatal(err)
		}
		if tr := resp.Topics[0]; tr.ErrorCode != 0 || tr.NumPartitions != 3 || tr.ReplicationFactor != 2 {
			t.Fatalf("create with assignment: %+v %v", tr, kerr.ErrorForCode(tr.ErrorCode))
		}
		waitTopicEverywhere(t, c, "lc-assigned", 3)
		if got := zkAssignment(t, c, "lc-assigned"); fmt.Sprint(got) != fmt.Sprint(assignment) {
			t.Errorf("ZooKeeper assignment %v, want %v", got, assignment)
		}
		for p, replicas := range assignment {
			st := zkPartitionState(t, c, "lc-assigned", p)
			if st.Leader != replicas[0] || !slices.Equal(st.ISR, replicas) {
				t.Errorf("partition %d state %+v for replicas %v", p, st, replicas)
			}
		}

		// Invalid assignments.
		for _, bad := range []struct {
			name       string
			partitions int32
			rf         int16
			assign     map[int32][]int32
			code       int16
		}{
			{"DuplicateReplica", -1, -1, map[int32][]int32{0: {1, 1}}, kerr.InvalidReplicaAssignment.Code},
			{"UnevenReplicationFactor", -1, -1, map[int32][]int32{0: {0, 1}, 1: {2}}, kerr.InvalidReplicaAssignment.Code},
			{"NotFromZero", -1, -1, map[int32][]int32{1: {0, 1}, 2: {1, 2}}, kerr.InvalidReplicaAssignment.Code},
			{"BothCountAndAssignment", 2, -1, map[int32][]int32{0: {0}, 1: {1}}, kerr.InvalidRequest.Code},
		} {
			req := kmsg.NewPtrCreateTopicsRequest()
			req.TimeoutMillis = 30000
			rt := kmsg.NewCreateTopicsRequestTopic()
			rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "lc-bad-"+strings.ToLower(bad.name), bad.partitions, bad.rf
			for p, rs := range bad.assign {
				a := kmsg.NewCreateTopicsRequestTopicReplicaAssignment()
				a.Partition, a.Replicas = p, rs
				rt.ReplicaAssignment = append(rt.ReplicaAssignment, a)
			}
			req.Topics = append(req.Topics, rt)
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			if code := resp.Topics[0].ErrorCode; code != bad.code {
				t.Errorf("%s: error %v, want %v", bad.name, kerr.ErrorForCode(code), kerr.ErrorForCode(bad.code))
			}
			absentInZK(t, c, rt.Topic)
		}
	})

	t.Run("CreatePartitions", func(t *testing.T) {
		r := createTopic(t, c, adm, "lc-grow", 2, 2, nil)
		before := zkAssignment(t, c, "lc-grow")
		rs, err := adm.ValidateCreatePartitions(ctx, 1, "lc-grow")
		if err != nil || rs["lc-grow"].Err != nil {
			t.Fatalf("validate-only: %v %+v", err, rs)
		}
		if got := zkAssignment(t, c, "lc-grow"); len(got) != 2 {
			t.Fatalf("validate-only added partitions: %v", got)
		}
		rs, err = adm.CreatePartitions(ctx, 3, "lc-grow")
		if err != nil || rs["lc-grow"].Err != nil {
			t.Fatalf("%v %+v", err, rs)
		}
		waitTopicEverywhere(t, c, "lc-grow", 5)
		var zt zkTopic
		if _, err := c.ZK().GetJSON("/brokers/topics/lc-grow", &zt); err != nil {
			t.Fatal(err)
		}
		after := zkAssignment(t, c, "lc-grow")
		if len(after) != 5 || topicIDBytes(t, zt.TopicID) != [16]byte(r.ID) {
			t.Errorf("after CreatePartitions: %v, topic id %s (was %x)", after, zt.TopicID, r.ID)
		}
		for p, replicas := range before {
			if !slices.Equal(after[p], replicas) {
				t.Errorf("partition %d moved: %v → %v", p, replicas, after[p])
			}
		}
		for p := int32(2); p < 5; p++ {
			if len(after[p]) != 2 {
				t.Errorf("new partition %d replicas %v", p, after[p])
			}
		}
		// The new partitions take records.
		sent := produceTo(t, c.BootstrapAddrs(), "lc-grow", "grown", []int32{2, 3, 4}, 5)
		checkRecords(t, sent, consumeRange(t, c.BootstrapAddrs(), "lc-grow", countByPartition(sent)))

		rs, err = adm.UpdatePartitions(ctx, 3, "lc-grow")
		if err != nil || errCode(rs["lc-grow"].Err) != kerr.InvalidPartitions.Code {
			t.Errorf("shrinking: %v %+v", err, rs)
		}
		rs, err = adm.UpdatePartitions(ctx, 4, "lc-no-such-topic")
		if err != nil || errCode(rs["lc-no-such-topic"].Err) != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("unknown topic: %v %+v", err, rs)
		}
	})

	t.Run("DeleteTopics", func(t *testing.T) {
		r := createTopic(t, c, adm, "lc-delete", 3, 3, map[string]*string{"retention.ms": kadm.StringPtr("60000")})
		produceTo(t, c.BootstrapAddrs(), "lc-delete", "doomed", []int32{0, 1, 2}, 3)
		rs, err := adm.DeleteTopics(ctx, "lc-delete")
		if err != nil || rs["lc-delete"].Err != nil {
			t.Fatalf("%v %+v", err, rs)
		}
		unknownEverywhere(t, c, "lc-delete")
		eventually(t, waitLong, "lc-delete znodes removed", func() error {
			for _, p := range []string{"/brokers/topics/lc-delete", "/config/topics/lc-delete", "/admin/delete_topics/lc-delete"} {
				if ok, _, err := c.ZK().Exists(p); err != nil || ok {
					return fmt.Errorf("%s exists=%v %v", p, ok, err)
				}
			}
			return nil
		})
		// The partition directories are gone or renamed for deletion
		// (<topic>-<p>.<uuid>-delete).
		for _, b := range c.Brokers() {
			eventually(t, waitLong, fmt.Sprintf("broker %d partition directories", b.ID()), func() error {
				for p := 0; p < 3; p++ {
					if _, err := os.Stat(filepath.Join(b.LogDir(), fmt.Sprintf("lc-delete-%d", p))); err == nil {
						return fmt.Errorf("lc-delete-%d still there", p)
					}
				}
				return nil
			})
		}
		rs, err = adm.DeleteTopics(ctx, "lc-delete")
		if err != nil || errCode(rs["lc-delete"].Err) != kerr.UnknownTopicOrPartition.Code {
			t.Errorf("deleting again: %v %+v", err, rs)
		}
		// The name can be used again: a new topic id, no old records.
		r2 := createTopic(t, c, adm, "lc-delete", 1, 3, nil)
		if r2.ID == r.ID {
			t.Errorf("re-created topic kept id %x", r.ID)
		}
		if data, _, err := c.ZK().Get("/config/topics/lc-delete"); err != nil || string(data) != `{"version":1,"config":{}}` {
			t.Errorf("re-created topic's config %s (%v)", data, err)
		}
		sent := produceTo(t, c.BootstrapAddrs(), "lc-delete", "reborn", []int32{0}, 2)
		if sent[0].Offset != 0 {
			t.Errorf("first record of the re-created topic at offset %d", sent[0].Offset)
		}
	})

	t.Run("DescribeCluster", func(t *testing.T) {
		var cid struct {
			ID string `json:"id"`
		}
		if _, err := c.ZK().GetJSON("/cluster/id", &cid); err != nil {
			t.Fatal(err)
		}
		ctrl := c.WaitForController()
		var want []string
		for _, b := range c.Brokers() {
			want = append(want, fmt.Sprintf("%d %s", b.ID(), b.Addr()))
		}
		for _, b := range c.Brokers() {
			for _, v := range []int16{0, 1} {
				req := kmsg.NewPtrDescribeClusterRequest()
				req.Version = v
				resp, err := oneRequest(b.Addr(), req)
				if err != nil {
					t.Fatal(err)
				}
				r := resp.(*kmsg.DescribeClusterResponse)
				var got []string
				for _, rb := range r.Brokers {
					got = append(got, fmt.Sprintf("%d %s:%d", rb.NodeID, rb.Host, rb.Port))
				}
				slices.Sort(got)
				if r.ErrorCode != 0 || r.ClusterID != cid.ID || r.ControllerID != ctrl || !slices.Equal(got, want) {
					t.Errorf("broker %d, DescribeCluster v%d: error %d cluster %s controller %d brokers %v; want %s %d %v",
						b.ID(), v, r.ErrorCode, r.ClusterID, r.ControllerID, got, cid.ID, ctrl, want)
				}
			}
		}
	})

	// CreateTopics, DeleteTopics and CreatePartitions sent straight to a
	// broker that is not the controller: NOT_CONTROLLER, nothing done.
	t.Run("NotController", func(t *testing.T) {
		ctrl := c.WaitForController()
		var other *testcluster.Broker
		for _, b := range c.Brokers() {
			if b.ID() != ctrl {
				other = b
				break
			}
		}
		ct := kmsg.NewPtrCreateTopicsRequest()
		ct.Version, ct.TimeoutMillis = 7, 30000
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "lc-not-here", 1, 1
		ct.Topics = append(ct.Topics, rt)
		resp, err := oneRequest(other.Addr(), ct)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode; code != kerr.NotController.Code {
			t.Errorf("CreateTopics on broker %d (controller %d): %v", other.ID(), ctrl, kerr.ErrorForCode(code))
		}
		if ok, _, _ := c.ZK().Exists("/brokers/topics/lc-not-here"); ok {
			t.Errorf("lc-not-here was created")
		}

		dt := kmsg.NewPtrDeleteTopicsRequest()
		dt.Version, dt.TimeoutMillis = 6, 30000
		dtt := kmsg.NewDeleteTopicsRequestTopic()
		dtt.Topic = kmsg.StringPtr("lc-exists")
		dt.Topics = append(dt.Topics, dtt)
		resp, err = oneRequest(other.Addr(), dt)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.DeleteTopicsResponse).Topics[0].ErrorCode; code != kerr.NotController.Code {
			t.Errorf("DeleteTopics on broker %d: %v", other.ID(), kerr.ErrorForCode(code))
		}

		cp := kmsg.NewPtrCreatePartitionsRequest()
		cp.Version, cp.TimeoutMillis = 3, 30000
		cpt := kmsg.NewCreatePartitionsRequestTopic()
		cpt.Topic, cpt.Count = "lc-exists", 4
		cp.Topics = append(cp.Topics, cpt)
		resp, err = oneRequest(other.Addr(), cp)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.CreatePartitionsResponse).Topics[0].ErrorCode; code != kerr.NotController.Code {
			t.Errorf("CreatePartitions on broker %d: %v", other.ID(), kerr.ErrorForCode(code))
		}
		if got := zkAssignment(t, c, "lc-exists"); len(got) != 1 {
			t.Errorf("lc-exists now has %d partitions", len(got))
		}
		if _, err := topicMetadataFrom(other.Addr(), "lc-exists"); err != nil {
			t.Errorf("lc-exists after the refused delete: %v", err)
		}

		// The same CreateTopics on the controller works.
		resp, err = oneRequest(c.BrokerByID(ctrl).Addr(), ct)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.CreateTopicsResponse).Topics[0].ErrorCode; code != 0 {
			t.Errorf("CreateTopics on the controller: %v", kerr.ErrorForCode(code))
		}
	})
}
