package zkmeta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/go-zookeeper/zk"
	"github.com/kbroker/kbroker/model"
)

// parallelism bounds the requests one call keeps in flight (go-zookeeper
// pipelines concurrent requests on its single connection).
const parallelism = 16

// forEach runs fn(i) for i in [0,n) on up to parallelism goroutines and
// returns when all are done.
func forEach(n int, fn func(i int)) {
	if n == 0 {
		return
	}
	workers := min(n, parallelism)
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

func sortedPartitions(states map[int32]model.LeaderAndISR) []int32 {
	ps := make([]int32, 0, len(states))
	for p := range states {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// GetPartitionStates reads the state znodes of the given partitions (all
// partitions under /brokers/topics/<topic>/partitions when partitions is
// nil). PartitionEpoch is each znode's zkVersion; absent partitions are
// omitted.
func (c *Client) GetPartitionStates(ctx context.Context, topic string, partitions []int32) (map[int32]model.LeaderAndISR, error) {
	if partitions == nil {
		kids, err := c.children(ctx, TopicPartitionsPath(topic))
		if errors.Is(err, zk.ErrNoNode) {
			return map[int32]model.LeaderAndISR{}, nil
		}
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			if p, err := strconv.ParseInt(k, 10, 32); err == nil {
				partitions = append(partitions, int32(p))
			}
		}
	}
	states := make([]model.LeaderAndISR, len(partitions))
	found := make([]bool, len(partitions))
	errs := make([]error, len(partitions))
	forEach(len(partitions), func(i int) {
		path := PartitionStatePath(topic, partitions[i])
		data, stat, err := c.get(ctx, path)
		if errors.Is(err, zk.ErrNoNode) {
			return
		}
		if err != nil {
			errs[i] = err
			return
		}
		s, err := ParsePartitionState(data)
		if err != nil {
			errs[i] = fmt.Errorf("%s: %w", path, err)
			return
		}
		s.PartitionEpoch = stat.Version
		states[i], found[i] = s, true
	})
	out := make(map[int32]model.LeaderAndISR, len(partitions))
	for i, p := range partitions {
		if errs[i] != nil {
			return nil, errs[i]
		}
		if found[i] {
			out[p] = states[i]
		}
	}
	return out, nil
}

// CreatePartitionStates creates the state znodes of new partitions, each in
// a multi fenced by f that also creates the missing parents
// (/brokers/topics/<t>/partitions and .../partitions/<p>, null data).
// failed holds the partitions whose state could not be created (e.g.
// ErrNodeExists: already there; ErrNoNode: the topic znode is gone); err is
// ErrControllerMoved (nothing more is written) or an I/O error. The created
// states have PartitionEpoch 0.
func (c *Client) CreatePartitionStates(ctx context.Context, f Fence, topic string, states map[int32]model.LeaderAndISR) (map[int32]error, error) {
	ps := sortedPartitions(states)
	failed := map[int32]error{}
	if len(ps) == 0 {
		return failed, nil
	}
	partsPath := TopicPartitionsPath(topic)
	ok, _, err := c.exists(ctx, partsPath)
	if err != nil {
		return nil, err
	}
	if !ok {
		_, err := c.fencedMulti(ctx, f, "create "+partsPath, []any{c.opCreate(partsPath, nil, 0)}, nil)
		switch {
		case err == nil, errors.Is(err, ErrControllerMoved):
		case errors.Is(err, zk.ErrNodeExists):
			err = nil
		case errors.Is(err, zk.ErrNoNode): // the topic znode is gone
			for _, p := range ps {
				failed[p] = err
			}
			return failed, nil
		}
		if err != nil {
			return nil, err
		}
	}
	errs := make([]error, len(ps))
	forEach(len(ps), func(i int) {
		p := ps[i]
		data := MarshalPartitionState(states[p])
		statePath := PartitionStatePath(topic, p)
		var ops []any
		ok, _, err := c.exists(ctx, PartitionPath(topic, p))
		if err != nil {
			errs[i] = err
			return
		}
		if !ok {
			ops = append(ops, c.opCreate(PartitionPath(topic, p), nil, 0))
		}
		stateIdx := len(ops)
		ops = append(ops, c.opCreate(statePath, data, 0))
		_, errs[i] = c.fencedMulti(ctx, f, "create "+statePath, ops, func(attempt, idx int, err error) bool {
			if attempt == 0 || !errors.Is(err, zk.ErrNodeExists) {
				return false
			}
			// A retried multi: done if the state is the one we wrote.
			cur, _, gerr := c.get(ctx, statePath)
			return gerr == nil && idx <= stateIdx && bytes.Equal(cur, data)
		})
	})
	for i, p := range ps {
		switch {
		case errs[i] == nil:
		case errors.Is(errs[i], ErrControllerMoved):
			return failed, errs[i]
		case errors.Is(errs[i], zk.ErrNodeExists), errors.Is(errs[i], zk.ErrNoNode):
			failed[p] = errs[i]
		default:
			return failed, errs[i]
		}
	}
	return failed, nil
}

// UpdatePartitionStates rewrites existing state znodes, each conditional on
// states[p].PartitionEpoch (the zkVersion the caller read) and fenced by f,
// one multi per partition so that a version conflict on one partition does
// not fail the others. newEpochs has the new zkVersion of every partition
// written; badVersion lists (sorted) the partitions whose znode had another
// version or did not exist: re-read them. err is ErrControllerMoved or an
// I/O error; the maps then hold what was written before it.
func (c *Client) UpdatePartitionStates(ctx context.Context, f Fence, topic string, states map[int32]model.LeaderAndISR) (map[int32]int32, []int32, error) {
	ps := sortedPartitions(states)
	versions := make([]int32, len(ps))
	errs := make([]error, len(ps))
	forEach(len(ps), func(i int) {
		p := ps[i]
		s := states[p]
		data := MarshalPartitionState(s)
		path := PartitionStatePath(topic, p)
		var retriedOK int32 = -1
		res, err := c.fencedMulti(ctx, f, "update "+path, []any{c.opSet(path, data, s.PartitionEpoch)},
			func(attempt, idx int, err error) bool {
				if attempt == 0 || !errors.Is(err, zk.ErrBadVersion) {
					return false
				}
				// A retried multi: done if our write is the one now there.
				cur, stat, gerr := c.get(ctx, path)
				if gerr == nil && stat.Version == s.PartitionEpoch+1 && bytes.Equal(cur, data) {
					retriedOK = stat.Version
					return true
				}
				return false
			})
		switch {
		case err != nil:
			errs[i] = err
		case retriedOK >= 0:
			versions[i] = retriedOK
		default:
			versions[i] = res.Responses[0].Stat.Version
		}
	})
	newEpochs := make(map[int32]int32, len(ps))
	var badVersion []int32
	var firstErr error
	for i, p := range ps {
		switch {
		case errs[i] == nil:
			newEpochs[p] = versions[i]
		case errors.Is(errs[i], ErrControllerMoved):
			if firstErr == nil || !errors.Is(firstErr, ErrControllerMoved) {
				firstErr = errs[i]
			}
		case errors.Is(errs[i], zk.ErrBadVersion), errors.Is(errs[i], zk.ErrNoNode):
			badVersion = append(badVersion, p)
		default:
			if firstErr == nil {
				firstErr = errs[i]
			}
		}
	}
	return newEpochs, badVersion, firstErr
}
