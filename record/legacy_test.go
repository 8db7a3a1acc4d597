package record_test

// Legacy message sets (magic 0 and 1): recognised, never parsed as v2.

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kbroker/kbroker/record"
)

// legacyMessage writes one uncompressed magic 0 or 1 message by hand:
// offset int64, size int32, crc uint32 (CRC-32 IEEE over magic..end),
// magic int8, attributes int8, [timestamp int64 for v1], key and value as
// int32-length bytes (-1 for null).
func legacyMessage(t testing.TB, magic byte, key, value []byte) []byte {
	t.Helper()
	var body []byte // from magic to the end
	body = append(body, magic, 0)
	if magic == 1 {
		body = binary.BigEndian.AppendUint64(body, 1_600_000_000_000)
	}
	for _, f := range [][]byte{key, value} {
		if f == nil {
			body = binary.BigEndian.AppendUint32(body, 0xffffffff)
		} else {
			body = binary.BigEndian.AppendUint32(body, uint32(len(f)))
			body = append(body, f...)
		}
	}
	msg := binary.BigEndian.AppendUint64(nil, 7)                  // offset
	msg = binary.BigEndian.AppendUint32(msg, uint32(4+len(body))) // size: crc + body
	msg = binary.BigEndian.AppendUint32(msg, crc32.ChecksumIEEE(body))
	msg = append(msg, body...)

	// Cross-check the hand-written layout with kmsg's.
	var want []byte
	if magic == 0 {
		m := kmsg.MessageV0{Offset: 7, MessageSize: int32(4 + len(body)), CRC: int32(crc32.ChecksumIEEE(body)), Magic: 0, Key: key, Value: value}
		want = m.AppendTo(nil)
	} else {
		m := kmsg.MessageV1{Offset: 7, MessageSize: int32(4 + len(body)), CRC: int32(crc32.ChecksumIEEE(body)), Magic: 1, Timestamp: 1_600_000_000_000, Key: key, Value: value}
		want = m.AppendTo(nil)
	}
	if !bytes.Equal(msg, want) {
		t.Fatalf("hand-built magic %d message\n% x\ndiffers from kmsg's\n% x", magic, msg, want)
	}
	return msg
}

func TestIsValidLegacyMessage(t *testing.T) {
	for _, magic := range []byte{0, 1} {
		for _, kv := range [][2][]byte{{nil, nil}, {[]byte("k"), []byte("value")}, {nil, []byte{}}, {[]byte{}, nil}} {
			msg := legacyMessage(t, magic, kv[0], kv[1])
			if !record.IsValidLegacyMessage(msg) {
				t.Errorf("magic %d key %s value %s: not recognised", magic, describeNullable(kv[0]), describeNullable(kv[1]))
			}
			// Followed by more bytes (the next message) it still is.
			if !record.IsValidLegacyMessage(append(append([]byte{}, msg...), msg...)) {
				t.Errorf("magic %d: not recognised when followed by more data", magic)
			}
			// Any prefix is not a complete message.
			for n := 0; n < len(msg); n++ {
				if record.IsValidLegacyMessage(msg[:n]) {
					t.Errorf("magic %d: prefix of %d bytes recognised", magic, n)
				}
			}
			for pos := range msg {
				bad := append([]byte{}, msg...)
				bad[pos] ^= 0xff
				got := record.IsValidLegacyMessage(bad)
				// The offset is outside the CRC; everything else breaks
				// the size, the magic or the CRC.
				if want := pos < 8; got != want {
					t.Errorf("magic %d, byte %d flipped: valid = %v, want %v", magic, pos, got, want)
				}
			}
		}
	}
	// A v2 batch is not a legacy message.
	if record.IsValidLegacyMessage(mustBuild(t, record.NewSpec(), simpleRecords(1, 1))) {
		t.Error("a v2 batch was recognised as a legacy message")
	}
	// Magic 2 with a matching CRC-32 IEEE is still not a legacy message.
	m2 := legacyMessage(t, 1, []byte("k"), []byte("v"))
	m2[16] = 2
	binary.BigEndian.PutUint32(m2[12:], crc32.ChecksumIEEE(m2[16:]))
	if record.IsValidLegacyMessage(m2) {
		t.Error("magic 2 recognised as a legacy message")
	}
	// A torn tail whose magic byte happens to be 0 with garbage after it.
	junk := rawHeader(40, 28, 0)
	junk[20] = 0x55
	if record.IsValidLegacyMessage(junk) {
		t.Error("garbage with magic 0 recognised")
	}
	// A size field below the v0 minimum (14) with a matching CRC.
	small := make([]byte, 12+13)
	binary.BigEndian.PutUint32(small[8:], 13)
	binary.BigEndian.PutUint32(small[12:], crc32.ChecksumIEEE(small[16:25]))
	if record.IsValidLegacyMessage(small) {
		t.Error("size 13 recognised")
	}
}
