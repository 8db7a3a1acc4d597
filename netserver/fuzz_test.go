package netserver

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzConnection writes arbitrary bytes to a connection, half-closes it
// and reads whatever the server answers. The server must close the
// connection, must only ever have written whole frames, and must keep
// serving new connections.
func FuzzConnection(f *testing.F) {
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "fuzz", "1"
	p := kmsg.NewPtrProduceRequest()
	p.Version, p.Acks = 9, 0
	cs := kmsg.NewPtrControlledShutdownRequest()
	seeds := [][]byte{
		frameRequest(av, 1, &clientID),
		append(frameRequest(metadataReq(12, "a"), 2, nil), frameRequest(metadataReq(1, "b"), 3, &clientID)...),
		append(frameRequest(p, 4, &clientID), frameRequest(cs, 5, nil)...),
		sized(append(header(18, 99, 6, "x"), 0, 1, 2)),
		sized(header(1000, 0, 7, "")),
		{0x7f, 0xff, 0xff, 0xff},
		{0, 0, 0, 3, 1, 2, 3},
		[]byte("GET / HTTP/1.0\r\n\r\n"),
	}
	for _, s := range seeds {
		f.Add(s)
	}
	h := &fakeHandler{}
	s := startServer(f, h, func(c *Config) { c.MaxRequestSize = 1 << 20 })

	// Thousands of connections a second leave TIME_WAIT entries that
	// would exhaust the ephemeral ports of a single client address;
	// spread the clients over 127.0.0.0/8 instead.
	var seq atomic.Uint32
	dial := func() (net.Conn, error) {
		n := seq.Add(1)
		d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, byte(1+n>>16%250), byte(n>>8), byte(n))}}
		return d.Dial("tcp", s.Addr("PLAINTEXT").String())
	}

	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := dial()
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		// Read while writing: pipelined requests may produce more
		// response bytes than the socket buffers hold.
		type result struct {
			out []byte
			err error
		}
		read := make(chan result, 1)
		go func() {
			out, err := io.ReadAll(c)
			read <- result{out, err}
		}()
		_, _ = c.Write(in) // the server may close before reading it all
		_ = c.(*net.TCPConn).CloseWrite()
		r := <-read
		out, err := r.out, r.err
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("reading the server's answer: %v", err)
		}
		// Everything written must be whole frames.
		for len(out) > 0 {
			if len(out) < 8 {
				t.Fatalf("%d trailing bytes", len(out))
			}
			n := int(binary.BigEndian.Uint32(out))
			if n < 4 || n > len(out)-4 {
				t.Fatalf("frame of %d bytes, %d left", n, len(out)-4)
			}
			out = out[4+n:]
		}
		// The server is still up and serving.
		probe := &client{t: t}
		probe.conn, err = dial()
		if err != nil {
			t.Fatalf("server no longer accepting: %v", err)
		}
		defer probe.conn.Close()
		if r := probe.roundTrip(av).(*kmsg.ApiVersionsResponse); r.ErrorCode != 0 {
			t.Fatalf("probe: error %d", r.ErrorCode)
		}
	})
}
