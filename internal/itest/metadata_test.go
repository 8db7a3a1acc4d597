package itest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// metadataView is the part of a Metadata response that every broker must
// answer identically, in a canonical order.
type metadataView struct {
	ClusterID    string
	ControllerID int32
	Brokers      []string // "id host:port rack"
	Topics       []topicView
}

type topicView struct {
	Name       string
	ID         string
	Error      int16
	Internal   bool
	Partitions []partitionView
}

type partitionView struct {
	Partition   int32
	Error       int16
	Leader      int32
	LeaderEpoch int32
	Replicas    []int32
	ISR         []int32
	Offline     []int32
}

func viewOf(m *kmsg.MetadataResponse) metadataView {
	var v metadataView
	if m.ClusterID != nil {
		v.ClusterID = *m.ClusterID
	}
	v.ControllerID = m.ControllerID
	for _, b := range m.Brokers {
		rack := "-"
		if b.Rack != nil {
			rack = *b.Rack
		}
		v.Brokers = append(v.Brokers, fmt.Sprintf("%d %s:%d %s", b.NodeID, b.Host, b.Port, rack))
	}
	sort.Strings(v.Brokers)
	for _, t := range m.Topics {
		tv := topicView{Error: t.ErrorCode, Internal: t.IsInternal, ID: fmt.Sprintf("%x", t.TopicID)}
		if t.Topic != nil {
			tv.Name = *t.Topic
		}
		for _, p := range t.Partitions {
			pv := partitionView{
				Partition: p.Partition, Error: p.ErrorCode, Leader: p.Leader, LeaderEpoch: p.LeaderEpoch,
				Replicas: p.Replicas, ISR: p.ISR, Offline: p.OfflineReplicas,
			}
			if m.Version >= 5 && pv.Offline == nil {
				pv.Offline = []int32{}
			}
			tv.Partitions = append(tv.Partitions, pv)
		}
		sort.Slice(tv.Partitions, func(i, j int) bool { return tv.Partitions[i].Partition < tv.Partitions[j].Partition })
		v.Topics = append(v.Topics, tv)
	}
	sort.Slice(v.Topics, func(i, j int) bool { return v.Topics[i].Name < v.Topics[j].Name })
	return v
}

func (v metadataView) String() string {
	b, _ := json.Marshal(v)
	return string(b)
}

// zkView is what ZooKeeper says the metadata must be (every broker live).
func zkView(t testing.TB, c *testcluster.Cluster, topics []string) metadataView {
	t.Helper()
	var v metadataView
	var cid struct {
		ID string `json:"id"`
	}
	if _, err := c.ZK().GetJSON("/cluster/id", &cid); err != nil {
		t.Fatal(err)
	}
	v.ClusterID = cid.ID
	ctrl, ok, err := c.Controller()
	if err != nil || !ok {
		t.Fatalf("/controller: %v %v", ok, err)
	}
	v.ControllerID = ctrl
	for _, b := range c.Brokers() {
		if b.Running() {
			rack := "-"
			if r := b.Props()["broker.rack"]; r != "" {
				rack = r
			}
			v.Brokers = append(v.Brokers, fmt.Sprintf("%d %s %s", b.ID(), b.Addr(), rack))
		}
	}
	sort.Strings(v.Brokers)
	for _, name := range topics {
		var zt zkTopic
		if _, err := c.ZK().GetJSON("/brokers/topics/"+name, &zt); err != nil {
			t.Fatal(err)
		}
		tv := topicView{Name: name, ID: fmt.Sprintf("%x", topicIDBytes(t, zt.TopicID))}
		for p, replicas := range zkAssignment(t, c, name) {
			st := zkPartitionState(t, c, name, p)
			tv.Partitions = append(tv.Partitions, partitionView{
				Partition: p, Leader: st.Leader, LeaderEpoch: st.LeaderEpoch,
				Replicas: replicas, ISR: st.ISR, Offline: []int32{},
			})
		}
		sort.Slice(tv.Partitions, func(i, j int) bool { return tv.Partitions[i].Partition < tv.Partitions[j].Partition })
		v.Topics = append(v.Topics, tv)
	}
	sort.Slice(v.Topics, func(i, j int) bool { return v.Topics[i].Name < v.Topics[j].Name })
	return v
}

