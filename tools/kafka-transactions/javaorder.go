package main

import "github.com/kbroker/kbroker/tools/internal/cli"

// javaHash is TopicPartition.hashCode.
func (tp topicPartition) javaHash() int32 { return cli.TopicPartitionHash(tp.topic, tp.partition) }

// hashSetOrder returns the indexes of tps (distinct, in insertion order) in
// the order a java.util.HashSet (or HashMap) built with the default
// capacity iterates them.
func hashSetOrder(tps []topicPartition) []int {
	hashes := make([]int32, len(tps))
	for i, tp := range tps {
		hashes[i] = tp.javaHash()
	}
	return cli.HashSetOrder(hashes)
}
