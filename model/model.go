package model

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Offset is the position of a record in a partition log.
type Offset int64

// LeaderEpoch is the epoch of a partition's leadership; it never decreases.
type LeaderEpoch int32

// BrokerID identifies a broker in the cluster (broker.id).
type BrokerID int32

// NoOffset marks an unknown or absent offset, as Kafka's -1.
const NoOffset Offset = -1

// NoLeaderEpoch marks an unknown leader epoch, as Kafka's -1.
const NoLeaderEpoch LeaderEpoch = -1

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// String renders the partition as Kafka names its directory: "<topic>-<partition>".
func (tp TopicPartition) String() string {
	return tp.Topic + "-" + strconv.FormatInt(int64(tp.Partition), 10)
}

// CompareTopicPartitions orders partitions by topic name, then partition
// number (for slices.SortFunc).
func CompareTopicPartitions(a, b TopicPartition) int {
	if c := strings.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// SortTopicPartitions sorts tps by topic name, then partition number.
func SortTopicPartitions(tps []TopicPartition) {
	slices.SortFunc(tps, CompareTopicPartitions)
}
