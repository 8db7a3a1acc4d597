package replica

import (
	"path/filepath"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/record"
)

// dirLogs is a partition.Logs over one temporary directory.
type dirLogs struct {
	t    *testing.T
	dir  string
	mu   sync.Mutex
	logs map[model.TopicPartition]*commitlog.Log
}

func newDirLogs(t *testing.T) *dirLogs {
	d := &dirLogs{t: t, dir: t.TempDir(), logs: map[model.TopicPartition]*commitlog.Log{}}
	t.Cleanup(func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		for _, l := range d.logs {
			_ = l.Close()
		}
	})
	return d
}

func (d *dirLogs) GetOrCreateLog(tp model.TopicPartition, _ model.TopicID) (*commitlog.Log, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.logs[tp]; ok {
		return l, nil
	}
	l, err := commitlog.Open(filepath.Join(d.dir, commitlog.DirName(tp)), commitlog.Options{Config: commitlog.DefaultConfig(), HadCleanShutdown: true})
	if err != nil {
		return nil, err
	}
	d.logs[tp] = l
	return l, nil
}

func (d *dirLogs) DeleteLog(tp model.TopicPartition) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if l, ok := d.logs[tp]; ok {
		delete(d.logs, tp)
		return l.Close()
	}
	return nil
}

func newManager(t *testing.T, local model.BrokerID) (*Manager, *dirLogs) {
	t.Helper()
	logs := newDirLogs(t)
	m := New(Options{LocalID: local, Logs: logs})
	t.Cleanup(m.Close)
	return m, logs
}

// leaderAndIsr builds a v7 LeaderAndIsr for one partition of topic t.
func leaderAndIsr(controllerEpoch int32, brokerEpoch int64, t string, p int32, leader int32, leaderEpoch int32, isr, replicas []int32) *kmsg.LeaderAndISRRequest {
	req := kmsg.NewPtrLeaderAndISRRequest()
	req.Version = 7
	req.ControllerID = 1
	req.ControllerEpoch = controllerEpoch
	req.BrokerEpoch = brokerEpoch
	ts := kmsg.NewLeaderAndISRRequestTopicState()
	ts.Topic = t
	ts.TopicID = [16]byte{1, 2, 3}
	ps := kmsg.NewLeaderAndISRRequestTopicPartition()
	ps.Topic, ps.Partition, ps.ControllerEpoch = t, p, controllerEpoch
	ps.Leader, ps.LeaderEpoch, ps.ISR, ps.Replicas = leader, leaderEpoch, isr, replicas
	ps.IsNew = true
	ts.PartitionStates = append(ts.PartitionStates, ps)
	req.TopicStates = append(req.TopicStates, ts)
	return req
}

func batch(t *testing.T, values ...string) []byte {
	t.Helper()
	var recs []record.NewRecord
	for _, v := range values {
		recs = append(recs, record.NewRecord{Timestamp: 1_700_000_000_000, Value: []byte(v)})
	}
	b, err := record.Build(record.NewSpec(), recs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
