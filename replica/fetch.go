package replica

import (
	"context"
	"reflect"
	"time"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/partition"
)

// FetchPartition is one partition of a Fetch request.
type FetchPartition struct {
	TP     model.TopicPartition
	Params partition.FetchParams // MaxBytes is the partition's limit
}

// FetchResult is one partition's part of the answer.
type FetchResult struct {
	TP model.TopicPartition
	partition.FetchResult
	Err error
}

// Fetch reads the partitions in request order within maxBytes for the
// whole response (the first batch found is returned even when larger,
// KIP-74), and long-polls: while less than minBytes is available, no
// partition has an error and maxWait has not passed, it waits for an append
// or a high-watermark move on one of the partitions and reads again.
func (m *Manager) Fetch(ctx context.Context, parts []FetchPartition, maxBytes, minBytes int, maxWait time.Duration) []FetchResult {
	deadline := time.Now().Add(maxWait)
	for {
		// Subscribe before reading, so a change right after the read wakes us.
		changes := m.changeChannels(parts)
		results, total, failed := m.readAll(parts, maxBytes)
		remaining := time.Until(deadline)
		if failed || total >= minBytes || remaining <= 0 || ctx.Err() != nil {
			return results
		}
		if !waitForChange(ctx, changes, remaining) {
			return results
		}
	}
}

func (m *Manager) readAll(parts []FetchPartition, maxBytes int) ([]FetchResult, int, bool) {
	out := make([]FetchResult, len(parts))
	total := 0
	failed := false
	for i, fp := range parts {
		out[i] = FetchResult{TP: fp.TP}
		p, err := m.leaderPartition(fp.TP)
		if err != nil {
			out[i].Err, failed = err, true
			continue
		}
		params := fp.Params
		params.MaxBytes = max(0, min(params.MaxBytes, maxBytes-total))
		params.MinOneBatch = total == 0
		r, err := p.Read(params)
		out[i].FetchResult = r
		if err != nil {
			out[i].Err, failed = err, true
			continue
		}
		if r.DivergingEpoch != nil {
			failed = true // answer at once, like an error
		}
		total += int(r.Range.Size)
	}
	return out, total, failed
}

// changeChannels returns the Changed channels of the hosted partitions.
func (m *Manager) changeChannels(parts []FetchPartition) []<-chan struct{} {
	var out []<-chan struct{}
	for _, fp := range parts {
		if p, ok := m.Partition(fp.TP); ok {
			out = append(out, p.Changed())
		}
	}
	return out
}

// waitForChange blocks until one of the channels fires, the time is up or
// ctx ends; it reports whether something changed.
func waitForChange(ctx context.Context, changes []<-chan struct{}, d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	cases := []reflect.SelectCase{
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
		{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer.C)},
	}
	for _, ch := range changes {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	chosen, _, _ := reflect.Select(cases)
	return chosen >= 2
}
