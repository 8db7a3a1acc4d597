package zkmeta

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/go-zookeeper/zk"
)

// GetTopics lists /brokers/topics, sorted.
func (c *Client) GetTopics(ctx context.Context) ([]string, error) {
	kids, err := c.children(ctx, TopicsPath)
	if errors.Is(err, zk.ErrNoNode) {
		return []string{}, nil
	}
	return kids, err
}

// WatchTopics lists /brokers/topics (sorted) and leaves a one-shot child
// watch on it.
func (c *Client) WatchTopics(ctx context.Context) ([]string, <-chan struct{}, error) {
	return c.childrenW(ctx, TopicsPath)
}

// GetTopic reads /brokers/topics/<topic>; version is its zkVersion; ok is
// false when the topic does not exist.
func (c *Client) GetTopic(ctx context.Context, topic string) (TopicAssignment, int32, bool, error) {
	data, stat, err := c.get(ctx, TopicPath(topic))
	if errors.Is(err, zk.ErrNoNode) {
		return TopicAssignment{}, 0, false, nil
	}
	if err != nil {
		return TopicAssignment{}, 0, false, err
	}
	a, err := ParseTopicAssignment(data)
	if err != nil {
		return TopicAssignment{}, 0, false, fmt.Errorf("topic %s: %w", topic, err)
	}
	return a, stat.Version, true, nil
}

// WatchTopic reads /brokers/topics/<topic> and leaves a one-shot watch on it
// (data watch if present, exists watch if absent).
func (c *Client) WatchTopic(ctx context.Context, topic string) (TopicAssignment, int32, bool, <-chan struct{}, error) {
	data, stat, ch, err := c.getW(ctx, TopicPath(topic))
	if err != nil {
		return TopicAssignment{}, 0, false, nil, err
	}
	if stat == nil {
		return TopicAssignment{}, 0, false, ch, nil
	}
	a, err := ParseTopicAssignment(data)
	if err != nil {
		return TopicAssignment{}, 0, false, ch, fmt.Errorf("topic %s: %w", topic, err)
	}
	return a, stat.Version, true, ch, nil
}

// CreateTopic writes /config/topics/<topic> (set, or created when missing),
// then creates /brokers/topics/<topic> (v3). Not atomic, as in Kafka: the
// topic znode is the commit point. ErrTopicExists when the topic znode
// exists or /admin/delete_topics/<topic> does (still being deleted).
// A zero a.TopicID writes no topic_id; callers should supply one.
func (c *Client) CreateTopic(ctx context.Context, topic string, a TopicAssignment, config map[string]string) error {
	if ok, _, err := c.exists(ctx, DeleteTopicPath(topic)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: %s is marked for deletion", ErrTopicExists, topic)
	}
	if ok, _, err := c.exists(ctx, TopicPath(topic)); err != nil {
		return err
	} else if ok {
		return fmt.Errorf("%w: %s", ErrTopicExists, topic)
	}
	if err := c.setOrCreate(ctx, TopicConfigPath(topic), MarshalEntityConfig(config)); err != nil {
		return err
	}
	data := MarshalTopicAssignment(a)
	var attempts int
	err := c.retry(ctx, func(attempt int) error {
		attempts = attempt
		_, err := c.conn.Create(c.abs(TopicPath(topic)), data, 0, openACL)
		return err
	})
	if errors.Is(err, zk.ErrNodeExists) {
		if attempts > 0 { // perhaps our own create, applied before the connection dropped
			if cur, _, gerr := c.get(ctx, TopicPath(topic)); gerr == nil && bytes.Equal(cur, data) {
				return nil
			}
		}
		return fmt.Errorf("%w: %s", ErrTopicExists, topic)
	}
	if errors.Is(err, zk.ErrNoNode) { // /brokers/topics missing
		if err := c.ensurePath(ctx, TopicsPath); err != nil {
			return err
		}
		err = c.createRecursive(ctx, TopicPath(topic), data, 0)
		if errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("%w: %s", ErrTopicExists, topic)
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("zkmeta: create topic %s: %w", topic, err)
	}
	return nil
}

