package netserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestInOrderResponses pipelines many requests on several connections at
// once, with a handler that takes a different time for each; every
// connection must get its responses in request order, and the handler must
// never run twice at once for one connection.
func TestInOrderResponses(t *testing.T) {
	var inFlight sync.Map // conn id -> *atomic.Int32
	var overlap atomic.Bool
	h := &fakeHandler{}
	h.fn = func(ctx context.Context, req *Request) *Response {
		v, _ := inFlight.LoadOrStore(req.Conn.ID, new(atomic.Int32))
		n := v.(*atomic.Int32)
		if n.Add(1) != 1 {
			overlap.Store(true)
		}
		defer n.Add(-1)
		// simulated work of varying length (not synchronisation)
		time.Sleep(time.Duration(rand.IntN(300)) * time.Microsecond)
		return h.echo(req)
	}
	s := startServer(t, h, nil)

	const conns, perConn = 4, 50
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := range conns {
		c := dial(t, s, "PLAINTEXT")
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqs := make([]*kmsg.MetadataRequest, perConn)
			// writer: pipeline everything without waiting
			go func() {
				for j := range perConn {
					reqs[j] = metadataReq(int16(j%13), fmt.Sprintf("t%d-%d", i, j))
				}
				for j := range perConn {
					b := frameRequest(reqs[j], int32(1000*i+j), &clientID)
					if _, err := c.conn.Write(b); err != nil {
						return
					}
				}
			}()
			for j := range perConn {
				f, err := c.readFrame()
				if err != nil {
					errs <- fmt.Errorf("conn %d response %d: %w", i, j, err)
					return
				}
				corr := int32(1000*i + j)
				req := metadataReq(int16(j%13), fmt.Sprintf("t%d-%d", i, j))
				resp := req.ResponseKind()
				resp.SetVersion(req.Version)
				body := f[4:]
				if resp.IsFlexible() {
					body = body[1:]
				}
				if got := int32(f[0])<<24 | int32(f[1])<<16 | int32(f[2])<<8 | int32(f[3]); got != corr {
					errs <- fmt.Errorf("conn %d: response %d has correlation id %d, want %d", i, j, got, corr)
					return
				}
				if err := resp.ReadFrom(body); err != nil {
					errs <- fmt.Errorf("conn %d response %d: %w", i, j, err)
					return
				}
				m := resp.(*kmsg.MetadataResponse)
				if len(m.Topics) != 1 || *m.Topics[0].Topic != fmt.Sprintf("t%d-%d", i, j) {
					errs <- fmt.Errorf("conn %d response %d: wrong topics", i, j)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if overlap.Load() {
		t.Fatal("the handler ran concurrently for one connection")
	}
}

// TestNoResponseKeepsOrder mixes acks=0 produces (no response) with
// metadata requests: only the metadata responses arrive, in order.
func TestNoResponseKeepsOrder(t *testing.T) {
	h := &fakeHandler{}
	s := startServer(t, h, nil)
	c := dial(t, s, "PLAINTEXT")
	var want []int32
	var sent []kmsg.Request
	for i := range 20 {
		if i%3 == 0 {
			p := kmsg.NewPtrProduceRequest()
			p.Version = 7
			p.Acks = 0
			c.send(p)
			continue
		}
		m := metadataReq(9, fmt.Sprint(i))
		want = append(want, c.send(m))
		sent = append(sent, m)
	}
	for k, corr := range want {
		f, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		resp := c.decode(f, sent[k], corr).(*kmsg.MetadataResponse)
		if *resp.Topics[0].Topic != *sent[k].(*kmsg.MetadataRequest).Topics[0].Topic {
			t.Fatalf("response %d for the wrong request", k)
		}
	}
	if n := len(h.seen()); n != 20 {
		t.Fatalf("handler saw %d requests, want 20", n)
	}
}

// TestResponseClose: a response with Close is written, then the
// connection closes; responses queued before it arrive first, and
// nothing sent after it is handled.
func TestResponseClose(t *testing.T) {
	h := &fakeHandler{}
	h.fn = func(ctx context.Context, req *Request) *Response {
		r := h.echo(req)
		if m := req.Msg.(*kmsg.MetadataRequest); len(m.Topics) == 1 && *m.Topics[0].Topic == "close" {
			r.Close = true
		}
		return r
	}
	s := startServer(t, h, nil)
	c := dial(t, s, "PLAINTEXT")
	a, b, d := metadataReq(4, "a"), metadataReq(4, "close"), metadataReq(4, "after")
	ca, cb := c.send(a), c.send(b)
	c.send(d)
	for _, x := range []struct {
		r    kmsg.Request
		corr int32
		name string
	}{{a, ca, "a"}, {b, cb, "close"}} {
		f, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		checkMetadataEcho(t, c.decode(f, x.r, x.corr), x.corr, clientID, x.name)
	}
	c.expectClosed()
	if n := len(h.seen()); n != 2 {
		t.Fatalf("handler saw %d requests, want 2", n)
	}
	// NoResponse + Close: nothing written, connection closed.
	h.setFn(func(ctx context.Context, req *Request) *Response { return &Response{NoResponse: true, Close: true} })
	c2 := dial(t, s, "PLAINTEXT")
	c2.send(metadataReq(1))
	c2.expectClosed()
	waitFor(t, "connections to be released", func() bool { return s.Stats().Active == 0 })
}
