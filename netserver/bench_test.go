package netserver

import (
	"io"
	"math/rand/v2"
	"sync/atomic"
	"testing"
)

// BenchmarkPipelinedMetadata: small requests pipelined on one connection.
func BenchmarkPipelinedMetadata(b *testing.B) {
	s := startServer(b, &fakeHandler{}, nil)
	c := dial(b, s, "PLAINTEXT")
	frame := frameRequest(metadataReq(12, "topic"), 1, &clientID)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range b.N {
			if _, err := c.readFrame(); err != nil {
				b.Error(err)
				return
			}
		}
	}()
	b.ResetTimer()
	for range b.N {
		if _, err := c.conn.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
	<-done
}

// BenchmarkFetch16MiB: one 16 MiB file range per Fetch, sendfile versus
// pread+write. Compare the two sub-benchmarks' MB/s.
func BenchmarkFetch16MiB(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	batch := makeBatch(rng, 0, 16, 1<<20)
	for _, mode := range []string{"sendfile", "copy"} {
		b.Run(mode, func(b *testing.B) {
			f, _ := writeTemp(b, "bench.log", batch)
			var released atomic.Int32
			h := &fakeHandler{}
			h.setFn(fetchHandler(map[string]map[int32]*fileRange{"a": {0: {f, 0, int64(len(batch))}}}, &released))
			s := startServer(b, h, func(c *Config) { c.SendBufferBytes = 1 << 20 })
			if mode == "copy" {
				s.sendfilePolicy.Store(sendfileNever)
			} else {
				s.sendfilePolicy.Store(sendfileAlways)
			}
			c := dial(b, s, "PLAINTEXT")
			req := fetchReq(12, "a")
			frame := frameRequest(req, 1, &clientID)
			b.SetBytes(int64(len(batch)))
			b.ResetTimer()
			for range b.N {
				c.write(frame)
				var sz [4]byte
				if _, err := io.ReadFull(c.conn, sz[:]); err != nil {
					b.Fatal(err)
				}
				n := int64(sz[0])<<24 | int64(sz[1])<<16 | int64(sz[2])<<8 | int64(sz[3])
				if _, err := io.CopyN(io.Discard, c.conn, n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
