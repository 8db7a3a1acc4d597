package itest

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// The znode texts of kafka-zk-spec.md §1.3 for Kafka 3.9 in ZooKeeper mode,
// compact, keys in the spec's order; %s/%d are the fields that vary.
const (
	// §1.3.1, v5; "rack" only when broker.rack is set. 3.x registers the
	// metadata.version feature: levels 1 (3.0-IV1) to 21 (3.9-IV0).
	specBrokerRack   = `{"version":5,"host":"%s","port":%d,"jmx_port":-1,"timestamp":"%s","endpoints":[%s],"listener_security_protocol_map":{%s},"rack":"%s","features":{"metadata.version":{"min_version":1,"max_version":21}}}`
	specBrokerNoRack = `{"version":5,"host":"%s","port":%d,"jmx_port":-1,"timestamp":"%s","endpoints":[%s],"listener_security_protocol_map":{%s},"features":{"metadata.version":{"min_version":1,"max_version":21}}}`
	// §1.3.3, 3.4+.
	specController = `{"version":2,"brokerid":%d,"timestamp":"%s","kraftControllerEpoch":-1}`
	// §1.3.2.
	specTopic = `{"version":3,"partitions":{%s},"adding_replicas":{},"removing_replicas":{},"topic_id":"%s"}`
	// §1.3.4 (leader_recovery_state only when 1).
	specPartitionState = `{"version":1,"leader":%d,"leader_epoch":%d,"controller_epoch":%d,"isr":[%s]}`
	// §1.3.11: the version is the string "1".
	specClusterID = `{"version":"1","id":"%s"}`
	// §1.3.10.
	specEntityConfig = `{"version":1,"config":{%s}}`
)

// The persistent paths every broker creates at start (§1.1).
var specTopLevelPaths = []string{
	"/consumers", "/brokers/ids", "/brokers/topics", "/config/changes", "/admin/delete_topics",
	"/brokers/seqid", "/isr_change_notification", "/latest_producer_id_block",
	"/log_dir_event_notification", "/config/topics", "/config/clients", "/config/users",
	"/config/brokers", "/config/ips",
}

var reTimestampField = regexp.MustCompile(`"timestamp":"([0-9]+)"`)

// timestampOf extracts the "timestamp" string of a znode and checks that it
// is a wall-clock time in ms between notBefore and now.
func timestampOf(t testing.TB, path string, data []byte, notBefore time.Time) string {
	t.Helper()
	m := reTimestampField.FindSubmatch(data)
	if m == nil {
		t.Errorf("%s: no string timestamp in %s", path, data)
		return "?"
	}
	ms, _ := strconv.ParseInt(string(m[1]), 10, 64)
	if ms < notBefore.UnixMilli() || ms > time.Now().UnixMilli() {
		t.Errorf("%s: timestamp %s outside [%d, now]", path, m[1], notBefore.UnixMilli())
	}
	return string(m[1])
}

func joinInts(v []int32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(int(x))
	}
	return strings.Join(s, ",")
}

// checkZnode reads p and compares its data byte for byte with want and its
// mode with ephemeral; it returns the stat.
func checkZnode(t testing.TB, c *testcluster.Cluster, p, want string, ephemeral bool) *zk.Stat {
	t.Helper()
	data, st, err := c.ZK().Get(p)
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return &zk.Stat{}
	}
	if string(data) != want {
		t.Errorf("%s:\n got %s\nwant %s", p, data, want)
	}
	if (st.EphemeralOwner != 0) != ephemeral {
		t.Errorf("%s: ephemeral=%v (owner %#x), want ephemeral=%v", p, st.EphemeralOwner != 0, st.EphemeralOwner, ephemeral)
	}
	return st
}

