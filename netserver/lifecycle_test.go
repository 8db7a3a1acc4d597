package netserver

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// goroutinesBackTo polls until the goroutine count drops to base.
func goroutinesBackTo(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, baseline %d:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCloseWaitsForEverything: Close with connections in every state (idle,
// handler blocked until cancelled, writer blocked on a client that does not
// read, half-read frame) returns only when every goroutine is gone.
func TestCloseWaitsForEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	var blocked, returned atomic.Int32
	var released atomic.Int32
	f, _ := writeTemp(t, "big.log", bytes.Repeat([]byte{7}, 8<<20))
	h := &fakeHandler{}
	h.setFn(func(ctx context.Context, req *Request) *Response {
		m := req.Msg.(*kmsg.MetadataRequest)
		switch {
		case len(m.Topics) == 1 && *m.Topics[0].Topic == "block":
			blocked.Add(1)
			<-ctx.Done()
			returned.Add(1)
			return &Response{Msg: m.ResponseKind()}
		case len(m.Topics) == 1 && *m.Topics[0].Topic == "big":
			// a large response the client never reads
			r := m.ResponseKind().(*kmsg.MetadataResponse)
			ph := NewPlaceholder()
			b := kmsg.NewMetadataResponseBroker()
			b.Rack = kmsg.StringPtr(string(ph)) // a nullable string: same prefix as bytes
			r.Brokers = append(r.Brokers, b)
			return &Response{Msg: r, Files: []FileData{{Placeholder: ph, File: f, Size: 8 << 20, Release: func() { released.Add(1) }}}}
		}
		return h.echo(req)
	})
	cfg := Config{
		Listeners: []ListenerConfig{{Name: "A", Host: "127.0.0.1"}, {Name: "B", Host: "127.0.0.1"}},
		Logger:    testLogger(t),
	}
	s := New(cfg, h)
	s.sendfilePolicy.Store(sendfileAlways)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	idle := dial(t, s, "A")
	checkMetadataEcho(t, idle.roundTrip(metadataReq(1, "x")), idle.corr, clientID, "x")
	blk := dial(t, s, "B")
	blk.send(metadataReq(1, "block"))
	noRead := dial(t, s, "A")
	for range 3 {
		noRead.send(metadataReq(9, "big"))
	}
	half := dial(t, s, "B")
	half.write([]byte{0, 0, 0, 50, 0, 3})
	waitFor(t, "the handler to block", func() bool { return blocked.Load() == 1 })
	waitFor(t, "the big responses to be handled", func() bool { return len(h.seen()) >= 5 })
	waitFor(t, "four open connections", func() bool { return s.Stats().Active == 4 })

	done := make(chan error)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if returned.Load() != 1 {
		t.Fatal("Close returned before the blocked handler")
	}
	if released.Load() != 3 {
		t.Fatalf("%d of 3 file ranges released", released.Load())
	}
	if st := s.Stats(); st.Active != 0 {
		t.Fatalf("Active = %d after Close", st.Active)
	}
	for _, c := range []*client{idle, blk, noRead, half} {
		_ = c.conn.Close()
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := net.Dial("tcp", s.Addr("A").String()); err == nil {
		t.Fatal("listener still accepting after Close")
	}
	goroutinesBackTo(t, base)
}

func TestStartErrors(t *testing.T) {
	base := runtime.NumGoroutine()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	h := &fakeHandler{}
	for _, tc := range []struct {
		name string
		ls   []ListenerConfig
		want string
	}{
		{"port in use", []ListenerConfig{{Name: "OK", Host: "127.0.0.1"}, {Name: "BUSY", Host: "127.0.0.1", Port: port}}, "BUSY"},
		{"duplicate name", []ListenerConfig{{Name: "X", Host: "127.0.0.1"}, {Name: "X", Host: "127.0.0.1"}}, "twice"},
		{"no name", []ListenerConfig{{Host: "127.0.0.1"}}, "name"},
	} {
		s := New(Config{Listeners: tc.ls, Logger: testLogger(t)}, h)
		err := s.Start()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Start = %v", tc.name, err)
		}
		if s.Addr("OK") != nil {
			t.Errorf("%s: a listener stayed bound", tc.name)
		}
		_ = s.Close()
	}
	s := New(Config{Listeners: []ListenerConfig{{Name: "L", Host: "127.0.0.1"}}, Logger: testLogger(t)}, h)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil {
		t.Fatal("second Start succeeded")
	}
	_ = s.Close()
	if err := s.Start(); err == nil {
		t.Fatal("Start after Close succeeded")
	}
	goroutinesBackTo(t, base)
}

// TestListenersAndConnInfo: each listener reports its name to the handler,
// and connection ids are distinct.
func TestListenersAndConnInfo(t *testing.T) {
	h := &fakeHandler{}
	s := startServer(t, h, func(c *Config) {
		c.Listeners = []ListenerConfig{{Name: "INTERNAL", Host: "127.0.0.1"}, {Name: "EXTERNAL", Host: "127.0.0.1"}}
	})
	ids := map[uint64]bool{}
	for _, l := range []string{"INTERNAL", "EXTERNAL", "INTERNAL"} {
		c := dial(t, s, l)
		c.roundTrip(metadataReq(1))
		reqs := h.seen()
		r := reqs[len(reqs)-1]
		if r.Conn.Listener != l || ids[r.Conn.ID] {
			t.Fatalf("conn %+v on %s", r.Conn, l)
		}
		ids[r.Conn.ID] = true
		if r.Conn.Remote.String() != c.conn.LocalAddr().String() || r.Conn.Local.String() != c.conn.RemoteAddr().String() {
			t.Fatalf("addresses %v %v", r.Conn.Local, r.Conn.Remote)
		}
	}
	if s.Addr("nope") != nil {
		t.Fatal("Addr of an unknown listener")
	}
	if st := s.Stats(); st.Accepted != 3 || st.Requests != 3 || st.BytesIn == 0 || st.BytesOut == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestConnState: Conn.State persists across the requests of a connection
// and is separate per connection.
func TestConnState(t *testing.T) {
	h := &fakeHandler{}
	h.setFn(func(ctx context.Context, req *Request) *Response {
		n, _ := req.Conn.State.(int)
		n++
		req.Conn.State = n
		r := h.echo(req)
		r.Msg.(*kmsg.MetadataResponse).ClusterID = kmsg.StringPtr(fmt.Sprint(n))
		return r
	})
	s := startServer(t, h, nil)
	a, b := dial(t, s, "PLAINTEXT"), dial(t, s, "PLAINTEXT")
	for i, c := range []*client{a, a, b, a} {
		want := []string{"1", "2", "1", "3"}[i]
		if got := c.roundTrip(metadataReq(2)).(*kmsg.MetadataResponse).ClusterID; *got != want {
			t.Fatalf("request %d: state %s want %s", i, *got, want)
		}
	}
}
