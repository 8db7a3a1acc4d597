package txn

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/model"
)

// memLog is an in-memory __transaction_state; fail makes appends fail,
// block makes loads wait until it is closed.
type memLog struct {
	mu    sync.Mutex
	parts map[int32][]Entry
	fail  error
	block chan struct{}
}

func newMemLog() *memLog { return &memLog{parts: map[int32][]Entry{}} }

func (l *memLog) Append(ctx context.Context, p int32, entries []Entry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return l.fail
	}
	l.parts[p] = append(l.parts[p], entries...)
	return nil
}

func (l *memLog) Load(ctx context.Context, p int32, fn func(int64, []byte, []byte) error) error {
	l.mu.Lock()
	block := l.block
	recs := append([]Entry(nil), l.parts[p]...)
	l.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for i, e := range recs {
		if err := fn(int64(i), e.Key, e.Value); err != nil {
			return err
		}
	}
	return nil
}

func (l *memLog) setFail(err error) {
	l.mu.Lock()
	l.fail = err
	l.mu.Unlock()
}

// last decodes the last record of a partition.
func (l *memLog) last(t *testing.T, p int32) (string, *Metadata) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	recs := l.parts[p]
	if len(recs) == 0 {
		t.Fatal("no record")
	}
	id, m, err := ParseRecord(recs[len(recs)-1].Key, recs[len(recs)-1].Value)
	if err != nil {
		t.Fatal(err)
	}
	return id, m
}

type seqIDs struct {
	mu   sync.Mutex
	next int64
}

func (s *seqIDs) Next(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	return s.next - 1, nil
}

// fakeMarkers answers WriteTxnMarkers: hold queues the requests until
// released; code is the error every partition gets.
type fakeMarkers struct {
	mu     sync.Mutex
	sent   []*kmsg.WriteTxnMarkersRequest
	held   []func()
	hold   bool
	code   int16
	leader model.BrokerID
}

func (f *fakeMarkers) Leader(tp model.TopicPartition) (model.BrokerID, error) {
	if tp.Topic == "deleted" {
		return -1, kerr.UnknownTopicOrPartition
	}
	return f.leader, nil
}

func (f *fakeMarkers) Send(broker model.BrokerID, req *kmsg.WriteTxnMarkersRequest, cb func(*kmsg.WriteTxnMarkersResponse, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, req)
	code := f.code
	answer := func() {
		resp := req.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
		for _, m := range req.Markers {
			rm := kmsg.NewWriteTxnMarkersResponseMarker()
			rm.ProducerID = m.ProducerID
			for _, t := range m.Topics {
				rt := kmsg.NewWriteTxnMarkersResponseMarkerTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
					rp.Partition, rp.ErrorCode = p, code
					rt.Partitions = append(rt.Partitions, rp)
				}
				rm.Topics = append(rm.Topics, rt)
			}
			resp.Markers = append(resp.Markers, rm)
		}
		cb(resp, nil)
	}
	if f.hold {
		f.held = append(f.held, answer)
		return
	}
	go answer()
}

func (f *fakeMarkers) set(hold bool, code int16) {
	f.mu.Lock()
	f.hold, f.code = hold, code
	f.mu.Unlock()
}

func (f *fakeMarkers) release() {
	f.mu.Lock()
	held := f.held
	f.held, f.hold = nil, false
	f.mu.Unlock()
	for _, a := range held {
		go a()
	}
}

func (f *fakeMarkers) requests() []*kmsg.WriteTxnMarkersRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*kmsg.WriteTxnMarkersRequest(nil), f.sent...)
}

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

const testPartitions = 1 // every id in partition 0

type env struct {
	c     *Coordinator
	log   *memLog
	mk    *fakeMarkers
	clock *fakeClock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{log: newMemLog(), mk: &fakeMarkers{leader: 1}, clock: &fakeClock{now: time.UnixMilli(1_000_000)}}
	e.c = New(Config{MaxTimeout: 900 * time.Second, IDExpiration: time.Hour, MarkerRetryBackoff: time.Millisecond,
		AppendTimeout:  time.Second,
		PartitionCount: func() (int32, bool) { return testPartitions, true }, Now: e.clock.Now}, e.log, &seqIDs{next: 1000}, e.mk)
	t.Cleanup(e.c.Close)
	return e
}

// elect makes the coordinator own partition 0 and waits for the load.
func (e *env) elect(t *testing.T, epoch int32) {
	t.Helper()
	e.c.Elect(0, epoch)
	e.waitLoaded(t)
}

func (e *env) waitLoaded(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := e.c.shardFor("x"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("partition not loaded")
		}
		time.Sleep(time.Millisecond)
	}
}

// waitState waits until an id reaches a state with nothing pending.
func (e *env) waitState(t *testing.T, id string, want State) Description {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d, err := e.c.Describe(id)
		if err == nil && d.State == want {
			s, _ := e.c.shardFor(id)
			m := s.get(id)
			m.mu.Lock()
			idle := m.pending == nil
			m.mu.Unlock()
			if idle {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: state %v (%v), want %v", id, d.State, err, want)
		}
		time.Sleep(time.Millisecond)
	}
}