// setOrCreate sets path's data (any version), creating it (and parents)
// when missing.
func (c *Client) setOrCreate(ctx context.Context, path string, data []byte) error {
	for range 3 {
		_, err := c.set(ctx, path, data, -1)
		if err == nil || !errors.Is(err, zk.ErrNoNode) {
			return err
		}
		err = c.createRecursive(ctx, path, data, 0)
		if err == nil || !errors.Is(err, zk.ErrNodeExists) {
			return err
		}
	}
	return fmt.Errorf("zkmeta: %s keeps appearing and vanishing", path)
}

// SetTopicAssignment rewrites /brokers/topics/<topic> conditionally on
// expectedVersion (-1: any) and returns the new zkVersion. With a fence the
// write is a fenced multi (controller writes); with nil it is a plain
// conditional setData (admin partition addition). BadVersion and NoNode
// come back wrapped (errors.Is ErrBadVersion / ErrNoNode).
func (c *Client) SetTopicAssignment(ctx context.Context, fence *Fence, topic string, a TopicAssignment, expectedVersion int32) (int32, error) {
	data := MarshalTopicAssignment(a)
	path := TopicPath(topic)
	if fence == nil {
		stat, err := c.set(ctx, path, data, expectedVersion)
		if err != nil {
			return 0, err
		}
		return stat.Version, nil
	}
	res, err := c.fencedMulti(ctx, *fence, "set "+path, []any{c.opSet(path, data, expectedVersion)}, nil)
	if err != nil {
		return 0, err
	}
	return res.Responses[0].Stat.Version, nil
}

// GetTopicConfig reads /config/topics/<topic>; missing → empty map.
func (c *Client) GetTopicConfig(ctx context.Context, topic string) (map[string]string, error) {
	return c.GetEntityConfig(ctx, TopicConfigType, topic)
}

// GetEntityConfig reads /config/<entityType>/<name>, e.g. ("brokers",
// "<default>") or ("brokers", "1"); missing → empty map.
func (c *Client) GetEntityConfig(ctx context.Context, entityType, name string) (map[string]string, error) {
	data, _, err := c.get(ctx, EntityConfigPath(entityType, name))
	if errors.Is(err, zk.ErrNoNode) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseEntityConfig(data)
}

// SetEntityConfig writes /config/<entityType>/<name> (created if missing)
// and then the change notification /config/changes/config_change_<seq>
// {"version":2,"entity_path":"<type>/<name>"} that makes every broker
// re-read it (§1.3.10).
func (c *Client) SetEntityConfig(ctx context.Context, entityType, name string, config map[string]string) error {
	if err := c.setOrCreate(ctx, EntityConfigPath(entityType, name), MarshalEntityConfig(config)); err != nil {
		return err
	}
	return c.createRecursive(ctx, ConfigChangePrefix, MarshalConfigChange(entityType, name), zk.FlagSequence)
}

// MarkTopicForDeletion creates /admin/delete_topics/<topic> (null data).
// ErrTopicAlreadyMarked if it exists; ErrNoNode if the topic does not.
func (c *Client) MarkTopicForDeletion(ctx context.Context, topic string) error {
	if ok, _, err := c.exists(ctx, TopicPath(topic)); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("zkmeta: mark %s for deletion: topic does not exist: %w", topic, zk.ErrNoNode)
	}
	var attempts int
	err := c.retry(ctx, func(attempt int) error {
		attempts = attempt
		_, err := c.conn.Create(c.abs(DeleteTopicPath(topic)), nil, 0, openACL)
		return err
	})
	if errors.Is(err, zk.ErrNoNode) {
		err = c.createRecursive(ctx, DeleteTopicPath(topic), nil, 0)
	}
	if errors.Is(err, zk.ErrNodeExists) {
		if attempts > 0 {
			return nil // our own create, applied before the connection dropped
		}
		return fmt.Errorf("%w: %s", ErrTopicAlreadyMarked, topic)
	}
	if err != nil {
		return fmt.Errorf("zkmeta: mark %s for deletion: %w", topic, err)
	}
	return nil
}

