package itest

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/internal/testcluster"
)

// sizePrefix is the 4-byte size prefix of a frame holding body.
func sizePrefix(body []byte) []byte {
	return binary.BigEndian.AppendUint32(nil, uint32(len(body))) // callers pass small bodies
}

// header is a request header v1 (key, version, correlation id, client id).
func header(key, version int16, corr int32, clientID string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, uint32(corr))
	b = binary.BigEndian.AppendUint16(b, uint16(len(clientID)))
	return append(b, clientID...)
}

// framed is sizePrefix(body)+body.
func framed(parts ...[]byte) []byte {
	body := bytes.Join(parts, nil)
	return append(sizePrefix(body), body...)
}

// encodedBody is req's body at its version (no header).
func encodedBody(req kmsg.Request) []byte { return req.AppendTo(nil) }

// checkAlive checks that the broker process runs and answers ApiVersions
// and Metadata on a fresh connection.
func checkAlive(t testing.TB, b *testcluster.Broker) {
	t.Helper()
	if !b.Running() {
		t.Fatalf("broker %d is not running any more", b.ID())
	}
	w := mustDial(t, b.Addr())
	av := kmsg.NewPtrApiVersionsRequest()
	av.Version = 3
	av.ClientSoftwareName, av.ClientSoftwareVersion = "kbroker-itest", "1.0"
	resp, err := w.roundTrip(av)
	if err != nil {
		t.Fatalf("ApiVersions on a fresh connection: %v", err)
	}
	if r := resp.(*kmsg.ApiVersionsResponse); r.ErrorCode != 0 || len(r.ApiKeys) == 0 {
		t.Fatalf("ApiVersions: error %d, %d keys", r.ErrorCode, len(r.ApiKeys))
	}
	resp, err = w.roundTrip(metadataRequest(12))
	if err != nil {
		t.Fatalf("Metadata on a fresh connection: %v", err)
	}
	if r := resp.(*kmsg.MetadataResponse); len(r.Brokers) == 0 {
		t.Fatalf("Metadata lists no broker")
	}
}

