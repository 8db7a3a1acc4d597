package model

import "unicode/utf16"

// JavaStringHash is Java's String.hashCode: s[0]*31^(n-1) + … + s[n-1]
// over the UTF-16 code units of s (a character outside the Basic
// Multilingual Plane counts as its two surrogates), wrapping at 32 bits.
// Kafka places groups, transactional ids and fetcher threads with it.
func JavaStringHash(s string) int32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return h
}

// JavaAbs is Kafka's Utils.abs: the absolute value, with the smallest
// int32 mapped to 0 (not to itself).
func JavaAbs(n int32) int32 {
	switch {
	case n == -1<<31:
		return 0
	case n < 0:
		return -n
	}
	return n
}
