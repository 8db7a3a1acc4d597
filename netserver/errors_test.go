package netserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// header builds a raw request header (header v1) without a size prefix.
func header(key, version int16, corr int32, client string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, uint16(len(client)))
	return append(b, client...)
}

func sized(body []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(body))), body...)
}

// TestBadRequestsCloseOnlyThatConnection sends, on a fresh connection
// each, something the server must reject by closing; a connection opened
// before keeps working, and so does a new one.
func TestBadRequestsCloseOnlyThatConnection(t *testing.T) {
	h := &fakeHandler{}
	h.setRange(3, 0, 12)   // Metadata up to v12
	h.setRange(0, 3, 9)    // Produce from v3
	h.setRange(60, -1, -1) // DescribeCluster not served
	s := startServer(t, h, func(c *Config) { c.MaxRequestSize = 4096 })
	bystander := dial(t, s, "PLAINTEXT")
	checkMetadataEcho(t, bystander.roundTrip(metadataReq(5, "x")), bystander.corr, clientID, "x")

	m13 := metadataReq(13, "t")
	p2 := kmsg.NewPtrProduceRequest()
	p2.Version = 2
	dc := kmsg.NewPtrDescribeClusterRequest()
	truncatedBody := append(header(3, 1, 1, "c"), 0, 0, 0, 5) // 5 topics, none present
	flexTagsTruncated := append(header(3, 12, 1, "c"), 3, 0)  // 3 header tags, one byte left
	cases := []struct {
		name  string
		bytes []byte
		half  bool // close the client's write side after sending
	}{
		{"unknown key", sized(header(1000, 0, 1, "c")), false},
		{"key not served", frameRequest(dc, 1, &clientID), false},
		{"version too new", frameRequest(m13, 1, &clientID), false},
		{"version too old", frameRequest(p2, 1, &clientID), false},
		{"truncated body", sized(truncatedBody), false},
		{"truncated header tags", sized(flexTagsTruncated), false},
		{"garbage", sized([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")), false},
		{"http", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), false},
		{"short header", sized([]byte{0, 3, 0, 1, 0}), false},
		{"empty frame", sized(nil), false},
		{"oversized", binary.BigEndian.AppendUint32(nil, 4097), false},
		{"negative size", []byte{0xff, 0xff, 0xff, 0xfe}, false},
		{"truncated frame", append(binary.BigEndian.AppendUint32(nil, 100), make([]byte, 10)...), true},
		{"truncated size", []byte{0, 0}, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Stats().ProtocolErrors
			c := dial(t, s, "PLAINTEXT")
			c.write(tc.bytes)
			if tc.half {
				_ = c.conn.(*net.TCPConn).CloseWrite()
			}
			c.expectClosed()
			waitFor(t, "the protocol error to be counted", func() bool { return s.Stats().ProtocolErrors == before+1 })
			checkMetadataEcho(t, bystander.roundTrip(metadataReq(5, "y")), bystander.corr, clientID, "y")
			fresh := dial(t, s, "PLAINTEXT")
			checkMetadataEcho(t, fresh.roundTrip(metadataReq(12, "z")), fresh.corr, clientID, "z")
			_ = i
		})
	}
	for _, r := range h.seen() {
		if m, ok := r.Msg.(*kmsg.MetadataRequest); !ok || len(m.Topics) != 1 {
			t.Fatalf("the handler was called for a bad request: %+v", r.Header)
		}
	}
}

// TestApiVersionsFallback: a too-new ApiVersions gets a v0 body with error
// 35 and the single entry (18, min, max); its body is not parsed and the
// connection stays usable.
func TestApiVersionsFallback(t *testing.T) {
	h := &fakeHandler{}
	h.setRange(18, 0, 3)
	s := startServer(t, h, nil)
	c := dial(t, s, "PLAINTEXT")
	for _, v := range []int16{4, 77} {
		// header v2 of a flexible request, then a body that is not an
		// ApiVersions body at all
		b := append(header(18, v, 0x0a0b0c0d, "newclient"), 0)
		b = append(b, 0xff, 0xfe, 0xfd)
		c.write(sized(b))
		f, err := c.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		want := []byte{
			0x0a, 0x0b, 0x0c, 0x0d, // correlation id, header v0
			0x00, 0x23, // error code 35
			0x00, 0x00, 0x00, 0x01, // one entry
			0x00, 0x12, 0x00, 0x00, 0x00, 0x03, // key 18, min 0, max 3
		}
		if !bytes.Equal(f, want) {
			t.Fatalf("v%d fallback = %x, want %x", v, f, want)
		}
	}
	// The client retries at v3 on the same connection.
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 3
	resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 0 || len(resp.ApiKeys) == 0 {
		t.Fatalf("retry: %+v", resp)
	}
	if n := len(h.seen()); n != 1 {
		t.Fatalf("handler saw %d requests, want only the retry", n)
	}
	// Below the minimum is not a fallback case: closed.
	h.setRange(18, 1, 3)
	c2 := dial(t, s, "PLAINTEXT")
	req0 := kmsg.NewPtrApiVersionsRequest()
	c2.send(req0)
	c2.expectClosed()
}

type panicOnEncode struct{ *kmsg.MetadataResponse }

func (panicOnEncode) AppendTo([]byte) []byte { panic("encode boom") }

// TestHandlerFailures: a panic in Handle or in encoding, a nil response, a
// response for another key: that connection closes after the responses
// before it, without any further response; the server and other
// connections carry on.
func TestHandlerFailures(t *testing.T) {
	h := &fakeHandler{}
	h.setFn(func(ctx context.Context, req *Request) *Response {
		m := req.Msg.(*kmsg.MetadataRequest)
		if len(m.Topics) == 1 {
			switch *m.Topics[0].Topic {
			case "panic":
				panic("handler boom")
			case "nil":
				return nil
			case "nomsg":
				return &Response{}
			case "wrongkey":
				return &Response{Msg: kmsg.NewPtrProduceResponse()}
			case "encodepanic":
				return &Response{Msg: panicOnEncode{kmsg.NewPtrMetadataResponse()}}
			}
		}
		return h.echo(req)
	})
	s := startServer(t, h, nil)
	other := dial(t, s, "PLAINTEXT")
	for _, bad := range []string{"panic", "nil", "nomsg", "wrongkey", "encodepanic"} {
		t.Run(bad, func(t *testing.T) {
			c := dial(t, s, "PLAINTEXT")
			first := metadataReq(7, "first")
			corr := c.send(first)
			c.send(metadataReq(7, bad))
			// After a failure in Handle nothing more is handled; an
			// encoding failure happens in the writer, by which time
			// the reader may already have handled the next request.
			next := "never"
			if bad == "encodepanic" {
				next = "maybe"
			}
			c.send(metadataReq(7, next))
			f, err := c.readFrame()
			if err != nil {
				t.Fatalf("response queued before the failure was lost: %v", err)
			}
			checkMetadataEcho(t, c.decode(f, first, corr), corr, clientID, "first")
			c.expectClosed()
			checkMetadataEcho(t, other.roundTrip(metadataReq(1, "ok")), other.corr, clientID, "ok")
		})
	}
	if p := s.Stats().HandlerPanics; p != 2 {
		t.Fatalf("HandlerPanics = %d, want 2", p)
	}
	for _, r := range h.seen() {
		if *r.Msg.(*kmsg.MetadataRequest).Topics[0].Topic == "never" {
			t.Fatal("a request after the failure was handled")
		}
	}
}

func TestIdleConnectionClosed(t *testing.T) {
	h := &fakeHandler{}
	s := startServer(t, h, func(c *Config) { c.IdleTimeout = 100e6 })
	c := dial(t, s, "PLAINTEXT")
	checkMetadataEcho(t, c.roundTrip(metadataReq(1, "a")), c.corr, clientID, "a")
	c.expectClosed()
	waitFor(t, "the idle connection to be released", func() bool { return s.Stats().Active == 0 })
}
