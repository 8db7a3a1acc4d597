package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// kcat runs kcat with args and stdin; it fails the test when kcat is
// missing, exits non-zero or times out.
func kcat(t testing.TB, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatalf("kcat is not installed (Debian package kcat; scripts/test.sh installs it): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// kcatMetadata is kcat -L -J's output.
type kcatMetadata struct {
	Originating struct {
		ID   int32  `json:"id"`
		Name string `json:"name"`
	} `json:"originating_broker"`
	ControllerID int32 `json:"controllerid"`
	Brokers      []struct {
		ID   int32  `json:"id"`
		Name string `json:"name"`
	} `json:"brokers"`
	Topics []struct {
		Topic      string `json:"topic"`
		Err        string `json:"error"`
		Partitions []struct {
			Partition int32                `json:"partition"`
			Leader    int32                `json:"leader"`
			Err       string               `json:"error"`
			Replicas  []struct{ ID int32 } `json:"replicas"`
			ISRs      []struct{ ID int32 } `json:"isrs"`
		} `json:"partitions"`
	} `json:"topics"`
}

func TestKcat(t *testing.T) {
	c := newCluster(t, 3, nil)
	adm := newAdmin(t, c)
	createTopic(t, c, adm, "kcat-meta", 4, 3, nil)
	createTopic(t, c, adm, "kcat-rf2", 3, 2, nil)

	t.Run("List", func(t *testing.T) {
		ctrl := c.WaitForController()
		for _, b := range c.Brokers() {
			// -J: the same brokers, controller, topics and partition
			// states as ZooKeeper holds, from every broker.
			out, _ := kcat(t, "", "-b", b.Addr(), "-L", "-J")
			var md kcatMetadata
			if err := json.Unmarshal([]byte(out), &md); err != nil {
				t.Fatalf("kcat -L -J: %v\n%s", err, out)
			}
			if md.Originating.ID != b.ID() {
				t.Errorf("originating broker %d, asked broker %d", md.Originating.ID, b.ID())
			}
			if md.ControllerID != ctrl {
				t.Errorf("broker %d: controller %d, /controller says %d", b.ID(), md.ControllerID, ctrl)
			}
			var brokers []string
			for _, mb := range md.Brokers {
				brokers = append(brokers, fmt.Sprintf("%d=%s", mb.ID, mb.Name))
			}
			slices.Sort(brokers)
			var want []string
			for _, wb := range c.Brokers() {
				want = append(want, fmt.Sprintf("%d=%s", wb.ID(), wb.Addr()))
			}
			if !slices.Equal(brokers, want) {
				t.Errorf("broker %d lists brokers %v, want %v", b.ID(), brokers, want)
			}
			var topics []string
			for _, mt := range md.Topics {
				topics = append(topics, mt.Topic)
				if mt.Err != "" {
					t.Errorf("topic %s: error %s", mt.Topic, mt.Err)
				}
				assign := zkAssignment(t, c, mt.Topic)
				if len(mt.Partitions) != len(assign) {
					t.Errorf("topic %s: %d partitions, ZooKeeper has %d", mt.Topic, len(mt.Partitions), len(assign))
				}
				for _, p := range mt.Partitions {
					st := zkPartitionState(t, c, mt.Topic, p.Partition)
					var replicas, isr []int32
					for _, r := range p.Replicas {
						replicas = append(replicas, r.ID)
					}
					for _, r := range p.ISRs {
						isr = append(isr, r.ID)
					}
					if p.Err != "" || p.Leader != st.Leader || !slices.Equal(replicas, assign[p.Partition]) || !slices.Equal(isr, st.ISR) {
						t.Errorf("broker %d: %s/%d: leader %d replicas %v isr %v error %q; ZooKeeper: leader %d replicas %v isr %v",
							b.ID(), mt.Topic, p.Partition, p.Leader, replicas, isr, p.Err, st.Leader, assign[p.Partition], st.ISR)
					}
				}
			}
			slices.Sort(topics)
			if !slices.Equal(topics, []string{"kcat-meta", "kcat-rf2"}) {
				t.Errorf("broker %d lists topics %v", b.ID(), topics)
			}
		}
		// The human form: three brokers, the controller marked.
		out, _ := kcat(t, "", "-b", c.Bootstrap(), "-L", "-t", "kcat-meta")
		if !strings.Contains(out, " 3 brokers:\n") {
			t.Errorf("kcat -L:\n%s", out)
		}
		for _, b := range c.Brokers() {
			line := fmt.Sprintf("broker %d at %s", b.ID(), b.Addr())
			if b.ID() == ctrl {
				line += " (controller)"
			}
			if !strings.Contains(out, line+"\n") {
				t.Errorf("kcat -L lacks %q:\n%s", line, out)
			}
		}
		if !strings.Contains(out, `topic "kcat-meta" with 4 partitions:`) {
			t.Errorf("kcat -L:\n%s", out)
		}
	})

	// -P with keys (-K:) and a header, one partition per codec; -C -e
	// reads back exactly what was written, at offsets 0..n-1.
	codecs := []string{"none", "gzip", "snappy", "lz4", "zstd"}
	topic := "kcat-rt"
	createTopic(t, c, adm, topic, int32(len(codecs)), 3, nil)
	const lines = 30
	for p, codec := range codecs {
		t.Run("ProduceConsume/"+codec, func(t *testing.T) {
			var in, want strings.Builder
			for i := 0; i < lines; i++ {
				key := fmt.Sprintf("k-%s-%02d", codec, i)
				value := strings.Repeat(fmt.Sprintf("kcat %s line %d ", codec, i), 8)
				fmt.Fprintf(&in, "%s:%s\n", key, value)
				fmt.Fprintf(&want, "%d|%d|%s|%s|codec=%s\n", p, i, key, value, codec)
			}
			before := time.Now().UnixMilli()
			_, stderr := kcat(t, in.String(), "-b", c.Bootstrap(), "-P", "-t", topic, "-p", strconv.Itoa(p), "-K", ":",
				"-H", "codec="+codec, "-X", "compression.codec="+codec, "-X", "linger.ms=20")
			after := time.Now().UnixMilli()
			if strings.Contains(stderr, "ERROR") || strings.Contains(stderr, "failed") {
				t.Errorf("kcat -P stderr:\n%s", stderr)
			}
			out, _ := kcat(t, "", "-b", c.Bootstrap(), "-C", "-t", topic, "-p", strconv.Itoa(p), "-o", "beginning", "-e",
				"-f", "%p|%o|%k|%s|%h\n")
			if out != want.String() {
				t.Errorf("kcat -C read back:\n%s\nwant:\n%s", out, want.String())
			}
			ts, _ := kcat(t, "", "-b", c.Bootstrap(), "-C", "-t", topic, "-p", strconv.Itoa(p), "-o", "beginning", "-e", "-f", "%T\n")
			for _, f := range strings.Fields(ts) {
				v, err := strconv.ParseInt(f, 10, 64)
				if err != nil || v < before || v > after {
					t.Errorf("timestamp %s outside the produce window [%d, %d]", f, before, after)
					break
				}
			}
			// The batches are stored as librdkafka compressed them.
			// librdkafka enables a codec only when the broker's ApiVersions
			// ranges include the versions its feature table ties to it; for
			// LZ4 that is FindCoordinator v0, which arrives with consumer
			// groups (#4). Until then librdkafka sends lz4 uncompressed;
			// this expectation changes to lz4 when FindCoordinator is
			// advertised.
			wantCodec := uint8(p)
			if codec == "lz4" && !advertises(t, c, 10) {
				wantCodec = 0
			}
			got := consumeRange(t, c.BootstrapAddrs(), topic, map[int32]int64{int32(p): lines})
			for _, r := range got[int32(p)] {
				if r.Attrs.CompressionType() != wantCodec {
					// librdkafka enables a codec only when the broker's
					// ApiVersions ranges include the versions its feature
					// table ties to it (for LZ4: FindCoordinator v0).
					t.Errorf("offset %d stored with codec %d, want %d (kcat was asked for %s)",
						r.Offset, r.Attrs.CompressionType(), wantCodec, codec)
					break
				}
			}
		})
	}
}

// zkPartitionStateJSON is a partition state znode.
type zkPartitionStateJSON struct {
	Version         int     `json:"version"`
	Leader          int32   `json:"leader"`
	LeaderEpoch     int32   `json:"leader_epoch"`
	ControllerEpoch int32   `json:"controller_epoch"`
	ISR             []int32 `json:"isr"`
	ZkVersion       int32   `json:"-"`
}

func zkPartitionState(t testing.TB, c *testcluster.Cluster, topic string, p int32) zkPartitionStateJSON {
	t.Helper()
	var st zkPartitionStateJSON
	stat, err := c.ZK().GetJSON(fmt.Sprintf("/brokers/topics/%s/partitions/%d/state", topic, p), &st)
	if err != nil {
		t.Fatalf("partition state %s/%d: %v", topic, p, err)
	}
	st.ZkVersion = stat.Version
	return st
}

// zkTopic is /brokers/topics/<t>.
type zkTopic struct {
	Version    int                `json:"version"`
	Partitions map[string][]int32 `json:"partitions"`
	TopicID    string             `json:"topic_id"`
}

// zkAssignment is the replica assignment of a topic in ZooKeeper.
func zkAssignment(t testing.TB, c *testcluster.Cluster, topic string) map[int32][]int32 {
	t.Helper()
	var zt zkTopic
	if _, err := c.ZK().GetJSON("/brokers/topics/"+topic, &zt); err != nil {
		t.Fatalf("/brokers/topics/%s: %v", topic, err)
	}
	out := map[int32][]int32{}
	for k, v := range zt.Partitions {
		p, err := strconv.Atoi(k)
		if err != nil {
			t.Fatalf("/brokers/topics/%s: partition key %q", topic, k)
		}
		out[int32(p)] = v
	}
	return out
}

var reDecimal = regexp.MustCompile(`^[0-9]+$`)

// advertises reports whether the cluster's ApiVersions lists the key.
func advertises(t *testing.T, c *testcluster.Cluster, key int16) bool {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.BootstrapAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range resp.ApiKeys {
		if k.ApiKey == key {
			return true
		}
	}
	return false
}
