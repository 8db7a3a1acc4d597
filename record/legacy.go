package record

import (
	"encoding/binary"
	"hash/crc32"
)

// legacyHeader is offset(8) + size(4) + crc(4) + magic(1) + attributes(1).
const legacyHeader = 18

// IsValidLegacyMessage reports whether buf starts with a complete magic 0/1
// message whose CRC-32 (IEEE, over magic..end) matches. Log recovery uses it
// to tell real legacy data, which must not be truncated away, from a torn
// tail whose magic byte happens to be 0 or 1.
func IsValidLegacyMessage(buf []byte) bool {
	if len(buf) < legacyHeader {
		return false
	}
	size := int32(binary.BigEndian.Uint32(buf[lengthPos:]))
	if size < minSizeField || int64(len(buf)) < int64(size)+LogOverhead {
		return false
	}
	magic := buf[magicPos]
	if magic > 1 {
		return false
	}
	stored := binary.BigEndian.Uint32(buf[LogOverhead:])
	return crc32.ChecksumIEEE(buf[magicPos:LogOverhead+int(size)]) == stored
}
