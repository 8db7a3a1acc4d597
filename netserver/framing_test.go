package netserver

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestApiVersionsFraming(t *testing.T) {
	h := &fakeHandler{}
	s := startServer(t, h, nil)
	c := dial(t, s, "PLAINTEXT")
	for _, v := range []int16{0, 1, 2, 3, 4} {
		req := kmsg.NewPtrApiVersionsRequest()
		req.Version = v
		req.ClientSoftwareName = "kbroker-test"
		req.ClientSoftwareVersion = "1.0"
		corr := c.send(req)
		f, err := c.readFrame()
		if err != nil {
			t.Fatalf("v%d: %v", v, err)
		}
		// Header v0 always: correlation id, then at once the int16
		// error code (0), even for the flexible v3/v4.
		if got := int32(binary.BigEndian.Uint32(f)); got != corr {
			t.Fatalf("v%d: correlation %d want %d", v, got, corr)
		}
		if f[4] != 0 || f[5] != 0 {
			t.Fatalf("v%d: error code bytes %x, want 0000 right after the correlation id", v, f[4:6])
		}
		served := 0
		for k := int16(0); k <= kmsg.MaxKey; k++ {
			if _, _, ok := h.VersionRange(k); ok {
				served++
			}
		}
		if v >= 3 {
			// compact array length (uvarint n+1) directly after the error code
			want := binary.AppendUvarint(nil, uint64(served)+1)
			if !bytes.Equal(f[6:6+len(want)], want) {
				t.Fatalf("v%d: bytes after error code %x, want compact length %x", v, f[6:6+len(want)], want)
			}
		} else if got := binary.BigEndian.Uint32(f[6:]); int(got) != served {
			t.Fatalf("v%d: array length %d, want %d", v, got, served)
		}
		resp := c.decode(f, req, corr).(*kmsg.ApiVersionsResponse)
		if len(resp.ApiKeys) != served || resp.ApiKeys[3].ApiKey != 3 || resp.ApiKeys[3].MaxVersion != kmsg.NewPtrMetadataRequest().MaxVersion() {
			t.Fatalf("v%d: decoded %d keys, key 3 = %+v", v, len(resp.ApiKeys), resp.ApiKeys[3])
		}
	}
	reqs := h.seen()
	if len(reqs) != 5 {
		t.Fatalf("handler saw %d requests", len(reqs))
	}
	for i, r := range reqs {
		if r.Key != 18 || r.Version != int16(i) || r.ClientID != clientID || r.CorrelationID != int32(i+1) {
			t.Fatalf("request %d header %+v", i, r.Header)
		}
		m := r.Msg.(*kmsg.ApiVersionsRequest)
		if m.Version >= 3 && (m.ClientSoftwareName != "kbroker-test" || m.ClientSoftwareVersion != "1.0") {
			t.Fatalf("v%d body not parsed: %+v", m.Version, m)
		}
		if r.Conn == nil || r.Conn.Listener != "PLAINTEXT" || r.Conn.ID == 0 || r.Received.IsZero() || r.Size <= 0 {
			t.Fatalf("request info %+v conn %+v", r, r.Conn)
		}
	}
}

func TestMetadataFlexibleAndClassic(t *testing.T) {
	h := &fakeHandler{}
	s := startServer(t, h, nil)
	c := dial(t, s, "PLAINTEXT")

	// v1: header v1 request, header v0 response (no tag byte).
	req := metadataReq(1, "alpha", "beta")
	corr := c.send(req)
	f, err := c.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	// v1 body starts with the brokers array (int32 count = 1).
	if got := binary.BigEndian.Uint32(f[4:]); got != 1 {
		t.Fatalf("v1: body should start right after the correlation id, got %x", f[4:8])
	}
	checkMetadataEcho(t, c.decode(f, req, corr), corr, clientID, "alpha", "beta")

	// v12: header v2 request (tags), header v1 response (tag byte).
	req = metadataReq(12, "gamma")
	corr = c.send(req)
	f, err = c.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	if f[4] != 0 {
		t.Fatalf("v12: missing response header tag byte: %x", f[4:10])
	}
	// then throttle int32 0, then compact brokers array (1+1 = 2)
	if !bytes.Equal(f[5:10], []byte{0, 0, 0, 0, 2}) {
		t.Fatalf("v12: body bytes %x", f[5:10])
	}
	checkMetadataEcho(t, c.decode(f, req, corr), corr, clientID, "gamma")
}