func TestBadInput(t *testing.T) {
	// One broker is enough: every case is about one broker's network
	// layer, and a crash would take down nothing else.
	c := newCluster(t, 1, nil)
	b := c.Broker(0)
	adm := newAdmin(t, c)
	const topic = "bad-input-bystander"
	createTopic(t, c, adm, topic, 2, 1, nil)

	// A well-behaved client producing in a loop on its own connections
	// throughout; none of its requests may fail.
	cl := newClient(t, c.BootstrapAddrs(), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	var acked []sentRecord
	var produceErrs []error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			r := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(fmt.Sprintf("bystander %d", i))}
			pctx, cancel := context.WithTimeout(context.Background(), waitLong)
			err := cl.ProduceSync(pctx, r).FirstErr()
			cancel()
			mu.Lock()
			if err != nil {
				produceErrs = append(produceErrs, err)
			} else {
				acked = append(acked, sentRecord{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value})
			}
			mu.Unlock()
		}
	}()
	ackedSoFar := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	eventually(t, waitLong, "bystander producing", func() error {
		if ackedSoFar() < 5 {
			return fmt.Errorf("%d records acknowledged", ackedSoFar())
		}
		return nil
	})

	// A raw connection opened before the bad input, used again after.
	early := mustDial(t, b.Addr())
	if _, err := early.roundTrip(metadataRequest(1)); err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		p := make([]byte, n)
		for i := range p {
			p[i] = byte(rng.Uint32())
		}
		return p
	}
	metadataBody := encodedBody(metadataRequest(1))
	flexHeader := func(key, version int16) []byte { return append(header(key, version, 7, "bad"), 0) }

	cases := []struct {
		name string
		data []byte
		// halfClose: the input is incomplete by design; end our side so
		// that the broker sees EOF inside a frame.
		halfClose bool
	}{
		{"RandomBytes", random(4096), true},
		{"RandomFrame", framed(random(300)), false},
		{"RandomFrameKnownKey", framed(header(3, 1, 1, "x"), random(200)), false},
		{"TruncatedSize", []byte{0, 0}, true},
		{"TruncatedHeader", append(sizePrefix(make([]byte, 40)), header(3, 1, 1, "x")[:5]...), true},
		{"TruncatedBody", append(sizePrefix(make([]byte, 400)), append(header(3, 1, 1, "x"), metadataBody...)...), true},
		{"SizeMaxInt32", []byte{0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 1}, false},
		{"SizeAboveSocketRequestMax", binary.BigEndian.AppendUint32(nil, 100<<20+1), false},
		{"SizeNegative", []byte{0xff, 0xff, 0xff, 0xff}, false},
		{"SizeMinInt32", []byte{0x80, 0, 0, 0, 0, 3, 0, 1}, false},
		{"SizeZero", []byte{0, 0, 0, 0}, false},
		{"ShorterThanHeader", framed([]byte{0, 3, 0}), false},
		{"BadClientIDLength", framed([]byte{0, 3, 0, 1, 0, 0, 0, 1, 0x7f, 0xff, 'a'}), false},
		{"UnknownKey200", framed(header(200, 0, 1, "x"), metadataBody), false},
		{"UnknownKeyNegative", framed(header(-1, 0, 1, "x"), metadataBody), false},
		{"KeyNotServedByZKBroker", framed(header(52, 0, 1, "x"), random(20)), false}, // Vote, KRaft only
		{"MetadataVersionTooNew", framed(flexHeader(3, 13), encodedBody(metadataRequestAt(13))), false},
		{"MetadataVersionNegative", framed(header(3, -1, 1, "x"), metadataBody), false},
		{"ProduceVersionTooNew", framed(flexHeader(0, 12), random(30)), false},
		{"FetchVersionTooNew", framed(flexHeader(1, 18), random(30)), false},
		{"GarbageMetadataBody", framed(header(3, 1, 1, "x"), []byte{0x7f, 0xff, 0xff, 0xff, 0, 1}), false},
		{"GarbageFlexibleTags", framed(header(3, 12, 1, "x"), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), false},
		{"GarbageProduceBody", framed(flexHeader(0, 9), []byte{0xff, 0xee, 0xdd}), false},
		{"GarbageCreateTopicsBody", framed(header(19, 4, 1, "x"), []byte{0, 0, 0, 5, 0, 3, 'a'}), false},
		{"ApiVersionsV3GarbageBody", framed(flexHeader(18, 3), []byte{0xff, 0xff, 0xff}), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := mustDial(t, b.Addr())
			if err := w.write(tc.data); err != nil {
				t.Fatalf("write: %v", err)
			}
			if tc.halfClose {
				_ = w.conn.(interface{ CloseWrite() error }).CloseWrite()
			}
			got, err := w.readUntilClosed(30 * time.Second)
			if err != nil {
				t.Fatalf("connection not closed by the broker: %v (read % x)", err, got)
			}
			if len(got) > 0 {
				t.Errorf("the broker answered % x before closing", got)
			}
			checkAlive(t, b)
		})
	}

	// ApiVersions at a version the broker does not know: a v0 body with
	// UNSUPPORTED_VERSION and the ApiVersions range, and the connection
	// stays usable (clients retry on it).
	t.Run("ApiVersionsUnsupportedVersion", func(t *testing.T) {
		w := mustDial(t, b.Addr())
		if err := w.write(framed(flexHeader(18, 99), random(17))); err != nil {
			t.Fatal(err)
		}
		body, err := w.readFrame()
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		want := []byte{
			0, 0, 0, 7, // correlation id, response header v0
			0, 35, // UNSUPPORTED_VERSION
			0, 0, 0, 1, // one api key (v0 array)
			0, 18, 0, 0, 0, 4, // ApiVersions 0..4
		}
		if !bytes.Equal(body, want) {
			t.Errorf("answer % x\nwant   % x", body, want)
		}
		av := kmsg.NewPtrApiVersionsRequest()
		av.Version = 3
		av.ClientSoftwareName, av.ClientSoftwareVersion = "kbroker-itest", "1.0"
		resp, err := w.roundTrip(av)
		if err != nil || resp.(*kmsg.ApiVersionsResponse).ErrorCode != 0 {
			t.Errorf("retry at v3 on the same connection: %v %+v", err, resp)
		}
	})

	// ApiVersions v3 with a client software name outside Kafka's pattern:
	// INVALID_REQUEST, not a closed connection.
	t.Run("ApiVersionsBadSoftwareName", func(t *testing.T) {
		w := mustDial(t, b.Addr())
		av := kmsg.NewPtrApiVersionsRequest()
		av.Version = 3
		av.ClientSoftwareName, av.ClientSoftwareVersion = "-bad name-", "1.0"
		resp, err := w.roundTrip(av)
		if err != nil {
			t.Fatal(err)
		}
		if code := resp.(*kmsg.ApiVersionsResponse).ErrorCode; code != 42 {
			t.Errorf("error code %d, want 42 (INVALID_REQUEST)", code)
		}
	})

	// Many bad connections at once, while the bystander keeps producing.
	t.Run("Storm", func(t *testing.T) {
		var swg sync.WaitGroup
		for i := 0; i < 40; i++ {
			data := cases[i%len(cases)].data
			half := cases[i%len(cases)].halfClose
			swg.Add(1)
			go func() {
				defer swg.Done()
				w, err := dialWire(b.Addr())
				if err != nil {
					t.Error(err)
					return
				}
				defer w.Close()
				_ = w.write(data)
				if half {
					_ = w.conn.(interface{ CloseWrite() error }).CloseWrite()
				}
				if _, err := w.readUntilClosed(30 * time.Second); err != nil {
					t.Errorf("connection %d not closed: %v", i, err)
				}
			}()
		}
		swg.Wait()
		checkAlive(t, b)
	})

	// The connection opened before still works, in order.
	for i := 0; i < 3; i++ {
		resp, err := early.roundTrip(metadataRequest(int16(1 + i)))
		if err != nil {
			t.Fatalf("pre-existing connection after the bad input: %v", err)
		}
		if len(resp.(*kmsg.MetadataResponse).Topics) != 1 {
			t.Errorf("pre-existing connection: %+v", resp)
		}
	}

	n := ackedSoFar()
	eventually(t, waitLong, "bystander still producing", func() error {
		if ackedSoFar() < n+5 {
			return fmt.Errorf("%d records acknowledged, had %d", ackedSoFar(), n)
		}
		return nil
	})
	stop()
	wg.Wait()
	if len(produceErrs) > 0 {
		t.Errorf("the bystander's produce failed %d times, first: %v", len(produceErrs), produceErrs[0])
	}
	checkRecords(t, acked, consumeRange(t, c.BootstrapAddrs(), topic, countByPartition(acked)))
	if log := b.Log(); strings.Contains(log, "panicked") || strings.Contains(log, "DATA RACE") {
		t.Errorf("the broker log reports a panic or a data race")
	}
}

// metadataRequestAt is a Metadata request for all topics at version v.
func metadataRequestAt(v int16) *kmsg.MetadataRequest { return metadataRequest(v) }
