package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"

	"github.com/kbroker/kbroker/segment"
)

// legacyMessage encodes one magic 0/1 message with its offset and size;
// it returns the bytes and the message's CRC.
func legacyMessage(offset int64, magic, attrs byte, ts int64, key, value []byte) ([]byte, uint32) {
	body := []byte{magic, attrs}
	if magic == 1 {
		body = binary.BigEndian.AppendUint64(body, uint64(ts))
	}
	for _, f := range [][]byte{key, value} {
		if f == nil {
			body = binary.BigEndian.AppendUint32(body, 0xffffffff)
			continue
		}
		body = binary.BigEndian.AppendUint32(body, uint32(len(f)))
		body = append(body, f...)
	}
	crc := crc32.ChecksumIEEE(body)
	out := binary.BigEndian.AppendUint64(nil, uint64(offset))
	out = binary.BigEndian.AppendUint32(out, uint32(4+len(body)))
	out = binary.BigEndian.AppendUint32(out, crc)
	return append(out, body...), crc
}

func TestDumpLegacyMessages(t *testing.T) {
	m1, crc1 := legacyMessage(3, 1, 0, 1234, []byte("k"), []byte("v"))
	m0, crc0 := legacyMessage(4, 0, 0, 0, nil, []byte("v4"))
	// A gzip wrapper (magic 1, LogAppendTime) around two messages whose
	// offsets are relative: the wrapper carries the last absolute offset.
	in5, crc5 := legacyMessage(0, 1, 0, 100, []byte("i5"), []byte("w5"))
	in6, crc6 := legacyMessage(1, 1, 0, 101, []byte("i6"), []byte("w6"))
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(append(append([]byte{}, in5...), in6...))
	zw.Close()
	wrapper, crcW := legacyMessage(6, 1, 0x08|1, 9999, nil, z.Bytes())

	log := append(append(append([]byte{}, m1...), m0...), wrapper...)
	s := &testSegment{dir: t.TempDir(), base: 3}
	writeFile(t, s.path(segment.LogSuffix), log)
	p := s.path(segment.LogSuffix)

	r := runTool(t, "--files", p, "--print-data-log")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{
		"Dumping " + p,
		"Log starting offset: 3",
		fmt.Sprintf("offset: 3 position: 0 CreateTime: 1234 size: 36 magic: 1 compresscodec: none crc: %d isvalid: true", crc1),
		fmt.Sprintf("| offset: 3 CreateTime: 1234 keySize: 1 valueSize: 1 isValid: true crc: %d} key: k payload: v", crc1),
		fmt.Sprintf("offset: 4 position: 36 NoTimestampType: -1 size: 28 magic: 0 compresscodec: none crc: %d isvalid: true", crc0),
		fmt.Sprintf("| offset: 4 NoTimestampType: -1 keySize: -1 valueSize: 2 isValid: true crc: %d} payload: v4", crc0),
		fmt.Sprintf("offset: 6 position: 64 LogAppendTime: 9999 size: %d magic: 1 compresscodec: gzip crc: %d isvalid: true", len(wrapper), crcW),
		fmt.Sprintf("| offset: 5 LogAppendTime: 9999 keySize: 2 valueSize: 2 isValid: true crc: %d} key: i5 payload: w5", crc5),
		fmt.Sprintf("| offset: 6 LogAppendTime: 9999 keySize: 2 valueSize: 2 isValid: true crc: %d} key: i6 payload: w6", crc6),
	})

	// A flipped value byte: the message no longer matches its CRC-32.
	log[len(m1)-1] ^= 0x20
	writeFile(t, p, log)
	r = runTool(t, "--files", p)
	want := fmt.Sprintf("offset: 3 position: 0 CreateTime: 1234 size: 36 magic: 1 compresscodec: none crc: %d isvalid: false", crc1)
	if got := lines(r.stdout); len(got) < 3 || got[2] != want {
		t.Errorf("corrupt legacy message:\n%s", r.stdout)
	}
}
