package cli

import (
	"sort"
	"unicode/utf16"
)

// JavaStringHash is java.lang.String.hashCode: s[0]*31^(n-1) + ... over the
// UTF-16 code units, in 32-bit arithmetic.
func JavaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// HashMapCapacity is the table size a java.util.HashMap ends with after n
// insertions: initialCapacity is the constructor's argument, or 0 for the
// no-argument constructor (16). The table doubles whenever the size passes
// three quarters of it.
func HashMapCapacity(n, initialCapacity int) int {
	c := 16
	if initialCapacity > 0 {
		c = 1
		for c < initialCapacity {
			c <<= 1
		}
	}
	for n > c*3/4 {
		c <<= 1
	}
	return c
}

// TopicPartitionHash is org.apache.kafka.common.TopicPartition.hashCode:
// 31 * (31 + partition) + topic.hashCode(), in 32-bit arithmetic.
func TopicPartitionHash(topic string, partition int32) int32 {
	h := 31 + partition
	return 31*h + JavaStringHash(topic)
}

// HashOrder re-sorts idx (indexes into hashes, in iteration order so far)
// into the order a java.util.HashMap or HashSet of the given capacity
// iterates keys with those hashCodes after they were inserted in idx's
// order: by bucket (HashMap.hash(key) & (capacity-1)), insertion order
// within a bucket. Bins of eight or more keys, which Java turns into trees,
// are not modelled.
func HashOrder(hashes []int32, idx []int, capacity int) []int {
	out := append([]int(nil), idx...)
	bucket := func(i int) uint32 {
		u := uint32(hashes[i])
		return (u ^ u>>16) & uint32(capacity-1)
	}
	sort.SliceStable(out, func(a, b int) bool { return bucket(out[a]) < bucket(out[b]) })
	return out
}

// HashSetOrder is the iteration order of a java.util.HashSet built with
// the default capacity from keys with these hashCodes, inserted in order.
func HashSetOrder(hashes []int32) []int {
	return HashOrder(hashes, identity(len(hashes)), HashMapCapacity(len(hashes), 0))
}

// HashMapOrder returns the indexes of keys (string keys inserted in the given
// order) in the order a java.util.HashMap iterates them. initialCapacity is
// as for HashMapCapacity.
func HashMapOrder(keys []string, initialCapacity int) []int {
	hashes := make([]int32, len(keys))
	for i, k := range keys {
		hashes[i] = JavaStringHash(k)
	}
	return HashOrder(hashes, identity(len(keys)), HashMapCapacity(len(keys), initialCapacity))
}

func identity(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
