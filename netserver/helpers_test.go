package netserver

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeHandler serves every key kmsg knows at [0, kmsg's max], with
// overrides, and delegates Handle to fn (or echo).
type fakeHandler struct {
	mu       sync.Mutex
	ranges   map[int16][2]int16 // overrides; {-1,-1} = not served
	fn       func(ctx context.Context, req *Request) *Response
	requests []*Request
}

func (h *fakeHandler) VersionRange(key int16) (int16, int16, bool) {
	h.mu.Lock()
	r, ok := h.ranges[key]
	h.mu.Unlock()
	if ok {
		return r[0], r[1], r[0] >= 0
	}
	req := kmsg.RequestForKey(key)
	if req == nil {
		return 0, 0, false
	}
	return 0, req.MaxVersion(), true
}

func (h *fakeHandler) Handle(ctx context.Context, req *Request) *Response {
	h.mu.Lock()
	h.requests = append(h.requests, req)
	fn := h.fn
	h.mu.Unlock()
	if fn != nil {
		return fn(ctx, req)
	}
	return h.echo(req)
}

func (h *fakeHandler) setFn(fn func(ctx context.Context, req *Request) *Response) {
	h.mu.Lock()
	h.fn = fn
	h.mu.Unlock()
}

func (h *fakeHandler) setRange(key, lo, hi int16) {
	h.mu.Lock()
	if h.ranges == nil {
		h.ranges = make(map[int16][2]int16)
	}
	h.ranges[key] = [2]int16{lo, hi}
	h.mu.Unlock()
}

func (h *fakeHandler) seen() []*Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]*Request(nil), h.requests...)
}

// echo answers with data taken from the request, so tests can see that the
// header and body were parsed.
func (h *fakeHandler) echo(req *Request) *Response {
	switch m := req.Msg.(type) {
	case *kmsg.ApiVersionsRequest:
		r := m.ResponseKind().(*kmsg.ApiVersionsResponse)
		for k := int16(0); k <= kmsg.MaxKey; k++ {
			if lo, hi, ok := h.VersionRange(k); ok {
				r.ApiKeys = append(r.ApiKeys, kmsg.ApiVersionsResponseApiKey{ApiKey: k, MinVersion: lo, MaxVersion: hi})
			}
		}
		return &Response{Msg: r}
	case *kmsg.MetadataRequest:
		r := m.ResponseKind().(*kmsg.MetadataResponse)
		b := kmsg.NewMetadataResponseBroker()
		b.NodeID = req.CorrelationID
		b.Host = "client:" + req.ClientID
		b.Port = int32(req.Conn.ID)
		r.Brokers = append(r.Brokers, b)
		for _, t := range m.Topics {
			rt := kmsg.NewMetadataResponseTopic()
			rt.Topic = t.Topic
			r.Topics = append(r.Topics, rt)
		}
		return &Response{Msg: r}
	case *kmsg.ProduceRequest:
		r := m.ResponseKind().(*kmsg.ProduceResponse)
		for _, t := range m.Topics {
			rt := kmsg.NewProduceResponseTopic()
			rt.Topic = t.Topic
			for _, p := range t.Partitions {
				rp := kmsg.NewProduceResponseTopicPartition()
				rp.Partition = p.Partition
				rp.BaseOffset = int64(len(p.Records))
				rt.Partitions = append(rt.Partitions, rp)
			}
			r.Topics = append(r.Topics, rt)
		}
		return &Response{Msg: r, NoResponse: m.Acks == 0}
	case *kmsg.ControlledShutdownRequest:
		r := m.ResponseKind().(*kmsg.ControlledShutdownResponse)
		r.ErrorCode = int16(m.BrokerID)
		return &Response{Msg: r}
	default:
		return &Response{Msg: req.Msg.ResponseKind()}
	}
}

func testLogger(t testing.TB) zerolog.Logger {
	if os.Getenv("NETSERVER_LOG") != "" {
		if _, fuzz := t.(*testing.F); fuzz {
			return zerolog.New(os.Stderr).Level(zerolog.DebugLevel).With().Timestamp().Logger()
		}
		return zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.DebugLevel)
	}
	return zerolog.Nop()
}

