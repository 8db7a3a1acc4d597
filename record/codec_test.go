package record_test

// Codecs: Compress output decodes with the codec libraries, Decompress and
// the record iterator read what the libraries and the clients write, and
// broken payloads fail the way Kafka fails them.

import (
	"bytes"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kbroker/kbroker/record"
)

func codecInputs() map[string][]byte {
	return map[string][]byte{
		"empty":      {},
		"one byte":   {42},
		"text":       bytes.Repeat([]byte("kafka record batch "), 1000),
		"random 1M":  pseudoRandom(20, 1<<20),
		"zeros 300K": make([]byte, 300<<10),
		"32K+1":      pseudoRandom(21, 32<<10+1),
		"64K":        pseudoRandom(22, 64<<10),
	}
}

func TestCompressRoundTrip(t *testing.T) {
	for name, in := range codecInputs() {
		for _, c := range allCodecs {
			out, err := record.Compress(c, in)
			if err != nil {
				t.Fatalf("%s/%v: Compress: %v", name, c, err)
			}
			if c == record.CompressionNone && !bytes.Equal(out, in) {
				t.Errorf("%s: Compress(none) changed the bytes", name)
			}
			if c != record.CompressionNone {
				if got := oracleDecompress(t, int16(c), out); !bytes.Equal(got, in) {
					t.Errorf("%s/%v: codec library decodes %d bytes, want %d", name, c, len(got), len(in))
				}
			}
			if got, err := record.Decompress(c, out); err != nil || !bytes.Equal(got, in) {
				t.Errorf("%s/%v: Decompress: %d bytes, %v", name, c, len(got), err)
			}
		}
		raw := record.CompressRawSnappy(in)
		if got, err := s2.Decode(nil, raw); err != nil || !bytes.Equal(got, in) {
			t.Errorf("%s: CompressRawSnappy does not decode with s2: %v", name, err)
		}
		if got, err := record.Decompress(record.CompressionSnappy, raw); err != nil || !bytes.Equal(got, in) {
			t.Errorf("%s: Decompress(raw snappy): %d bytes, %v", name, len(got), err)
		}
		for _, enc := range allEncodings[1:] {
			p := oracleCompress(t, enc, in)
			if got, err := record.Decompress(record.Compression(enc.codecID()), p); err != nil || !bytes.Equal(got, in) {
				t.Errorf("%s: Decompress(%v written by the library): %d bytes, %v", name, enc, len(got), err)
			}
		}
	}
}

// TestXerialBlocks: Compress writes 32 KiB xerial blocks, each a raw snappy
// block with a big-endian length, as snappy-java does.
func TestXerialBlocks(t *testing.T) {
	in := pseudoRandom(30, 100<<10)
	out, err := record.Compress(record.CompressionSnappy, in)
	if err != nil {
		t.Fatal(err)
	}
	p := out[16:]
	var got []byte
	blocks := 0
	for len(p) > 0 {
		n := binary.BigEndian.Uint32(p)
		blk, err := s2.Decode(nil, p[4:4+n])
		if err != nil {
			t.Fatalf("block %d: %v", blocks, err)
		}
		if len(blk) > 32<<10 {
			t.Errorf("block %d holds %d bytes, more than 32 KiB", blocks, len(blk))
		}
		got = append(got, blk...)
		p = p[4+n:]
		blocks++
	}
	if blocks != 4 || !bytes.Equal(got, in) {
		t.Errorf("%d blocks, %d bytes", blocks, len(got))
	}
}

