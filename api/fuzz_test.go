package api

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/metacache"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/netserver"
	"github.com/kbroker/kbroker/replica"
)

// tempLogs is a partition.Logs in one temporary directory.
type tempLogs struct {
	dir  string
	mu   sync.Mutex
	logs map[model.TopicPartition]*commitlog.Log
}

func (l *tempLogs) GetOrCreateLog(tp model.TopicPartition, _ model.TopicID) (*commitlog.Log, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lg, ok := l.logs[tp]; ok {
		return lg, nil
	}
	lg, err := commitlog.Open(filepath.Join(l.dir, commitlog.DirName(tp)), commitlog.Options{Config: commitlog.DefaultConfig(), HadCleanShutdown: true})
	if err == nil {
		l.logs[tp] = lg
	}
	return lg, err
}

func (l *tempLogs) DeleteLog(tp model.TopicPartition) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lg, ok := l.logs[tp]; ok {
		delete(l.logs, tp)
		return lg.Close()
	}
	return nil
}

// newTestHandler is a handler of broker 1 (not the controller) that leads
// t-0, with every dependency real except ZooKeeper (admin requests answer
// NOT_CONTROLLER before they would need it).
func newTestHandler(t testing.TB) *Handler {
	logs := &tempLogs{dir: t.TempDir(), logs: map[model.TopicPartition]*commitlog.Log{}}
	rm := replica.New(replica.Options{LocalID: 1, Logs: logs})
	t.Cleanup(func() {
		rm.Close()
		for _, l := range logs.logs {
			_ = l.Close()
		}
	})
	cache := metacache.New()
	state := model.LeaderAndISR{Leader: 1, ISR: []model.BrokerID{1}}
	cache.Apply(metacache.Update{ControllerID: 2, ControllerEpoch: 1,
		Brokers:    []model.Broker{{ID: 1, Endpoints: []model.Endpoint{{Listener: "PLAINTEXT", Host: "127.0.0.1", Port: 9092, SecurityProtocol: "PLAINTEXT"}}}},
		Partitions: []metacache.PartitionUpdate{{Topic: "t", Partition: 0, PartitionInfo: metacache.PartitionInfo{LeaderAndISR: state, Replicas: []model.BrokerID{1}}}},
		TopicIDs:   map[string]model.TopicID{"t": {1}},
	})
	lai := kmsg.NewPtrLeaderAndISRRequest()
	lai.Version, lai.ControllerID, lai.ControllerEpoch, lai.BrokerEpoch = 7, 2, 1, -1
	ts := kmsg.NewLeaderAndISRRequestTopicState()
	ts.Topic, ts.TopicID = "t", [16]byte{1}
	ps := kmsg.NewLeaderAndISRRequestTopicPartition()
	ps.Topic, ps.Leader, ps.ISR, ps.Replicas, ps.ControllerEpoch = "t", 1, []int32{1}, []int32{1}, 1
	ts.PartitionStates = append(ts.PartitionStates, ps)
	lai.TopicStates = append(lai.TopicStates, ts)
	if _, err := rm.LeaderAndIsr(lai); err != nil {
		t.Fatal(err)
	}
	none := func(context.Context, string) ([]ConfigEntry, error) { return nil, nil }
	return New(Deps{BrokerID: 1, ClusterID: "c", Cache: cache, Replicas: rm,
		IsController: func() bool { return false }, DescribeTopicConfigs: none, DescribeBrokerConfigs: none,
		DescribeNewTopicConfigs: func(map[string]string) []ConfigEntry { return nil },
		Logger:                  zerolog.Nop()})
}

// FuzzHandle decodes arbitrary request bodies for every advertised key and
// version and hands whatever decodes to the handler: it must not panic, and
// the response must encode.
func FuzzHandle(f *testing.F) {
	for k, r := range versions {
		req := kmsg.RequestForKey(k)
		for v := r.min; v <= r.max; v++ {
			req.SetVersion(v)
			seed := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, uint16(k)), uint16(v))
			f.Add(req.AppendTo(seed))
		}
	}
	h := newTestHandler(f)
	conn := &netserver.Conn{ID: 1, Listener: "PLAINTEXT"}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 4 {
			return
		}
		key, version := int16(binary.BigEndian.Uint16(in)), int16(binary.BigEndian.Uint16(in[2:]))
		r, ok := versions[key]
		if !ok || version < r.min || version > r.max {
			return
		}
		msg := kmsg.RequestForKey(key)
		msg.SetVersion(version)
		if err := msg.ReadFrom(in[4:]); err != nil {
			return
		}
		// Keep waits short: the fuzzer must not block on long polls.
		switch m := msg.(type) {
		case *kmsg.FetchRequest:
			m.MaxWaitMillis = min(m.MaxWaitMillis, 10)
		case *kmsg.ProduceRequest:
			m.TimeoutMillis = min(m.TimeoutMillis, 10)
		case *kmsg.CreateTopicsRequest, *kmsg.DeleteTopicsRequest, *kmsg.CreatePartitionsRequest:
		}
		done := make(chan *netserver.Response, 1)
		go func() {
			done <- h.Handle(context.Background(), &netserver.Request{
				Header: netserver.Header{Key: key, Version: version, ClientID: "fuzz"}, Msg: msg, Conn: conn, Size: int32(len(in)),
			})
		}()
		var resp *netserver.Response
		select {
		case resp = <-done:
		case <-time.After(20 * time.Second):
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("key %d v%d did not answer within 20 s: %+v\n%s", key, version, msg, buf[:n])
		}
		if resp == nil || resp.Msg == nil {
			return // acks=0 produce, or a request the handler closes on
		}
		resp.Msg.SetVersion(version)
		_ = resp.Msg.AppendTo(nil)
	})
}