func TestMetadataEverywhere(t *testing.T) {
	c := newCluster(t, 3, nil, testcluster.PerBroker(func(i int, props map[string]string) {
		props["broker.rack"] = fmt.Sprintf("rack-%c", 'a'+i)
	}))
	adm := newAdmin(t, c)
	topics := []string{"meta-a", "meta-b", "meta-c"}
	createTopic(t, c, adm, topics[0], 5, 3, nil)
	createTopic(t, c, adm, topics[1], 3, 2, nil)
	createTopic(t, c, adm, topics[2], 1, 1, nil)

	cl := newClient(t, c.BootstrapAddrs())
	ctx := testCtx(t, 2*waitLong)
	// Learn the brokers, then ask each one on its own connection.
	if _, err := cl.Request(ctx, kmsg.NewPtrMetadataRequest()); err != nil {
		t.Fatal(err)
	}
	var want metadataView
	eventually(t, waitLong, "every broker's metadata equal to ZooKeeper's", func() error {
		want = zkView(t, c, topics)
		for _, b := range c.Brokers() {
			req := kmsg.NewPtrMetadataRequest() // all topics
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			resp, err := cl.Broker(int(b.ID())).Request(rctx, req)
			cancel()
			if err != nil {
				return fmt.Errorf("broker %d: %w", b.ID(), err)
			}
			got := viewOf(resp.(*kmsg.MetadataResponse))
			if got.String() != want.String() {
				return fmt.Errorf("broker %d (Metadata v%d) answers\n%v\nZooKeeper says\n%v", b.ID(), req.Version, got, want)
			}
		}
		return nil
	})

	// Older request versions, on raw connections, carry the fields they
	// have: v0 (no controller, cluster id or racks; an empty topic list
	// means all topics), v1 (controller, racks, null = all), v4, v7
	// (leader epochs), v9 (first flexible), v10 (topic ids), v12.
	for _, version := range []int16{0, 1, 4, 7, 9, 10, 12} {
		t.Run(fmt.Sprintf("v%d", version), func(t *testing.T) {
			exp := restrictView(want, version)
			for _, b := range c.Brokers() {
				req := kmsg.NewPtrMetadataRequest()
				req.Version = version
				if version == 0 {
					req.Topics = []kmsg.MetadataRequestTopic{}
				}
				resp, err := oneRequest(b.Addr(), req)
				if err != nil {
					t.Fatalf("broker %d: %v", b.ID(), err)
				}
				got := viewOf(resp.(*kmsg.MetadataResponse))
				if got.String() != exp.String() {
					t.Errorf("broker %d, Metadata v%d:\n%v\nwant\n%v", b.ID(), version, got, exp)
				}
			}
		})
	}

	// Asking for named topics, one unknown: the known ones as above, the
	// unknown one UNKNOWN_TOPIC_OR_PARTITION (auto-creation is off).
	t.Run("NamedTopics", func(t *testing.T) {
		for _, b := range c.Brokers() {
			req := kmsg.NewPtrMetadataRequest()
			req.Version = 12
			for _, name := range []string{"meta-b", "no-such-topic"} {
				rt := kmsg.NewMetadataRequestTopic()
				rt.Topic = kmsg.StringPtr(name)
				req.Topics = append(req.Topics, rt)
			}
			resp, err := oneRequest(b.Addr(), req)
			if err != nil {
				t.Fatal(err)
			}
			got := viewOf(resp.(*kmsg.MetadataResponse))
			if len(got.Topics) != 2 || got.Topics[1].Name != "no-such-topic" || got.Topics[1].Error != 3 ||
				fmt.Sprint(got.Topics[0]) != fmt.Sprint(want.Topics[1]) {
				t.Errorf("broker %d: %v", b.ID(), got)
			}
		}
	})

	// A client that only knows the oldest Metadata still works (franz-go
	// pinned to Kafka 0.11's versions).
	t.Run("OldClient", func(t *testing.T) {
		old := newClient(t, c.BootstrapAddrs(), kgo.MaxVersions(kversion.V0_11_0()))
		resp, err := old.Request(testCtx(t, waitLong), kmsg.NewPtrMetadataRequest())
		if err != nil {
			t.Fatal(err)
		}
		got := viewOf(resp.(*kmsg.MetadataResponse))
		if got.String() != restrictView(want, 4).String() {
			t.Errorf("Metadata v4 via franz-go:\n%v\nwant\n%v", got, restrictView(want, 4))
		}
	})
}

// restrictView removes what Metadata version v cannot carry.
func restrictView(v metadataView, version int16) metadataView {
	out := v
	out.Brokers = nil
	for _, b := range v.Brokers {
		if version < 1 {
			b = b[:strings.LastIndexByte(b, ' ')] + " -"
		}
		out.Brokers = append(out.Brokers, b)
	}
	if version < 2 {
		out.ClusterID = ""
	}
	if version < 1 {
		out.ControllerID = -1
	}
	out.Topics = nil
	for _, t := range v.Topics {
		if version < 10 {
			t.ID = fmt.Sprintf("%x", [16]byte{})
		}
		var ps []partitionView
		for _, p := range t.Partitions {
			if version < 7 {
				p.LeaderEpoch = -1
			}
			if version < 5 {
				p.Offline = nil
			}
			ps = append(ps, p)
		}
		t.Partitions = ps
		out.Topics = append(out.Topics, t)
	}
	return out
}

// topicIDBytes decodes a topic id as ZooKeeper stores it (URL-safe base64
// without padding, 22 characters).
func topicIDBytes(t testing.TB, s string) [16]byte {
	t.Helper()
	var id [16]byte
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 || len(s) != 22 {
		t.Fatalf("topic id %q: %d bytes, %v", s, len(b), err)
	}
	copy(id[:], b)
	return id
}
