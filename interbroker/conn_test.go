package interbroker

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestRequestCancelledWhileThePeerHangsUp races a request's cancellation
// with the peer closing the connection: the cancellation callback must not
// touch the connection field Request clears (a nil dereference at broker
// shutdown once).
func TestRequestCancelledWhileThePeerHangsUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				_, _ = nc.Read(buf)
				nc.Close()
			}()
		}
	}()
	c := NewConn(ln.Addr().String(), "test", 10*time.Second)
	defer c.Close()
	for i := range 500 {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			time.Sleep(time.Duration(i%50) * 10 * time.Microsecond)
			cancel()
		}()
		req := kmsg.NewPtrApiVersionsRequest()
		if _, err := c.Request(ctx, req); err == nil {
			t.Fatal("a peer that hangs up answered")
		}
		cancel()
	}
}
