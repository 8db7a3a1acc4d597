package record

import "errors"

var (
	errVarintTooLong = errors.New("varint is too long")
	errShortVarint   = errors.New("buffer ends inside a varint")
)

// varint32 decodes a zig-zag varint of at most 5 bytes (Kafka's int32
// varint). n is 0 when b ends inside it and -1 when it is longer than 5
// bytes. The one-byte case is small enough to be inlined.
func varint32(b []byte) (int32, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return int32(b[0]>>1) ^ -int32(b[0]&1), 1
	}
	return varint32Slow(b)
}

func varint32Slow(b []byte) (int32, int) {
	var x uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0
		}
		c := b[i]
		x |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int32(x>>1) ^ -int32(x&1), i + 1
		}
	}
	return 0, -1
}

// varint64 decodes a zig-zag varint of at most 10 bytes (Kafka's varlong),
// with varint32's conventions for n.
func varint64(b []byte) (int64, int) {
	if len(b) > 0 && b[0] < 0x80 {
		return int64(b[0]>>1) ^ -int64(b[0]&1), 1
	}
	return varint64Slow(b)
}

func varint64Slow(b []byte) (int64, int) {
	var x uint64
	for i := 0; i < 10; i++ {
		if i >= len(b) {
			return 0, 0
		}
		c := b[i]
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(x>>1) ^ -int64(x&1), i + 1
		}
	}
	return 0, -1
}

// varintErr turns a failed decode's n into an error.
func varintErr(n int) error {
	if n == 0 {
		return errShortVarint
	}
	return errVarintTooLong
}

// appendVarint appends a zig-zag varint.
func appendVarint(b []byte, v int64) []byte {
	x := uint64(v<<1) ^ uint64(v>>63)
	for x >= 0x80 {
		b = append(b, byte(x)|0x80)
		x >>= 7
	}
	return append(b, byte(x))
}