// WatchTopicDeletions lists /admin/delete_topics (sorted) and leaves a
// one-shot child watch on it.
func (c *Client) WatchTopicDeletions(ctx context.Context) ([]string, <-chan struct{}, error) {
	return c.childrenW(ctx, DeleteTopicsPath)
}

// maxOpsPerMulti keeps a fenced multi well below ZooKeeper's 1 MB
// jute.maxbuffer.
const maxOpsPerMulti = 500

// subtree lists path and all its descendants, children before parents
// (deepest level first). Each level is listed in parallel.
func (c *Client) subtree(ctx context.Context, path string) ([]string, error) {
	ok, _, err := c.exists(ctx, path)
	if err != nil || !ok {
		return nil, err
	}
	levels := [][]string{{path}}
	for {
		level := levels[len(levels)-1]
		kids := make([][]string, len(level))
		errs := make([]error, len(level))
		forEach(len(level), func(i int) {
			kids[i], errs[i] = c.children(ctx, level[i])
			if errors.Is(errs[i], zk.ErrNoNode) {
				errs[i] = nil
			}
		})
		var next []string
		for i, parent := range level {
			if errs[i] != nil {
				return nil, errs[i]
			}
			for _, k := range kids[i] {
				next = append(next, parent+"/"+k)
			}
		}
		if len(next) == 0 {
			break
		}
		levels = append(levels, next)
	}
	var out []string
	for i := len(levels) - 1; i >= 0; i-- {
		out = append(out, levels[i]...)
	}
	return out, nil
}

// fencedDelete deletes paths (children before parents) in fenced multis of
// at most maxOpsPerMulti ops. Nodes that are already gone are fine.
func (c *Client) fencedDelete(ctx context.Context, f Fence, what string, paths []string) error {
	for len(paths) > 0 {
		n := min(len(paths), maxOpsPerMulti)
		chunk := paths[:n]
		ops := make([]any, 0, n)
		for _, p := range chunk {
			ops = append(ops, c.opDelete(p, -1))
		}
		res, err := c.fencedMulti(ctx, f, what, ops, nil)
		if err != nil {
			if errors.Is(err, ErrControllerMoved) || !errors.Is(err, zk.ErrNoNode) || res.Failed < 0 {
				return err
			}
			// One node already gone (a retried multi, or a concurrent
			// delete): drop it and retry the rest of the chunk.
			paths = append(append([]string{}, paths[:res.Failed]...), paths[res.Failed+1:]...)
			continue
		}
		paths = paths[n:]
	}
	return nil
}

// DeleteTopic removes, fenced, /brokers/topics/<topic> with everything under
// it, /config/topics/<topic> and /admin/delete_topics/<topic>, in one multi
// when it fits (else in several, children first). Missing nodes are fine.
func (c *Client) DeleteTopic(ctx context.Context, f Fence, topic string) error {
	paths, err := c.subtree(ctx, TopicPath(topic))
	if err != nil {
		return err
	}
	for _, p := range []string{TopicConfigPath(topic), DeleteTopicPath(topic)} {
		ok, _, err := c.exists(ctx, p)
		if err != nil {
			return err
		}
		if ok {
			paths = append(paths, p)
		}
	}
	return c.fencedDelete(ctx, f, "delete topic "+topic, paths)
}

// DeleteTopicDeletionMarker removes /admin/delete_topics/<topic>, fenced.
// Already gone: nil.
func (c *Client) DeleteTopicDeletionMarker(ctx context.Context, f Fence, topic string) error {
	return c.fencedDelete(ctx, f, "delete "+DeleteTopicPath(topic), []string{DeleteTopicPath(topic)})
}
