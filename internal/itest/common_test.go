package itest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// Deadlines. They bound waits that normally end in milliseconds; they are
// generous because the brokers run with the race detector on two cores,
// possibly next to other test binaries or benchmarks.
const (
	waitLong  = 60 * time.Second
	pollEvery = 50 * time.Millisecond
)

func TestMain(m *testing.M) { os.Exit(testcluster.Main(m)) }

// testCtx is a context ending after d or at the end of the test.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// eventually calls f until it returns nil; after d it fails the test with
// f's last error.
func eventually(t testing.TB, d time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within %v: %v", what, d, err)
		}
		time.Sleep(pollEvery)
	}
}

// newCluster starts n brokers with the given extra properties. Topics
// are never auto-created unless a test asks for it, so a typo cannot hide
// behind an auto-created topic.
func newCluster(t *testing.T, n int, props map[string]string, opts ...testcluster.ClusterOption) *testcluster.Cluster {
	t.Helper()
	all := map[string]string{"auto.create.topics.enable": "false"}
	for k, v := range props {
		all[k] = v
	}
	c := testcluster.NewCluster(t, n, all, opts...)
	c.WaitForController()
	waitBrokersEverywhere(t, c)
	return c
}

// waitBrokersEverywhere waits until every running broker lists every
// running broker in its Metadata answer. A broker only learns of the
// others through the controller's UpdateMetadata, so right after start a
// CreateTopics with replication factor n can meet a broker that still
// knows fewer than n brokers and answer INVALID_REPLICATION_FACTOR, as
// Kafka does.
func waitBrokersEverywhere(t testing.TB, c *testcluster.Cluster) {
	t.Helper()
	want := 0
	for _, b := range c.Brokers() {
		if b.Running() {
			want++
		}
	}
	for _, b := range c.Brokers() {
		if !b.Running() {
			continue
		}
		eventually(t, waitLong, fmt.Sprintf("all brokers known to broker %d", b.ID()), func() error {
			req := kmsg.NewPtrMetadataRequest()
			req.Version = 12
			resp, err := oneRequest(b.Addr(), req)
			if err != nil {
				return err
			}
			if got := len(resp.(*kmsg.MetadataResponse).Brokers); got != want {
				return fmt.Errorf("%d brokers listed, want %d", got, want)
			}
			return nil
		})
	}
}

// newClient is a franz-go client on the given seeds, idempotence off
// (InitProducerId is not served yet), closed at the end of the test.
func newClient(t testing.TB, seeds []string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	all := append([]kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.DisableIdempotentWrite(),
		kgo.ClientID("kbroker-itest"),
		kgo.RetryTimeout(waitLong),
		kgo.ProduceRequestTimeout(30 * time.Second),
	}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// newAdmin is a kadm client on every broker of c.
func newAdmin(t testing.TB, c *testcluster.Cluster) *kadm.Client {
	t.Helper()
	adm := kadm.NewClient(newClient(t, c.BootstrapAddrs()))
	adm.SetTimeoutMillis(30000)
	return adm
}

// createTopic creates a topic through the controller and waits until every
// running broker of c reports a leader for each of its partitions.
func createTopic(t testing.TB, c *testcluster.Cluster, adm *kadm.Client, name string, partitions int32, rf int16, configs map[string]*string) kadm.CreateTopicResponse {
	t.Helper()
	ctx := testCtx(t, waitLong)
	resp, err := adm.CreateTopic(ctx, partitions, rf, configs, name)
	if err != nil {
		t.Fatalf("create topic %s: %v", name, err)
	}
	waitTopicEverywhere(t, c, name, int(partitions))
	return resp
}

// waitTopicEverywhere waits until every running broker answers Metadata
// for topic with n partitions, each with a live leader and no error.
func waitTopicEverywhere(t testing.TB, c *testcluster.Cluster, topic string, n int) {
	t.Helper()
	for _, b := range c.Brokers() {
		if !b.Running() {
			continue
		}
		eventually(t, waitLong, fmt.Sprintf("%s on broker %d", topic, b.ID()), func() error {
			mt, err := topicMetadataFrom(b.Addr(), topic)
			if err != nil {
				return err
			}
			if len(mt.Partitions) != n {
				return fmt.Errorf("%d partitions, want %d", len(mt.Partitions), n)
			}
			for _, p := range mt.Partitions {
				if p.ErrorCode != 0 || p.Leader < 0 {
					return fmt.Errorf("partition %d: leader %d error %v", p.Partition, p.Leader, kerr.ErrorForCode(p.ErrorCode))
				}
			}
			return nil
		})
	}
}

// topicMetadataFrom asks one broker (its own connection, Metadata v12)
// about one topic.
func topicMetadataFrom(addr, topic string) (kmsg.MetadataResponseTopic, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := oneRequest(addr, req)
	if err != nil {
		return kmsg.MetadataResponseTopic{}, err
	}
	m := resp.(*kmsg.MetadataResponse)
	if len(m.Topics) != 1 {
		return kmsg.MetadataResponseTopic{}, fmt.Errorf("%d topics in the answer", len(m.Topics))
	}
	mt := m.Topics[0]
	if mt.ErrorCode != 0 {
		return mt, fmt.Errorf("topic error %v", kerr.ErrorForCode(mt.ErrorCode))
	}
	sort.Slice(mt.Partitions, func(i, j int) bool { return mt.Partitions[i].Partition < mt.Partitions[j].Partition })
	return mt, nil
}

// leaderOf is the leader of topic-partition as broker addr sees it.
func leaderOf(addr, topic string, partition int32) (int32, error) {
	mt, err := topicMetadataFrom(addr, topic)
	if err != nil {
		return -1, err
	}
	for _, p := range mt.Partitions {
		if p.Partition == partition {
			return p.Leader, nil
		}
	}
	return -1, fmt.Errorf("no partition %d", partition)
}

// --- raw Kafka protocol over TCP ---

// wire is one raw client connection: requests are encoded by kmsg and
// written by hand, responses read frame by frame.
type wire struct {
	conn net.Conn
	corr int32
	fmt  *kmsg.RequestFormatter
}

func dialWire(addr string) (*wire, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	return &wire{conn: conn, corr: 100, fmt: kmsg.NewRequestFormatter(kmsg.FormatterClientID("kbroker-itest"))}, nil
}

// mustDial is dialWire failing the test; the connection is closed at the
// end of the test.
func mustDial(t testing.TB, addr string) *wire {
	t.Helper()
	w, err := dialWire(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.conn.Close() })
	return w
}

