package group

import "unicode/utf16"

// OffsetsTopic is the internal topic holding committed offsets and group
// metadata.
const OffsetsTopic = "__consumer_offsets"

// javaStringHash is Java's String.hashCode: s[0]*31^(n-1) + … + s[n-1]
// over the UTF-16 code units of s (a character outside the Basic
// Multilingual Plane counts as its two surrogates), wrapping at 32 bits.
func javaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// PartitionFor is the __consumer_offsets partition that holds a group, out
// of n partitions: abs(hashCode(groupID)) % n, where abs maps the smallest
// int32 to 0 as Kafka's Utils.abs does. The coordinator of the group is
// the leader of that partition.
func PartitionFor(groupID string, n int32) int32 {
	h := javaStringHash(groupID)
	switch {
	case h == -1<<31:
		h = 0
	case h < 0:
		h = -h
	}
	return h % n
}