// checkRegistration compares /brokers/ids/<id> with the spec text for the
// broker's listeners and rack.
func checkRegistration(t testing.TB, c *testcluster.Cluster, b *testcluster.Broker, started time.Time) *zk.Stat {
	t.Helper()
	p := fmt.Sprintf("/brokers/ids/%d", b.ID())
	data, _, err := c.ZK().Get(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	ts := timestampOf(t, p, data, started)
	protocols := map[string]string{}
	for _, kv := range strings.Split(b.Props()["listener.security.protocol.map"], ",") {
		if k, v, ok := strings.Cut(kv, ":"); ok {
			protocols[k] = v
		}
	}
	var endpoints, protoMap []string
	host, port := "", -1
	for _, l := range b.Listeners() {
		proto := protocols[l.Name]
		if proto == "" {
			proto = l.Name
		}
		endpoints = append(endpoints, fmt.Sprintf(`"%s://%s:%d"`, l.Name, l.Host, l.Port))
		protoMap = append(protoMap, fmt.Sprintf(`"%s":"%s"`, l.Name, proto))
		if proto == "PLAINTEXT" && port < 0 {
			host, port = l.Host, l.Port
		}
	}
	var want string
	if rack := b.Props()["broker.rack"]; rack != "" {
		want = fmt.Sprintf(specBrokerRack, host, port, ts, strings.Join(endpoints, ","), strings.Join(protoMap, ","), rack)
	} else {
		want = fmt.Sprintf(specBrokerNoRack, host, port, ts, strings.Join(endpoints, ","), strings.Join(protoMap, ","))
	}
	st := checkZnode(t, c, p, want, true)
	// Registered with the multi [create null, setData json]: dataVersion 1.
	if st.Version != 1 {
		t.Errorf("%s: dataVersion %d, want 1", p, st.Version)
	}
	return st
}

func TestZnodes(t *testing.T) {
	started := time.Now()
	// Two listeners, the inter-broker one first (so host/port come from
	// it: the first PLAINTEXT-protocol endpoint), and a rack per broker.
	c := newCluster(t, 3, map[string]string{
		"listener.security.protocol.map": "INTERNAL:PLAINTEXT,PLAINTEXT:PLAINTEXT",
		"inter.broker.listener.name":     "INTERNAL",
	}, testcluster.PerBroker(func(i int, props map[string]string) {
		props["listeners"] = "INTERNAL://127.0.0.1:0," + props["listeners"]
		props["broker.rack"] = fmt.Sprintf("rack-%d", i)
	}))
	adm := newAdmin(t, c)
	ctrl := c.WaitForController()

	t.Run("TopLevel", func(t *testing.T) {
		for _, p := range specTopLevelPaths {
			checkZnode(t, c, p, "", false)
		}
	})

	owners := map[int32]int64{}
	t.Run("Brokers", func(t *testing.T) {
		ids, err := c.ZK().Children("/brokers/ids")
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"0", "1", "2"}) {
			t.Errorf("/brokers/ids children %v", ids)
		}
		for _, b := range c.Brokers() {
			st := checkRegistration(t, c, b, started)
			owners[b.ID()] = st.EphemeralOwner
		}
	})

	var clusterID string
	t.Run("ClusterID", func(t *testing.T) {
		data, _, err := c.ZK().Get("/cluster/id")
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(`"id":"([A-Za-z0-9_-]{22})"`).FindSubmatch(data)
		if m == nil {
			t.Fatalf("/cluster/id: %s", data)
		}
		clusterID = string(m[1])
		if b, err := base64.RawURLEncoding.DecodeString(clusterID); err != nil || len(b) != 16 {
			t.Errorf("cluster id %q is not 16 bytes in URL-safe base64: %v", clusterID, err)
		}
		checkZnode(t, c, "/cluster/id", fmt.Sprintf(specClusterID, clusterID), false)
		// Every log dir's meta.properties (§4.9, version 0) agrees.
		for _, b := range c.Brokers() {
			data, err := os.ReadFile(filepath.Join(b.LogDir(), "meta.properties"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			if len(lines) != 5 || lines[0] != "#" || !strings.HasPrefix(lines[1], "#") {
				t.Errorf("broker %d meta.properties:\n%s", b.ID(), data)
				continue
			}
			kv := slices.Sorted(slices.Values(lines[2:]))
			want := []string{"broker.id=" + strconv.Itoa(int(b.ID())), "cluster.id=" + clusterID, "version=0"}
			if !slices.Equal(kv, want) {
				t.Errorf("broker %d meta.properties entries %v, want %v", b.ID(), kv, want)
			}
		}
		// And clients see the same id.
		resp, err := oneRequest(c.Broker(0).Addr(), metadataRequest(12))
		if err != nil {
			t.Fatal(err)
		}
		if id := resp.(*kmsg.MetadataResponse).ClusterID; id == nil || *id != clusterID {
			t.Errorf("Metadata cluster id %v, ZooKeeper %s", id, clusterID)
		}
	})

	var epoch int32
	t.Run("Controller", func(t *testing.T) {
		data, st, err := c.ZK().Get("/controller")
		if err != nil {
			t.Fatal(err)
		}
		ts := timestampOf(t, "/controller", data, started)
		checkZnode(t, c, "/controller", fmt.Sprintf(specController, ctrl, ts), true)
		// The controller's znode belongs to the controller's session.
		if owners[ctrl] != 0 && st.EphemeralOwner != owners[ctrl] {
			t.Errorf("/controller owned by session %#x; broker %d registered with session %#x", st.EphemeralOwner, ctrl, owners[ctrl])
		}
		// /controller_epoch: decimal text; created at 0 and bumped by
		// each election with a versioned setData, so version = epoch.
		data, st, err = c.ZK().Get("/controller_epoch")
		if err != nil {
			t.Fatal(err)
		}
		if !reDecimal.Match(data) {
			t.Fatalf("/controller_epoch = %q", data)
		}
		e, _ := strconv.Atoi(string(data))
		epoch = int32(e)
		if epoch < 1 || st.Version != epoch {
			t.Errorf("/controller_epoch %d at version %d", epoch, st.Version)
		}
		checkZnode(t, c, "/controller_epoch", string(data), false)
	})

	t.Run("Topic", func(t *testing.T) {
		const topic = "zk-topic"
		resp := createTopic(t, c, adm, topic, 3, 3, map[string]*string{"retention.ms": kadm.StringPtr("3600000")})
		id := base64.RawURLEncoding.EncodeToString(resp.ID[:])
		mt, err := topicMetadataFrom(c.Broker(0).Addr(), topic)
		if err != nil {
			t.Fatal(err)
		}
		if mt.TopicID != resp.ID {
			t.Errorf("Metadata topic id %x, CreateTopics said %x", mt.TopicID, resp.ID)
		}
		var parts []string
		for _, p := range mt.Partitions {
			parts = append(parts, fmt.Sprintf(`"%d":[%s]`, p.Partition, joinInts(p.Replicas)))
			// Rack-aware: three racks, three replicas, all different.
			racks := map[string]bool{}
			for _, r := range p.Replicas {
				racks[c.BrokerByID(r).Props()["broker.rack"]] = true
			}
			if len(racks) != 3 {
				t.Errorf("partition %d replicas %v span racks %v", p.Partition, p.Replicas, racks)
			}
		}
		checkZnode(t, c, "/brokers/topics/"+topic, fmt.Sprintf(specTopic, strings.Join(parts, ","), id), false)
		checkZnode(t, c, "/brokers/topics/"+topic+"/partitions", "", false)
		children, _ := c.ZK().Children("/brokers/topics/" + topic + "/partitions")
		slices.Sort(children)
		if !slices.Equal(children, []string{"0", "1", "2"}) {
			t.Errorf("partitions children %v", children)
		}
		for _, p := range mt.Partitions {
			pp := fmt.Sprintf("/brokers/topics/%s/partitions/%d", topic, p.Partition)
			checkZnode(t, c, pp, "", false)
			// A new partition: leader = first replica, ISR = all (live)
			// replicas in assignment order, leader epoch 0, partition
			// epoch (zkVersion) 0, decided by the current controller.
			want := fmt.Sprintf(specPartitionState, p.Replicas[0], 0, epoch, joinInts(p.Replicas))
			st := checkZnode(t, c, pp+"/state", want, false)
			if st.Version != 0 {
				t.Errorf("%s/state: zkVersion %d, want 0", pp, st.Version)
			}
			if p.Leader != p.Replicas[0] || p.LeaderEpoch != 0 {
				t.Errorf("Metadata for partition %d: leader %d epoch %d", p.Partition, p.Leader, p.LeaderEpoch)
			}
		}
		checkZnode(t, c, "/config/topics/"+topic, fmt.Sprintf(specEntityConfig, `"retention.ms":"3600000"`), false)

		// No configs: an empty config object, written all the same.
		createTopic(t, c, adm, "zk-plain", 1, 2, nil)
		checkZnode(t, c, "/config/topics/zk-plain", fmt.Sprintf(specEntityConfig, ""), false)
	})

	// Per-listener metadata: a client on INTERNAL sees INTERNAL ports.
	t.Run("ListenerMetadata", func(t *testing.T) {
		for _, b := range c.Brokers() {
			resp, err := oneRequest(b.ListenerAddr("INTERNAL"), metadataRequest(12))
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, mb := range resp.(*kmsg.MetadataResponse).Brokers {
				rack := ""
				if mb.Rack != nil {
					rack = *mb.Rack
				}
				got = append(got, fmt.Sprintf("%d %s:%d %s", mb.NodeID, mb.Host, mb.Port, rack))
			}
			for _, ob := range c.Brokers() {
				want = append(want, fmt.Sprintf("%d %s %s", ob.ID(), ob.ListenerAddr("INTERNAL"), ob.Props()["broker.rack"]))
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("broker %d on INTERNAL lists %v, want %v", b.ID(), got, want)
			}
		}
	})
}
