package record

import "errors"

var (
	errVarintTooLong = errors.New("varint is too long")
	errShortVarint   = errors.New("buffer ends inside a varint")
)

// readVarint decodes a zig-zag varint of at most 5 bytes (Kafka's int32 varint).
func readVarint(b []byte) (int32, int, error) {
	// Fast paths: most lengths and deltas take one or two bytes.
	if len(b) > 0 && b[0] < 0x80 {
		x := uint32(b[0])
		return int32(x>>1) ^ -int32(x&1), 1, nil
	}
	if len(b) > 1 && b[1] < 0x80 {
		x := uint32(b[0]&0x7f) | uint32(b[1])<<7
		return int32(x>>1) ^ -int32(x&1), 2, nil
	}
	return readVarintSlow(b)
}

func readVarintSlow(b []byte) (int32, int, error) {
	var x uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, errShortVarint
		}
		c := b[i]
		x |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int32(x>>1) ^ -int32(x&1), i + 1, nil
		}
	}
	return 0, 0, errVarintTooLong
}

// readVarlong decodes a zig-zag varint of at most 10 bytes (Kafka's int64 varlong).
func readVarlong(b []byte) (int64, int, error) {
	if len(b) > 0 && b[0] < 0x80 {
		x := uint64(b[0])
		return int64(x>>1) ^ -int64(x&1), 1, nil
	}
	if len(b) > 1 && b[1] < 0x80 {
		x := uint64(b[0]&0x7f) | uint64(b[1])<<7
		return int64(x>>1) ^ -int64(x&1), 2, nil
	}
	if len(b) > 2 && b[2] < 0x80 {
		x := uint64(b[0]&0x7f) | uint64(b[1]&0x7f)<<7 | uint64(b[2])<<14
		return int64(x>>1) ^ -int64(x&1), 3, nil
	}
	return readVarlongSlow(b)
}

func readVarlongSlow(b []byte) (int64, int, error) {
	var x uint64
	for i := 0; i < 10; i++ {
		if i >= len(b) {
			return 0, 0, errShortVarint
		}
		c := b[i]
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(x>>1) ^ -int64(x&1), i + 1, nil
		}
	}
	return 0, 0, errVarintTooLong
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