func (w *wire) Close() error { return w.conn.Close() }

// write writes b whole.
func (w *wire) write(b []byte) error {
	_ = w.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	_, err := w.conn.Write(b)
	return err
}

// send writes req at its version with the next correlation id.
func (w *wire) send(req kmsg.Request) (int32, error) {
	w.corr++
	return w.corr, w.write(w.fmt.AppendRequest(nil, req, w.corr))
}

// readFrame reads one size-prefixed frame (within 30 s).
func (w *wire) readFrame() ([]byte, error) {
	_ = w.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(w.conn, size[:]); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(size[:]))
	if n < 4 || n > 64<<20 {
		return nil, fmt.Errorf("response size %d", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(w.conn, body); err != nil {
		return nil, err
	}
	return body, nil
}

// roundTrip sends req and decodes its response (response header v0 for
// ApiVersions and for non-flexible versions, v1 otherwise).
func (w *wire) roundTrip(req kmsg.Request) (kmsg.Response, error) {
	corr, err := w.send(req)
	if err != nil {
		return nil, err
	}
	body, err := w.readFrame()
	if err != nil {
		return nil, err
	}
	return decodeResponse(req, corr, body)
}

func decodeResponse(req kmsg.Request, corr int32, body []byte) (kmsg.Response, error) {
	if got := int32(binary.BigEndian.Uint32(body)); got != corr {
		return nil, fmt.Errorf("correlation id %d, want %d", got, corr)
	}
	body = body[4:]
	resp := req.ResponseKind()
	if resp.IsFlexible() && req.Key() != 18 {
		if len(body) == 0 || body[0] != 0 {
			return nil, fmt.Errorf("response header tags % x", body[:min(len(body), 1)])
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding %s v%d response: %w", kmsg.NameForKey(req.Key()), req.GetVersion(), err)
	}
	return resp, nil
}

// oneRequest sends req on a fresh connection and returns the answer.
func oneRequest(addr string, req kmsg.Request) (kmsg.Response, error) {
	w, err := dialWire(addr)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	return w.roundTrip(req)
}

// errTimeout: readUntilClosed saw no close before its deadline.
var errTimeout = errors.New("connection still open")

// readUntilClosed reads until the broker closes the connection or d
// passes. It returns what was read and nil when the connection was closed
// (EOF or reset), errTimeout when it was not.
func (w *wire) readUntilClosed(d time.Duration) ([]byte, error) {
	_ = w.conn.SetReadDeadline(time.Now().Add(d))
	var got bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := w.conn.Read(buf)
		got.Write(buf[:n])
		switch {
		case err == nil:
			continue
		case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
			return got.Bytes(), nil
		case errors.Is(err, os.ErrDeadlineExceeded):
			return got.Bytes(), errTimeout
		default:
			return got.Bytes(), err
		}
	}
}

// --- records ---

// sentRecord is what a test produced and expects to read back.
type sentRecord struct {
	Partition int32
	Offset    int64
	Key       []byte // nil = null key
	Value     []byte // nil = null value
	Headers   []kgo.RecordHeader
	Timestamp time.Time
}

func (r sentRecord) String() string {
	var hs []string
	for _, h := range r.Headers {
		hs = append(hs, fmt.Sprintf("%s=%q", h.Key, h.Value))
	}
	return fmt.Sprintf("p%d@%d key=%q value=%.40q headers=[%s] ts=%d", r.Partition, r.Offset, r.Key, r.Value, strings.Join(hs, " "), r.Timestamp.UnixMilli())
}

// consumeRange reads, with a fresh kgo consumer, every record of the given
// partitions from offset 0 until each partition has delivered at least
// want[p] records, and returns them by partition in offset order.
func consumeRange(t testing.TB, seeds []string, topic string, want map[int32]int64, opts ...kgo.Opt) map[int32][]*kgo.Record {
	t.Helper()
	offsets := map[int32]kgo.Offset{}
	for p := range want {
		offsets[p] = kgo.NewOffset().At(0)
	}
	cl := newClient(t, seeds, append([]kgo.Opt{
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, opts...)...)
	defer cl.Close()
	got := map[int32][]*kgo.Record{}
	done := func() bool {
		for p, n := range want {
			if int64(len(got[p])) < n {
				return false
			}
		}
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLong)
	defer cancel()
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			counts := map[int32]int{}
			for p, rs := range got {
				counts[p] = len(rs)
			}
			t.Fatalf("consuming %s: got %v records per partition, want %v", topic, counts, want)
		}
		fs.EachError(func(tp string, p int32, err error) {
			t.Logf("fetch %s/%d: %v", tp, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) { got[r.Partition] = append(got[r.Partition], r) })
	}
	return got
}

// checkRecords compares what was consumed with what was sent, record by
// record (offset, key, value, headers, timestamp), and that nothing else
// is there.
func checkRecords(t testing.TB, sent []sentRecord, got map[int32][]*kgo.Record) {
	t.Helper()
	byPos := map[[2]int64]*kgo.Record{}
	total := 0
	for p, rs := range got {
		for _, r := range rs {
			if r.Partition != p {
				t.Errorf("record in partition %d listed under %d", r.Partition, p)
			}
			k := [2]int64{int64(r.Partition), r.Offset}
			if byPos[k] != nil {
				t.Errorf("offset %d of partition %d delivered twice", r.Offset, r.Partition)
			}
			byPos[k] = r
			total++
		}
	}
	for _, s := range sent {
		r := byPos[[2]int64{int64(s.Partition), s.Offset}]
		if r == nil {
			t.Errorf("missing %v", s)
			continue
		}
		if err := sameRecord(s, r); err != nil {
			t.Errorf("%v: %v", s, err)
		}
	}
	if total != len(sent) {
		t.Errorf("consumed %d records, sent %d", total, len(sent))
	}
}

func sameRecord(s sentRecord, r *kgo.Record) error {
	var errs []string
	if !bytes.Equal(s.Key, r.Key) || (s.Key == nil) != (r.Key == nil) {
		errs = append(errs, fmt.Sprintf("key %q (nil=%v), want %q (nil=%v)", r.Key, r.Key == nil, s.Key, s.Key == nil))
	}
	if !bytes.Equal(s.Value, r.Value) || (s.Value == nil) != (r.Value == nil) {
		errs = append(errs, fmt.Sprintf("value %.40q (nil=%v), want %.40q (nil=%v)", r.Value, r.Value == nil, s.Value, s.Value == nil))
	}
	if !slices.EqualFunc(s.Headers, r.Headers, func(a, b kgo.RecordHeader) bool {
		return a.Key == b.Key && bytes.Equal(a.Value, b.Value)
	}) {
		errs = append(errs, fmt.Sprintf("headers %v, want %v", r.Headers, s.Headers))
	}
	if !s.Timestamp.IsZero() && r.Timestamp.UnixMilli() != s.Timestamp.UnixMilli() {
		errs = append(errs, fmt.Sprintf("timestamp %d, want %d", r.Timestamp.UnixMilli(), s.Timestamp.UnixMilli()))
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

// countByPartition is the number of records per partition.
func countByPartition(sent []sentRecord) map[int32]int64 {
	out := map[int32]int64{}
	for _, s := range sent {
		out[s.Partition]++
	}
	return out
}

// metadataRequest asks for every topic at the given version (kmsg's
// zero Version would be v0).
func metadataRequest(version int16) *kmsg.MetadataRequest {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = version
	return req
}