func TestDecompressFaults(t *testing.T) {
	// The good payloads hold one valid record, so that a fault in their
	// tail shows when the iterator checks for bytes after the last record.
	rec := encodeKmsgRecord(seqRecords(1)[0])
	lz4Frame := oracleCompress(t, encLz4, rec)
	dependent := append([]byte{}, lz4Frame...)
	dependent[4] &^= 0x20
	var bomb []byte
	bomb = binary.AppendUvarint(bomb, 1<<30) // a raw snappy block claiming 1 GiB
	bomb = append(bomb, 0xfe, 0xff, 0xff, 0x00)
	for _, c := range []struct {
		name  string
		codec record.Compression
		p     []byte
	}{
		{"gzip not gzip", record.CompressionGzip, []byte("plain text")},
		{"gzip empty", record.CompressionGzip, nil},
		{"lz4 bad magic", record.CompressionLz4, []byte{1, 2, 3, 4, 5, 6, 7}},
		{"lz4 short", record.CompressionLz4, lz4Frame[:4]},
		{"lz4 dependent blocks", record.CompressionLz4, dependent},
		// Cut into the last block: the end mark and content checksum go too
		// (a cut inside the content checksum alone is ignored, as by Kafka).
		{"lz4 truncated", record.CompressionLz4, lz4Frame[:len(lz4Frame)-9]},
		{"zstd not zstd", record.CompressionZstd, []byte("not zstd at all")},
		{"snappy raw garbage", record.CompressionSnappy, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"snappy raw claims 1 GiB", record.CompressionSnappy, bomb},
		{"xerial header only 8 bytes", record.CompressionSnappy, []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0}},
		{"xerial block overruns", record.CompressionSnappy, append(oracleCompress(t, encSnappyXerial, rec), 0, 0, 1, 0, 1)},
		{"xerial short block length", record.CompressionSnappy, append(oracleCompress(t, encSnappyXerial, rec), 0, 0)},
		{"unknown codec", 5, []byte("x")},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := record.Decompress(c.codec, c.p)
			if err == nil {
				t.Errorf("Decompress succeeded")
			}
			// Inside a batch the same payloads are UNKNOWN_SERVER_ERROR (Kafka's
			// KafkaException "Failed to decompress record stream" or
			// IllegalArgumentException for an unknown codec).
			b := oracleBatchRaw(t, plainHeader(1, now), encNone, c.p)
			putI16(b, posAttributes, int16(c.codec))
			fixCRC(b)
			_, err = readRecords(b)
			wantCode(t, err, kerr.UnknownServerError)
			_, err = record.Batch(b).ValidateAsLeader(rules())
			wantCode(t, err, kerr.UnknownServerError)
		})
	}
	if _, err := record.Compress(7, []byte("x")); err == nil {
		t.Error("Compress(7) succeeded")
	}
}

// TestGzipConcatenatedMembers: Java's GZIPInputStream reads concatenated
// members, so a payload of two gzip members holds all their records.
func TestGzipConcatenatedMembers(t *testing.T) {
	recs := seqRecords(4)
	var first, second []byte
	for i, r := range recs {
		if i < 2 {
			first = append(first, encodeKmsgRecord(r)...)
		} else {
			second = append(second, encodeKmsgRecord(r)...)
		}
	}
	payload := append(oracleCompress(t, encGzip, first), oracleCompress(t, encGzip, second)...)
	h := plainHeader(4, now)
	h.Attributes = 1
	h.Records = payload
	h.Magic = 2
	h.Length = int32(49 + len(payload))
	b := h.AppendTo(nil)
	fixCRC(b)
	got, err := readRecords(b)
	if err != nil {
		t.Fatal(err)
	}
	compareRecords(t, got, recs)
}

// TestXerialManySmallBlocks: an xerial stream split into tiny blocks by
// hand (one record per block) reads back whole.
func TestXerialManySmallBlocks(t *testing.T) {
	recs := seqRecords(20)
	payload := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}
	for _, r := range recs {
		enc := encodeKmsgRecord(r)
		// Split each record across two blocks to cross block boundaries mid-record.
		for _, part := range [][]byte{enc[:len(enc)/2], enc[len(enc)/2:]} {
			blk := s2.EncodeSnappy(nil, part)
			payload = binary.BigEndian.AppendUint32(payload, uint32(len(blk)))
			payload = append(payload, blk...)
		}
	}
	h := plainHeader(len(recs), now)
	h.Attributes = 2
	h.Records = payload
	h.Magic = 2
	h.Length = int32(49 + len(payload))
	b := h.AppendTo(nil)
	fixCRC(b)
	got, err := readRecords(b)
	if err != nil {
		t.Fatal(err)
	}
	compareRecords(t, got, recs)
}