func TestProduceVersions(t *testing.T) {
	h := &fakeHandler{}
	s := startServer(t, h, nil)
	c := dial(t, s, "PLAINTEXT")
	for k, v := range []int16{3, 9, 9} {
		big := k == 2
		req := kmsg.NewPtrProduceRequest()
		req.Version = v
		req.Acks = -1
		req.TimeoutMillis = 1000
		tp := kmsg.NewProduceRequestTopic()
		tp.Topic = "orders"
		for p := int32(0); p < 3; p++ {
			pp := kmsg.NewProduceRequestTopicPartition()
			pp.Partition = p
			pp.Records = bytes.Repeat([]byte{byte(p)}, int(10+p))
			if big {
				// a frame above the 1 MiB threshold: read into a
				// growing buffer
				pp.Records = bytes.Repeat([]byte{byte(p)}, int(3<<20+p))
			}
			tp.Partitions = append(tp.Partitions, pp)
		}
		req.Topics = append(req.Topics, tp)
		resp := c.roundTrip(req).(*kmsg.ProduceResponse)
		if len(resp.Topics) != 1 || resp.Topics[0].Topic != "orders" || len(resp.Topics[0].Partitions) != 3 {
			t.Fatalf("v%d: %+v", v, resp)
		}
		for i, p := range resp.Topics[0].Partitions {
			if p.Partition != int32(i) || p.BaseOffset != int64(len(req.Topics[0].Partitions[i].Records)) {
				t.Fatalf("v%d partition %d: %+v", v, i, p)
			}
		}
	}
	for _, r := range h.seen() {
		m := r.Msg.(*kmsg.ProduceRequest)
		if rec := m.Topics[0].Partitions[2].Records; !bytes.Equal(rec, bytes.Repeat([]byte{2}, len(rec))) || len(rec) != 12 && len(rec) != 3<<20+2 {
			t.Fatalf("v%d records %x", r.Version, m.Topics[0].Partitions[2].Records)
		}
	}
}

func TestNullClientIDAndHeaderTags(t *testing.T) {
	h := &fakeHandler{}
	s := startServer(t, h, nil)
	c := dial(t, s, "PLAINTEXT")

	// null client id → ""
	req := metadataReq(1, "a")
	c.write(frameRequest(req, 7, nil))
	f, err := c.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	checkMetadataEcho(t, c.decode(f, req, 7), 7, "", "a")

	// a flexible request whose header carries two tagged fields, which
	// the server must skip
	req = metadataReq(12, "b")
	b := make([]byte, 4)
	b = binary.BigEndian.AppendUint16(b, 3)
	b = binary.BigEndian.AppendUint16(b, 12)
	b = binary.BigEndian.AppendUint32(b, 8)
	b = binary.BigEndian.AppendUint16(b, 2)
	b = append(b, "id"...)
	b = append(b, 2, 0, 3, 'x', 'y', 'z', 5, 1, 'q') // 2 tags: (0,"xyz"), (5,"q")
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	c.write(b)
	f, err = c.readFrame()
	if err != nil {
		t.Fatal(err)
	}
	checkMetadataEcho(t, c.decode(f, req, 8), 8, "id", "b")
}

func TestControlledShutdownV0HeaderWithoutClientID(t *testing.T) {
	h := &fakeHandler{}
	s := startServer(t, h, nil)
	c := dial(t, s, "PLAINTEXT")
	for _, v := range []int16{0, 1, 3} {
		req := kmsg.NewPtrControlledShutdownRequest()
		req.Version = v
		req.BrokerID = 42 + int32(v)
		resp := c.roundTrip(req).(*kmsg.ControlledShutdownResponse)
		if resp.ErrorCode != 42+v {
			t.Fatalf("v%d: broker id echoed as %d", v, resp.ErrorCode)
		}
	}
	for _, r := range h.seen() {
		want := clientID
		if r.Version == 0 {
			want = ""
		}
		if r.ClientID != want {
			t.Fatalf("v%d client id %q", r.Version, r.ClientID)
		}
	}
}

func TestParseHeaderAndSkipTags(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"short", []byte{0, 3, 0, 1, 0, 0, 0}, false},
		{"no client id", []byte{0, 3, 0, 1, 0, 0, 0, 1}, false},
		{"client id too long", []byte{0, 3, 0, 1, 0, 0, 0, 1, 0, 5, 'a'}, false},
		{"client id negative", []byte{0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xfe}, false},
		{"null client id", []byte{0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff}, true},
		{"controlled shutdown v0", []byte{0, 7, 0, 0, 0, 0, 0, 1}, true},
	} {
		_, _, err := parseHeader(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v", tc.name, err)
		}
	}
	for _, tc := range []struct {
		in   []byte
		rest int
		ok   bool
	}{
		{[]byte{0, 9}, 1, true},
		{[]byte{1, 0, 1, 'a', 9, 9}, 2, true},
		{[]byte{1, 0, 5, 'a'}, 0, false},
		{[]byte{2, 0, 0}, 0, false},
		{[]byte{0x80}, 0, false},
		{[]byte{}, 0, false},
	} {
		rest, err := skipTags(tc.in)
		if (err == nil) != tc.ok || len(rest) != tc.rest {
			t.Errorf("skipTags(%x) = %x, %v", tc.in, rest, err)
		}
	}
}
