package itest

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// responsive checks that a broker process runs and answers ApiVersions
// and Metadata (whatever its content: a fuzzed UpdateMetadata with a new
// enough controller epoch may legitimately change it) on a fresh
// connection.
func responsive(t testing.TB, b *testcluster.Broker) {
	t.Helper()
	if !b.Running() {
		t.Fatalf("broker %d is not running any more", b.ID())
	}
	w := mustDial(t, b.Addr())
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "kbroker-itest", "1.0"
	resp, err := w.roundTrip(av)
	if err != nil || resp.(*kmsg.ApiVersionsResponse).ErrorCode != 0 {
		t.Fatalf("ApiVersions on a fresh connection: %v", err)
	}
	if _, err := w.roundTrip(metadataRequest(12)); err != nil {
		t.Fatalf("Metadata on a fresh connection: %v", err)
	}
}

// logWatch reads what a broker logged since the last call.
type logWatch struct {
	path string
	off  int64
}

func (l *logWatch) next() []byte {
	f, err := os.Open(l.path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(l.off, io.SeekStart); err != nil {
		return nil
	}
	b, _ := io.ReadAll(f)
	l.off += int64(len(b))
	return b
}

// longContinuationRun reports three bytes in a row with the high bit set:
// a uvarint of at least 2^21. As a tagged-field count it makes kmsg loop
// that many times after the input ran out (a known limitation, see
// TestHugeTaggedFieldCount), which would stall the fuzzer for minutes.
func longContinuationRun(b []byte) bool {
	n := 0
	for _, c := range b {
		if c < 0x80 {
			n = 0
		} else if n++; n == 3 {
			return true
		}
	}
	return false
}

// FuzzWireRequest sends one request — a well-formed header for the fuzzed
// key and version, then the fuzzed body — to a live broker on its own
// connection. Whatever the broker does with it (answer, close, wait), it
// must stay up and serve fresh connections, and its handlers must not
// panic (netserver recovers panics and closes the connection, so the log
// is checked). Inter-broker keys are included: without a current
// controller epoch they must be refused.
//
// Without -fuzz only the seeds run: a default request of every served key
// at its lowest and highest version, and a few malformed bodies.
func FuzzWireRequest(f *testing.F) {
	for _, key := range []int16{0, 1, 2, 3, 4, 5, 6, 18, 19, 20, 32, 37, 60} {
		req := kmsg.RequestForKey(key)
		for _, v := range []int16{0, zk39Versions[key][1]} {
			req.SetVersion(v)
			f.Add(key, v, req.AppendTo(nil))
		}
	}
	f.Add(int16(3), int16(12), []byte{0xff})
	f.Add(int16(0), int16(9), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(int16(18), int16(77), []byte{1, 2, 3})
	f.Add(int16(1), int16(4), bytes.Repeat([]byte{0x7f}, 64))
	f.Add(int16(999), int16(0), []byte{})

	c := testcluster.NewCluster(f, 1, map[string]string{"auto.create.topics.enable": "true"})
	b := c.Broker(0)
	logs := &logWatch{path: b.LogPath()}
	logs.next()
	corr := int32(0)
	f.Fuzz(func(t *testing.T, key, version int16, body []byte) {
		if longContinuationRun(body) {
			return
		}
		req := header(key, version, corr, "fuzz")
		corr++
		if r := kmsg.RequestForKey(key); r != nil {
			r.SetVersion(version)
			if r.IsFlexible() {
				req = append(req, 0) // no header tags
			}
		}
		w := mustDial(t, b.Addr())
		if err := w.write(framed(req, body)); err != nil {
			t.Fatalf("write: %v", err)
		}
		// An answer, a close or a long poll are all acceptable; just
		// give the broker a moment before moving on.
		_ = w.conn.SetReadDeadline(time.Now().Add(time.Second))
		_, _ = w.conn.Read(make([]byte, 1))
		w.Close()
		responsive(t, b)
		if l := logs.next(); bytes.Contains(l, []byte("panicked")) || bytes.Contains(l, []byte("DATA RACE")) {
			t.Fatalf("key %d v%d body % x: the broker logged a panic or race:\n%s", key, version, body, l)
		}
	})
}

// TestHugeTaggedFieldCount sends a Metadata v12 request of a few bytes whose
// tagged-field count is 2^32-1. Kafka's reader fails at the first missing
// byte and closes the connection at once; the broker must too, instead of
// spending minutes of CPU on the connection.
func TestHugeTaggedFieldCount(t *testing.T) {
	c := newCluster(t, 1, nil)
	b := c.Broker(0)
	w := mustDial(t, b.Addr())
	// Header v2 (empty tags), then the body: topics null (0), allow auto
	// creation, include topic authorized operations, tag count 2^32-1.
	body := append(append(header(3, 12, 9, "x"), 0), 0, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x0f)
	if err := w.write(framed(body)); err != nil {
		t.Fatal(err)
	}
	got, err := w.readUntilClosed(15 * time.Second)
	if err != nil || len(got) > 0 {
		t.Errorf("connection not closed within 15 s (read % x, %v): the broker is still decoding the request", got, err)
		// Do not let it burn a core for minutes, nor fail the orderly
		// stop at cleanup because a reader goroutine is stuck.
		b.Kill9()
		return
	}
	responsive(t, b)
}