// TestZstdWindowLimit: zstd-jni refuses frames whose window exceeds 2^27
// (ZSTD_WINDOWLOG_LIMIT_DEFAULT), which Kafka answers UNKNOWN_SERVER_ERROR;
// 2^27 itself decodes. The window descriptor of a small frame is rewritten
// by hand (no checksum covers it).
func TestZstdWindowLimit(t *testing.T) {
	raw := encodeKmsgRecord(seqRecords(1)[0])
	zw, err := zstd.NewWriter(nil, zstd.WithSingleSegment(false), zstd.WithEncoderCRC(false))
	if err != nil {
		t.Fatal(err)
	}
	frame := zw.EncodeAll(raw, nil)
	if frame[4] != 0 {
		t.Fatalf("frame header descriptor %#02x, want 0 (no single segment, no checksum, no content size)", frame[4])
	}
	for _, c := range []struct {
		windowLog int
		ok        bool
	}{{20, true}, {27, true}, {28, false}, {31, false}} {
		p := append([]byte{}, frame...)
		p[5] = byte(c.windowLog-10) << 3
		b := oracleBatchRaw(t, plainHeader(1, now), encNone, p)
		putI16(b, posAttributes, 4)
		fixCRC(b)
		got, err := readRecords(b)
		if c.ok {
			if err != nil || len(got) != 1 {
				t.Errorf("window log %d: %d records, %v", c.windowLog, len(got), err)
			}
			continue
		}
		wantCode(t, err, kerr.UnknownServerError)
	}
}

// trailingPayload is a one-record batch whose compressed payload is p.
func trailingPayload(t *testing.T, codec int16, p []byte) record.Batch {
	t.Helper()
	b := oracleBatchRaw(t, plainHeader(1, now), encNone, p)
	putI16(b, posAttributes, codec)
	fixCRC(b)
	return b
}

// TestGzipTrailingGarbage: java.util.zip.GZIPInputStream.readTrailer tries
// to read another member header after each member and, when that header is
// malformed, ignores the rest ("ignore any malformed, do nothing") and
// reports the end of the stream. So Kafka accepts a gzip payload followed by
// bytes that do not start a gzip member.
func TestGzipTrailingGarbage(t *testing.T) {
	raw := encodeKmsgRecord(seqRecords(1)[0])
	for _, junk := range [][]byte{{0}, {1, 2, 3}, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}} {
		b := trailingPayload(t, 1, append(oracleCompress(t, encGzip, raw), junk...))
		if got, err := readRecords(b); err != nil || len(got) != 1 {
			t.Errorf("junk % x: %d records, %v", junk, len(got), err)
		}
	}
}

// TestLz4AfterEndMark: Kafka's Lz4BlockInputStream.readBlock stops at the
// end mark, skips the content checksum without verifying it ("TODO: verify
// this content checksum") and returns -1 from then on, ignoring any bytes
// after the frame.
func TestLz4AfterEndMark(t *testing.T) {
	raw := encodeKmsgRecord(seqRecords(1)[0])
	frame := oracleCompress(t, encLz4, raw) // content checksum on
	if frame[4]&0x04 == 0 {
		t.Fatal("oracle frame has no content checksum")
	}
	badSum := append([]byte{}, frame...)
	badSum[len(badSum)-1] ^= 0xff
	for name, p := range map[string][]byte{
		"junk after the frame":   append(append([]byte{}, frame...), 1, 2, 3),
		"wrong content checksum": badSum,
	} {
		if got, err := readRecords(trailingPayload(t, 3, p)); err != nil || len(got) != 1 {
			t.Errorf("%s: %d records, %v", name, len(got), err)
		}
	}
}

