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

// hashMapBucket is HashMap.hash(key) & (capacity-1).
func hashMapBucket(h int32, capacity int) int {
	u := uint32(h)
	u ^= u >> 16
	return int(u & uint32(capacity-1))
}

// HashMapOrder returns the indexes of keys (string keys inserted in the given
// order) in the order a java.util.HashMap iterates them: by bucket, and in
// insertion order within a bucket. initialCapacity is as for
// HashMapCapacity. (Bins of eight or more keys, which Java turns into trees,
// are not modelled; they need dozens of colliding names.)
func HashMapOrder(keys []string, initialCapacity int) []int {
	capacity := HashMapCapacity(len(keys), initialCapacity)
	idx := make([]int, len(keys))
	buckets := make([]int, len(keys))
	for i, k := range keys {
		idx[i] = i
		buckets[i] = hashMapBucket(JavaStringHash(k), capacity)
	}
	sort.SliceStable(idx, func(a, b int) bool { return buckets[idx[a]] < buckets[idx[b]] })
	return idx
}
