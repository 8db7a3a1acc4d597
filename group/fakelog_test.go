package group

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// memLog is an in-memory __consumer_offsets: one record list per
// partition; fail makes the next appends fail.
type memLog struct {
	mu    sync.Mutex
	parts map[int32][]Entry
	meta  map[int32][]memMeta // per record: producer, transactional, marker
	fail  error
}

// memMeta is what a memLog record's batch says of it.
type memMeta struct {
	producerID    int64
	transactional bool
	marker        bool
	commit        bool
}

func newMemLog() *memLog { return &memLog{parts: map[int32][]Entry{}, meta: map[int32][]memMeta{}} }

func (l *memLog) AppendTxn(ctx context.Context, p int32, _ string, producerID int64, epoch int16, entries []Entry) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return 0, l.fail
	}
	l.pad(p)
	base := int64(len(l.parts[p]))
	l.parts[p] = append(l.parts[p], entries...)
	for range entries {
		l.meta[p] = append(l.meta[p], memMeta{producerID: producerID, transactional: true})
	}
	return base, nil
}

// marker appends a COMMIT or ABORT marker of a producer.
func (l *memLog) marker(p int32, producerID int64, commit bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pad(p)
	l.parts[p] = append(l.parts[p], Entry{})
	l.meta[p] = append(l.meta[p], memMeta{producerID: producerID, transactional: true, marker: true, commit: commit})
}

// pad gives the plain records appended so far their meta.
func (l *memLog) pad(p int32) {
	for len(l.meta[p]) < len(l.parts[p]) {
		l.meta[p] = append(l.meta[p], memMeta{producerID: -1})
	}
}

func (l *memLog) Append(ctx context.Context, p int32, entries []Entry) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail != nil {
		return 0, l.fail
	}
	base := int64(len(l.parts[p]))
	l.parts[p] = append(l.parts[p], entries...)
	return base, nil
}

func (l *memLog) Load(ctx context.Context, p int32, fn func(LogRecord) error) error {
	l.mu.Lock()
	l.pad(p)
	recs := append([]Entry(nil), l.parts[p]...)
	meta := append([]memMeta(nil), l.meta[p]...)
	l.mu.Unlock()
	for i, e := range recs {
		m := meta[i]
		r := LogRecord{Offset: int64(i), Key: e.Key, Value: e.Value, ProducerID: m.producerID,
			Transactional: m.transactional, Marker: m.marker, Commit: m.commit}
		if m.marker {
			r.Key, r.Value = nil, nil
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

func (l *memLog) records(p int32) []Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Entry(nil), l.parts[p]...)
}

const testPartitions = 3

// fakeClock is a settable clock for expiry tests.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) add(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func testConfig() Config {
	return Config{
		MinSessionTimeout: 10 * time.Millisecond, MaxSessionTimeout: time.Minute,
		InitialRebalanceDelay: 0, MaxSize: 5, OffsetMetadataMaxBytes: 4096,
		OffsetsRetention: 7 * 24 * time.Hour, CommitTimeout: 5 * time.Second,
		PartitionCount: func() (int32, bool) { return testPartitions, true },
	}
}

// newTestCoordinator leads every partition of a memLog and waits for the
// loads.
func newTestCoordinator(t *testing.T, l *memLog, cfg Config) *Coordinator {
	t.Helper()
	c := New(cfg, l)
	t.Cleanup(c.Close)
	for p := int32(0); p < testPartitions; p++ {
		c.Elect(p, 0)
	}
	waitFor(t, "partitions loaded", func() bool {
		_, err := c.shardFor("any")
		return err == nil && allLoaded(c)
	})
	return c
}

func allLoaded(c *Coordinator) bool {
	for _, s := range c.allShards() {
		s.mu.Lock()
		ok := s.loaded
		s.mu.Unlock()
		if !ok {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond) // poll interval
	}
}

// joiner runs JoinGroup in the background.
func join(c *Coordinator, version int16, group, member string, instance *string, session time.Duration, protos ...string) chan *kmsg.JoinGroupResponse {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = version
	req.Group, req.MemberID, req.InstanceID = group, member, instance
	req.SessionTimeoutMillis = int32(session.Milliseconds())
	req.RebalanceTimeoutMillis = int32((2 * time.Second).Milliseconds())
	req.ProtocolType = "consumer"
	for _, p := range protos {
		req.Protocols = append(req.Protocols, kmsg.JoinGroupRequestProtocol{Name: p, Metadata: []byte("meta-" + p)})
	}
	out := make(chan *kmsg.JoinGroupResponse, 1)
	go func() {
		r, err := c.JoinGroup(context.Background(), JoinRequest{JoinGroupRequest: req, ClientID: "cli", ClientHost: "/127.0.0.1"})
		r.ErrorCode = code(err)
		out <- r
	}()
	return out
}

func recv[T any](t *testing.T, ch chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no response within 10 s")
		panic("unreachable")
	}
}

// joinNew joins with an empty member id at v5: MEMBER_ID_REQUIRED, then
// the rejoin with the id; returns the channel of the second join.
func joinNew(t *testing.T, c *Coordinator, group string, session time.Duration, protos ...string) chan *kmsg.JoinGroupResponse {
	t.Helper()
	first := recv(t, join(c, 5, group, "", nil, session, protos...))
	if first.ErrorCode != kerr.MemberIDRequired.Code || first.MemberID == "" {
		t.Fatalf("first join: %v, member %q", kerr.ErrorForCode(first.ErrorCode), first.MemberID)
	}
	return join(c, 5, group, first.MemberID, nil, session, protos...)
}

func syncGroup(c *Coordinator, group, member string, gen int32, assignments map[string][]byte) chan *kmsg.SyncGroupResponse {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group, req.MemberID, req.Generation = group, member, gen
	pt, proto := "consumer", "range"
	req.ProtocolType, req.Protocol = &pt, &proto
	for id, a := range assignments {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: a})
	}
	out := make(chan *kmsg.SyncGroupResponse, 1)
	go func() {
		r, err := c.SyncGroup(context.Background(), req)
		r.ErrorCode = code(err)
		out <- r
	}()
	return out
}

func heartbeat(c *Coordinator, group, member string, gen int32) int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = 4
	req.Group, req.MemberID, req.Generation = group, member, gen
	return code(c.Heartbeat(req))
}

// code is err's Kafka error code (the api layer's job in the broker).
func code(err error) int16 {
	if err == nil {
		return 0
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}
