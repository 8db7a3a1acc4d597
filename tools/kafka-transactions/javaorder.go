package main

import (
	"sort"

	"github.com/kbroker/kbroker/tools/internal/cli"
)

// javaHash is TopicPartition.hashCode: 31 * (31 + partition) +
// topic.hashCode(), in 32-bit arithmetic.
func (tp topicPartition) javaHash() int32 {
	h := 31 + tp.partition
	return 31*h + cli.JavaStringHash(tp.topic)
}

// hashSetOrder returns the indexes of tps (distinct, in insertion order) in
// the order a java.util.HashSet (or HashMap) built with the default
// capacity iterates them: by bucket, insertion order within a bucket.
func hashSetOrder(tps []topicPartition) []int {
	capacity := cli.HashMapCapacity(len(tps), 0)
	buckets := make([]int, len(tps))
	idx := make([]int, len(tps))
	for i, tp := range tps {
		idx[i] = i
		h := uint32(tp.javaHash())
		buckets[i] = int((h ^ h>>16) & uint32(capacity-1))
	}
	sort.SliceStable(idx, func(a, b int) bool { return buckets[idx[a]] < buckets[idx[b]] })
	return idx
}
