package broker

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/netserver"
)

// fakeController serves ApiVersions (advertising ControlledShutdown at
// csMin–csMax) and answers ControlledShutdown from a script; the last
// answer repeats.
type fakeController struct {
	csMin, csMax int16

	mu       sync.Mutex
	answers  []*kmsg.ControlledShutdownResponse
	received []received
}

type received struct {
	version     int16
	clientID    string
	brokerID    int32
	brokerEpoch int64
}

func (f *fakeController) VersionRange(key int16) (int16, int16, bool) {
	switch key {
	case 18:
		return 0, 3, true
	case 7:
		return f.csMin, f.csMax, true
	}
	return 0, 0, false
}

func (f *fakeController) Handle(_ context.Context, req *netserver.Request) *netserver.Response {
	switch r := req.Msg.(type) {
	case *kmsg.ApiVersionsRequest:
		resp := r.ResponseKind().(*kmsg.ApiVersionsResponse)
		for _, k := range [][3]int16{{7, f.csMin, f.csMax}, {18, 0, 3}} {
			ak := kmsg.NewApiVersionsResponseApiKey()
			ak.ApiKey, ak.MinVersion, ak.MaxVersion = k[0], k[1], k[2]
			resp.ApiKeys = append(resp.ApiKeys, ak)
		}
		return &netserver.Response{Msg: resp}
	case *kmsg.ControlledShutdownRequest:
		f.mu.Lock()
		defer f.mu.Unlock()
		f.received = append(f.received, received{req.Version, req.ClientID, r.BrokerID, r.BrokerEpoch})
		a := f.answers[min(len(f.received), len(f.answers))-1]
		resp := *a
		return &netserver.Response{Msg: &resp}
	}
	return nil
}

func (f *fakeController) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.received...)
}

func csAnswer(code int16, remaining ...string) *kmsg.ControlledShutdownResponse {
	r := kmsg.NewPtrControlledShutdownResponse()
	r.ErrorCode = code
	for _, t := range remaining {
		p := kmsg.NewControlledShutdownResponsePartitionsRemaining()
		p.Topic, p.Partition = t, 0
		r.PartitionsRemaining = append(r.PartitionsRemaining, p)
	}
	return r
}

// startFakeController runs f on an INTERNAL listener and returns the
// broker entry the metadata cache would hold for it (id 7).
func startFakeController(t *testing.T, f *fakeController) model.Broker {
	t.Helper()
	srv := netserver.New(netserver.Config{
		Listeners: []netserver.ListenerConfig{{Name: "INTERNAL", Host: "127.0.0.1"}},
		Logger:    zerolog.Nop(),
	}, f)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	a := srv.Addr("INTERNAL").(*net.TCPAddr)
	return model.Broker{ID: 7, Endpoints: []model.Endpoint{
		{Listener: "EXTERNAL", Host: "192.0.2.1", Port: 1}, // never dialled
		{Listener: "INTERNAL", Host: "127.0.0.1", Port: int32(a.Port), SecurityProtocol: "PLAINTEXT"},
	}}
}

func requesterFor(node model.Broker, known bool) *shutdownRequester {
	return &shutdownRequester{
		id: 3, epoch: 4242, maxRetries: 3,
		backoff: 10 * time.Millisecond, timeout: 10 * time.Second,
		controller: func() (model.BrokerID, string, bool) {
			if !known {
				return -1, "", false
			}
			e, ok := node.Endpoint("INTERNAL")
			return node.ID, net.JoinHostPort(e.Host, strconv.Itoa(int(e.Port))), ok
		},
		log: zerolog.Nop(),
	}
}

func TestControlledShutdownRequester(t *testing.T) {
	none := int16(0)
	for _, tc := range []struct {
		name         string
		csMin, csMax int16
		answers      []*kmsg.ControlledShutdownResponse
		ok           bool
		requests     int
		version      int16
		epoch        int64 // on the wire: -1 before v2
	}{
		{"accepted at once", 0, 3, []*kmsg.ControlledShutdownResponse{csAnswer(none)}, true, 1, 3, 4242},
		{"partitions remain twice", 0, 3, []*kmsg.ControlledShutdownResponse{csAnswer(none, "a", "b"), csAnswer(none, "a"), csAnswer(none)}, true, 3, 3, 4242},
		{"refused every time: gives up after max.retries attempts", 0, 3, []*kmsg.ControlledShutdownResponse{csAnswer(kerr.NotController.Code)}, false, 3, 3, 4242},
		{"error then success", 0, 3, []*kmsg.ControlledShutdownResponse{csAnswer(kerr.StaleBrokerEpoch.Code), csAnswer(none)}, true, 2, 3, 4242},
		{"controller only knows v2", 0, 2, []*kmsg.ControlledShutdownResponse{csAnswer(none)}, true, 1, 2, 4242},
		{"v1 carries no broker epoch", 1, 1, []*kmsg.ControlledShutdownResponse{csAnswer(none)}, true, 1, 1, -1},
		{"v0 with request header v0", 0, 0, []*kmsg.ControlledShutdownResponse{csAnswer(none, "x"), csAnswer(none)}, true, 2, 0, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeController{csMin: tc.csMin, csMax: tc.csMax, answers: tc.answers}
			node := startFakeController(t, f)
			ok := requesterFor(node, true).run(context.Background())
			if ok != tc.ok {
				t.Fatalf("run = %v, want %v", ok, tc.ok)
			}
			got := f.requests()
			if len(got) != tc.requests {
				t.Fatalf("%d requests, want %d: %+v", len(got), tc.requests, got)
			}
			for _, r := range got {
				wantClient := "3"
				if tc.version == 0 {
					wantClient = "" // header v0 has no client id
				}
				if r.version != tc.version || r.brokerID != 3 || r.brokerEpoch != tc.epoch || r.clientID != wantClient {
					t.Errorf("request %+v, want version %d broker 3 epoch %d client %q", r, tc.version, tc.epoch, wantClient)
				}
			}
		})
	}
}

func TestControlledShutdownNoController(t *testing.T) {
	f := &fakeController{csMin: 0, csMax: 3, answers: []*kmsg.ControlledShutdownResponse{csAnswer(0)}}
	node := startFakeController(t, f)
	start := time.Now()
	if requesterFor(node, false).run(context.Background()) {
		t.Fatal("succeeded without a controller")
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests sent without a known controller", n)
	}
	// Three attempts, two back-offs between them.
	if d := time.Since(start); d < 20*time.Millisecond {
		t.Fatalf("gave up after %v: no back-off between attempts", d)
	}
}

func TestControlledShutdownUnreachableController(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close() // nobody listens there now
	node := model.Broker{ID: 7, Endpoints: []model.Endpoint{{Listener: "INTERNAL", Host: "127.0.0.1", Port: int32(port)}}}
	r := requesterFor(node, true)
	r.maxRetries = 2
	if r.run(context.Background()) {
		t.Fatal("succeeded against a closed port")
	}
}

func TestControlledShutdownZeroRetries(t *testing.T) {
	f := &fakeController{csMin: 0, csMax: 3, answers: []*kmsg.ControlledShutdownResponse{csAnswer(0)}}
	node := startFakeController(t, f)
	r := requesterFor(node, true)
	r.maxRetries = 0 // Kafka: no attempt at all
	if r.run(context.Background()) {
		t.Fatal("succeeded with no attempt")
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests with controlled.shutdown.max.retries=0", n)
	}
}