// startServer starts a server with one listener "PLAINTEXT" on loopback.
func startServer(t testing.TB, h Handler, tweak func(*Config)) *Server {
	t.Helper()
	cfg := Config{
		Listeners: []ListenerConfig{{Name: "PLAINTEXT", Host: "127.0.0.1"}},
		Logger:    testLogger(t),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	s := New(cfg, h)
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

type client struct {
	t    testing.TB
	conn net.Conn
	corr int32
}

func dial(t testing.TB, s *Server, listener string) *client {
	t.Helper()
	addr := s.Addr(listener)
	if addr == nil {
		t.Fatalf("no listener %q", listener)
	}
	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &client{t: t, conn: c}
}

var clientID = "test-client"

// frameRequest builds a request frame the way a client would.
func frameRequest(req kmsg.Request, corr int32, clientID *string) []byte {
	b := make([]byte, 4, 64)
	b = binary.BigEndian.AppendUint16(b, uint16(req.Key()))
	b = binary.BigEndian.AppendUint16(b, uint16(req.GetVersion()))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	if !(req.Key() == 7 && req.GetVersion() == 0) {
		if clientID == nil {
			b = binary.BigEndian.AppendUint16(b, 0xffff)
		} else {
			b = binary.BigEndian.AppendUint16(b, uint16(len(*clientID)))
			b = append(b, *clientID...)
		}
		if req.IsFlexible() {
			b = append(b, 0)
		}
	}
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func (c *client) write(b []byte) {
	c.t.Helper()
	_ = c.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// send writes a request with the next correlation id and returns that id.
func (c *client) send(req kmsg.Request) int32 {
	c.t.Helper()
	c.corr++
	c.write(frameRequest(req, c.corr, &clientID))
	return c.corr
}

// readFrame reads one response frame (without its size prefix).
func (c *client) readFrame() ([]byte, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var sz [4]byte
	if _, err := io.ReadFull(c.conn, sz[:]); err != nil {
		return nil, err
	}
	b := make([]byte, binary.BigEndian.Uint32(sz[:]))
	if _, err := io.ReadFull(c.conn, b); err != nil {
		return nil, err
	}
	return b, nil
}

// decode decodes a response frame for req, checking the correlation id.
func (c *client) decode(frame []byte, req kmsg.Request, corr int32) kmsg.Response {
	c.t.Helper()
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	if got := int32(binary.BigEndian.Uint32(frame)); got != corr {
		c.t.Fatalf("correlation id %d, want %d", got, corr)
	}
	body := frame[4:]
	if resp.IsFlexible() && resp.Key() != 18 {
		if body[0] != 0 {
			c.t.Fatalf("response header tag byte %#x, want 0", body[0])
		}
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		c.t.Fatalf("decode %T v%d: %v", resp, resp.GetVersion(), err)
	}
	return resp
}

// roundTrip sends req and decodes its response.
func (c *client) roundTrip(req kmsg.Request) kmsg.Response {
	c.t.Helper()
	corr := c.send(req)
	f, err := c.readFrame()
	if err != nil {
		c.t.Fatalf("read response to %T: %v", req, err)
	}
	return c.decode(f, req, corr)
}

// expectClosed waits until the server closes the connection: the next
// read returns EOF (or a reset) before the deadline, with no data.
func (c *client) expectClosed() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	n, err := c.conn.Read(b[:])
	if n != 0 {
		c.t.Fatalf("expected the connection to be closed, read a byte %#x", b[0])
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.t.Fatalf("connection still open after 10s")
	}
	if err == nil {
		c.t.Fatalf("expected the connection to be closed")
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func metadataReq(version int16, topics ...string) *kmsg.MetadataRequest {
	r := kmsg.NewPtrMetadataRequest()
	r.Version = version
	for _, tp := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(tp)
		r.Topics = append(r.Topics, rt)
	}
	return r
}

// checkMetadataEcho checks the echo handler's Metadata answer.
func checkMetadataEcho(t testing.TB, resp kmsg.Response, corr int32, wantClient string, topics ...string) {
	t.Helper()
	m := resp.(*kmsg.MetadataResponse)
	if len(m.Brokers) != 1 || m.Brokers[0].NodeID != corr || m.Brokers[0].Host != "client:"+wantClient {
		t.Fatalf("brokers %+v, want node %d host client:%s", m.Brokers, corr, wantClient)
	}
	if len(m.Topics) != len(topics) {
		t.Fatalf("topics %d, want %d", len(m.Topics), len(topics))
	}
	for i, tp := range topics {
		if m.Topics[i].Topic == nil || *m.Topics[i].Topic != tp {
			t.Fatalf("topic %d = %v, want %s", i, m.Topics[i].Topic, tp)
		}
	}
}