// xxh32 is XXH32 with seed 0, for the lz4 frame header checksum.
func xxh32(b []byte) uint32 {
	var p1, p2, p3, p4, p5 uint32 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
	rotl := func(x uint32, r uint) uint32 { return x<<r | x>>(32-r) }
	n := len(b)
	var h uint32
	if n >= 16 {
		v1, v2, v3, v4 := p1+p2, p2, uint32(0), -p1
		round := func(v, in uint32) uint32 { return rotl(v+in*p2, 13) * p1 }
		for ; len(b) >= 16; b = b[16:] {
			v1 = round(v1, binary.LittleEndian.Uint32(b))
			v2 = round(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = round(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = round(v4, binary.LittleEndian.Uint32(b[12:]))
		}
		h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)
	} else {
		h = p5
	}
	h += uint32(n)
	for ; len(b) >= 4; b = b[4:] {
		h = rotl(h+binary.LittleEndian.Uint32(b)*p3, 17) * p4
	}
	for _, c := range b {
		h = rotl(h+uint32(c)*p5, 11) * p1
	}
	h ^= h >> 15
	h *= p2
	h ^= h >> 13
	h *= p3
	h ^= h >> 16
	return h
}

// TestLz4DependentBlocks: Kafka's reader refuses frames without the block
// independence flag (FLG.validate: "Dependent block stream is
// unsupported"), a RuntimeException answered UNKNOWN_SERVER_ERROR. The flag
// is cleared and the header checksum recomputed, so only the flag is wrong.
func TestLz4DependentBlocks(t *testing.T) {
	raw := encodeKmsgRecord(seqRecords(1)[0])
	frame := oracleCompress(t, encLz4, raw)
	// Frame descriptor: FLG, BD, [content size 8], [dict id 4], HC.
	descLen := 2
	if frame[4]&0x08 != 0 {
		descLen += 8
	}
	if frame[4]&0x01 != 0 {
		descLen += 4
	}
	desc := frame[4 : 4+descLen]
	if hc := byte(xxh32(desc) >> 8); hc != frame[4+descLen] {
		t.Fatalf("oracle xxh32 header checksum %#02x, frame has %#02x", hc, frame[4+descLen])
	}
	// The untouched frame decodes.
	if got, err := readRecords(trailingPayload(t, 3, frame)); err != nil || len(got) != 1 {
		t.Fatalf("independent frame: %d records, %v", len(got), err)
	}
	dep := append([]byte{}, frame...)
	dep[4] &^= 0x20
	dep[4+descLen] = byte(xxh32(dep[4:4+descLen]) >> 8)
	_, err := readRecords(trailingPayload(t, 3, dep))
	wantCode(t, err, kerr.UnknownServerError)
	if !strings.Contains(err.Error(), "dependent") {
		t.Errorf("error %q does not say the blocks are dependent", err)
	}
}

// TestSnappyLyingLengthNoAllocation: a raw snappy block whose header claims
// 1 GiB must fail without allocating the claim.
func TestSnappyLyingLengthNoAllocation(t *testing.T) {
	bomb := binary.AppendUvarint(nil, 1<<30)
	bomb = append(bomb, 0xfe, 0xff, 0xff, 0x00)
	for _, p := range [][]byte{bomb, xerialFrame(bomb)} {
		b := trailingPayload(t, 2, p)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := readRecords(b)
		runtime.ReadMemStats(&after)
		wantCode(t, err, kerr.UnknownServerError)
		if n := after.TotalAlloc - before.TotalAlloc; n > 64<<20 {
			t.Errorf("allocated %d bytes for a block of %d bytes", n, len(bomb))
		}
	}
}

// xerialFrame wraps raw snappy blocks in the xerial framing.
func xerialFrame(blocks ...[]byte) []byte {
	out := []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}
	for _, b := range blocks {
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out
}
