package broker

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/interbroker"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/netserver"
)

// fakeTxnCoordinator answers AddPartitionsToTxn VerifyOnly: partitions of
// topic "in" are in every transaction, others not. The first request is
// held until release is closed.
type fakeTxnCoordinator struct {
	release chan struct{}
	arrived chan struct{} // closed when the first request arrives

	mu       sync.Mutex
	requests [][]string // transactional ids of each request
}

func (f *fakeTxnCoordinator) VersionRange(key int16) (int16, int16, bool) {
	if key == 24 {
		return 0, 5, true
	}
	return 0, 0, false
}

func (f *fakeTxnCoordinator) Handle(_ context.Context, req *netserver.Request) *netserver.Response {
	r, ok := req.Msg.(*kmsg.AddPartitionsToTxnRequest)
	if !ok {
		return nil
	}
	f.mu.Lock()
	var ids []string
	for _, t := range r.Transactions {
		ids = append(ids, t.TransactionalID)
	}
	f.requests = append(f.requests, ids)
	first := len(f.requests) == 1
	f.mu.Unlock()
	if first {
		close(f.arrived)
		<-f.release
	}
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	for _, t := range r.Transactions {
		rt := kmsg.NewAddPartitionsToTxnResponseTransaction()
		rt.TransactionalID = t.TransactionalID
		for _, tt := range t.Topics {
			top := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			top.Topic = tt.Topic
			for _, p := range tt.Partitions {
				rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				rp.Partition = p
				if tt.Topic != "in" {
					rp.ErrorCode = kerr.InvalidTxnState.Code
				}
				if t.ProducerEpoch == 9 {
					rp.ErrorCode = kerr.ProducerFenced.Code
				}
				top.Partitions = append(top.Partitions, rp)
			}
			rt.Topics = append(rt.Topics, top)
		}
		resp.Transactions = append(resp.Transactions, rt)
	}
	return &netserver.Response{Msg: resp}
}

func (f *fakeTxnCoordinator) seen() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.requests...)
}

func newTestBatcher(t *testing.T, f *fakeTxnCoordinator) *verifyBatcher {
	t.Helper()
	srv := netserver.New(netserver.Config{
		Listeners: []netserver.ListenerConfig{{Name: "INTERNAL", Host: "127.0.0.1"}},
		Logger:    zerolog.Nop(),
	}, f)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(srv.Addr("INTERNAL").(*net.TCPAddr).Port))
	conn := interbroker.NewConn(addr, "test", 10*time.Second)
	t.Cleanup(func() { _ = conn.Close() })
	return &verifyBatcher{id: 7, conn: conn, timeout: 10 * time.Second, log: zerolog.Nop(), pending: map[string]*verification{}}
}

type verifyResult struct {
	name string
	res  map[model.TopicPartition]error
}

// TestVerifyBatcher: one request in flight; the questions arriving
// meanwhile go together in the next request; a repeated transactional id
// replaces the waiting question (NETWORK_EXCEPTION for the same epoch,
// INVALID_PRODUCER_EPOCH for an older one, and an older epoch than the
// waiting one is refused at once); PRODUCER_FENCED reaches producers as
// INVALID_PRODUCER_EPOCH.
func TestVerifyBatcher(t *testing.T) {
	f := &fakeTxnCoordinator{release: make(chan struct{}), arrived: make(chan struct{})}
	b := newTestBatcher(t, f)
	in0 := model.TopicPartition{Topic: "in", Partition: 0}
	out0 := model.TopicPartition{Topic: "out", Partition: 0}
	results := make(chan verifyResult, 10)
	ask := func(name, id string, epoch int16, tps ...model.TopicPartition) {
		go func() {
			results <- verifyResult{name, b.verify(context.Background(), &verification{id: id, pid: 1, epoch: epoch, tps: tps})}
		}()
	}
	waitPending := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			b.mu.Lock()
			got := len(b.order)
			b.mu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d questions waiting, want %d", got, n)
			}
			time.Sleep(time.Millisecond)
		}
	}

	ask("a", "A", 0, in0)
	<-f.arrived // A is in flight; the rest waits
	ask("b1", "B", 0, in0, out0)
	waitPending(1) // queued in this order: B before C
	ask("c1", "C", 0, in0)
	waitPending(2)
	first := map[string]map[model.TopicPartition]error{}
	ask("b2", "B", 0, in0, out0) // same epoch: b1 gets NETWORK_EXCEPTION
	r := <-results
	first[r.name] = r.res
	ask("c2", "C", 1, in0) // newer epoch: c1 is fenced
	r = <-results
	first[r.name] = r.res
	ask("c0", "C", 0, in0) // older than the waiting c2: refused at once
	r = <-results
	first[r.name] = r.res
	ask("f", "F", 9, in0) // the coordinator says PRODUCER_FENCED
	waitPending(3)
	close(f.release)
	got := map[string]map[model.TopicPartition]error{}
	for range 4 {
		r := <-results
		got[r.name] = r.res
	}

	want := map[string]map[model.TopicPartition]error{
		"b1": {in0: kerr.NetworkException, out0: kerr.NetworkException},
		"c1": {in0: kerr.InvalidProducerEpoch},
		"c0": {in0: kerr.InvalidProducerEpoch},
	}
	for name, w := range want {
		for tp, err := range w {
			if !errors.Is(first[name][tp], err) {
				t.Errorf("%s %v: %v, want %v", name, tp, first[name][tp], err)
			}
		}
	}
	if len(got["a"]) != 0 || len(got["c2"]) != 0 {
		t.Errorf("verified questions got errors: a %v, c2 %v", got["a"], got["c2"])
	}
	if len(got["b2"]) != 1 || !errors.Is(got["b2"][out0], kerr.InvalidTxnState) {
		t.Errorf("b2: %v, want INVALID_TXN_STATE for out-0 only", got["b2"])
	}
	if !errors.Is(got["f"][in0], kerr.InvalidProducerEpoch) {
		t.Errorf("f: %v, want INVALID_PRODUCER_EPOCH", got["f"])
	}
	reqs := f.seen()
	if len(reqs) != 2 || len(reqs[0]) != 1 || reqs[0][0] != "A" || len(reqs[1]) != 3 ||
		reqs[1][0] != "B" || reqs[1][1] != "C" || reqs[1][2] != "F" {
		t.Fatalf("requests %v, want [[A] [B C F]]", reqs)
	}
}
