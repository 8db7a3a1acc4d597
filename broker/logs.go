package broker

import (
	"fmt"
	"sync"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/logdir"
	"github.com/kbroker/kbroker/model"
)

// logDirs spreads partitions over the log directories (log.dirs): an
// existing log is found wherever it is; a new one goes to the directory
// holding the fewest partitions, as Kafka's LogManager.nextLogDirs does.
type logDirs struct {
	mu   sync.Mutex
	dirs []*logdir.Dir
}

func (l *logDirs) find(tp model.TopicPartition) (*logdir.Dir, *commitlog.Log, bool) {
	for _, d := range l.dirs {
		if lg, ok := d.Log(tp); ok {
			return d, lg, true
		}
	}
	return nil, nil, false
}

// GetOrCreateLog implements partition.Logs.
func (l *logDirs) GetOrCreateLog(tp model.TopicPartition, id model.TopicID) (*commitlog.Log, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, _, ok := l.find(tp); ok {
		return d.GetOrCreateLog(tp, id)
	}
	var best *logdir.Dir
	for _, d := range l.dirs {
		if d.Offline() != nil {
			continue
		}
		if best == nil || len(d.Partitions()) < len(best.Partitions()) {
			best = d
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no online log directory for %s", tp)
	}
	return best.GetOrCreateLog(tp, id)
}

// DeleteLog implements partition.Logs.
func (l *logDirs) DeleteLog(tp model.TopicPartition) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, _, ok := l.find(tp); ok {
		return d.DeleteLog(tp)
	}
	return nil
}
