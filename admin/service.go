package admin

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/zkmeta"
)

// Service carries out topic administration against ZooKeeper: CreateTopics
// writes the topic's config and assignment znodes (the controller notices
// and creates the partitions), DeleteTopics queues deletions, and
// CreatePartitions rewrites the assignment. It is goroutine-safe.
type Service struct {
	ZK       *zkmeta.Client
	Defaults CreateDefaults
	// ValidateTopicConfig checks a topic's config overrides (names and
	// values); its error message becomes the INVALID_CONFIG message.
	ValidateTopicConfig func(map[string]string) error
	// DeleteTopicEnable is delete.topic.enable.
	DeleteTopicEnable bool
	Logger            zerolog.Logger
}

// zkLookup answers TopicLookup from ZooKeeper.
type zkLookup struct{ zk *zkmeta.Client }

func (l zkLookup) TopicMarkedForDeletion(ctx context.Context, topic string) (bool, error) {
	marked, _, err := l.zk.WatchTopicDeletions(ctx)
	if err != nil {
		return false, err
	}
	for _, t := range marked {
		if t == topic {
			return true, nil
		}
	}
	return false, nil
}

func (l zkLookup) TopicExists(ctx context.Context, topic string) (bool, error) {
	_, _, ok, err := l.zk.GetTopic(ctx, topic)
	return ok, err
}

func (l zkLookup) AllTopics(ctx context.Context) ([]string, error) { return l.zk.GetTopics(ctx) }

// CreateResult is the outcome for one topic of a CreateTopics request.
type CreateResult struct {
	Name              string
	Err               error
	NumPartitions     int32
	ReplicationFactor int16
	TopicID           model.TopicID
	Configs           map[string]string
}

// CreateTopics validates and (unless validateOnly) creates topics. brokers
// are the live brokers the assignment may use; cached tells whether the
// metadata cache already knows a topic.
func (s *Service) CreateTopics(ctx context.Context, topics []CreatableTopic, validateOnly bool, brokers []BrokerMetadata, cached func(string) bool) []CreateResult {
	out := make([]CreateResult, len(topics))
	var names []string
	for _, t := range topics {
		names = append(names, t.Name)
	}
	dup := RepeatedNames(names)
	env := CreateTopicEnv{Defaults: s.Defaults, AliveBrokers: brokers, Cached: cached, Lookup: zkLookup{s.ZK}}
	for i, t := range topics {
		out[i] = CreateResult{Name: t.Name, NumPartitions: -1, ReplicationFactor: -1}
		if dup[t.Name] {
			out[i].Err = ErrDuplicateCreateTopic()
			continue
		}
		a, err := PrepareCreateTopic(ctx, t, env)
		if err != nil {
			out[i].Err = err
			continue
		}
		cfg := map[string]string{}
		for _, c := range t.Configs {
			if c.Value != nil {
				cfg[c.Name] = *c.Value
			}
		}
		if s.ValidateTopicConfig != nil {
			if err := s.ValidateTopicConfig(cfg); err != nil {
				out[i].Err = newError(kerr.InvalidConfig, err.Error())
				continue
			}
		}
		out[i].NumPartitions = int32(len(a))
		out[i].ReplicationFactor = int16(len(a[0]))
		out[i].Configs = cfg
		if validateOnly {
			continue
		}
		var id model.TopicID
		if _, err := rand.Read(id[:]); err != nil {
			out[i].Err = err
			continue
		}
		ta := zkmeta.TopicAssignment{Partitions: map[int32][]model.BrokerID(a), TopicID: id}
		if err := s.ZK.CreateTopic(ctx, t.Name, ta, cfg); err != nil {
			if errors.Is(err, zkmeta.ErrTopicExists) {
				out[i].Err = ErrTopicExists(t.Name)
			} else {
				out[i].Err = err
			}
			continue
		}
		out[i].TopicID = id
		s.Logger.Info().Str("topic", t.Name).Int32("partitions", out[i].NumPartitions).Int16("replicationFactor", out[i].ReplicationFactor).Msg("topic created")
	}
	return out
}

// DeleteTopic queues a topic for deletion (/admin/delete_topics/<t>).
func (s *Service) DeleteTopic(ctx context.Context, topic string) error {
	_, _, ok, err := s.ZK.GetTopic(ctx, topic)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("topic %s does not exist: %w", topic, kerr.UnknownTopicOrPartition)
	}
	if err := s.ZK.MarkTopicForDeletion(ctx, topic); err != nil && !errors.Is(err, zkmeta.ErrTopicAlreadyMarked) {
		return err
	}
	s.Logger.Info().Str("topic", topic).Msg("topic queued for deletion")
	return nil
}

// CreatePartitions adds partitions to a topic (unless validateOnly).
func (s *Service) CreatePartitions(ctx context.Context, t CreatePartitionsTopic, validateOnly bool, brokers []BrokerMetadata, deleting func(string) bool) error {
	if deleting != nil && deleting(t.Name) {
		return ErrQueuedForDeletion()
	}
	a, version, ok, err := s.ZK.GetTopic(ctx, t.Name)
	if err != nil {
		return err
	}
	current := TopicReplicas{Partitions: a.Partitions, Adding: a.Adding, Removing: a.Removing}
	if !ok {
		current = TopicReplicas{}
	}
	added, err := PlanCreatePartitions(t, current, brokers, nil)
	if err != nil || validateOnly {
		return err
	}
	for p, r := range added {
		a.Partitions[p] = r
	}
	if _, err := s.ZK.SetTopicAssignment(ctx, nil, t.Name, a, version); err != nil {
		return err
	}
	s.Logger.Info().Str("topic", t.Name).Int32("count", t.Count).Msg("partitions added")
	return nil
}
