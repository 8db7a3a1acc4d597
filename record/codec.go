package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// xerialMagic opens a snappy payload framed the way snappy-java writes it
// (the Java client); other clients send one raw snappy block.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const (
	xerialHeaderLen = 16 // magic + int32 version + int32 min compatible version
	xerialBlockSize = 32 << 10
	// snappyMaxRatio bounds a raw block's declared length: the densest
	// snappy tag (a 3-byte copy of 64 bytes) expands about 21 times, so a
	// larger claim is corrupt and must not drive an allocation.
	snappyMaxRatio = 32
	// zstdMaxWindow is the largest zstd window accepted (window log 27, the
	// reference decoder's default limit).
	zstdMaxWindow = 1 << 27
	lz4FrameMagic = 0x184D2204
)

var (
	gzipReaders = sync.Pool{}
	zstdReaders = sync.Pool{New: func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			panic(err) // only invalid options fail, and these are constant
		}
		return d
	}}
	zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err)
		}
		return e
	})
)

// openPayload returns a reader of the decompressed records of a compressed
// payload and a function that must be called when the reader is done with.
func openPayload(c Compression, payload []byte) (io.Reader, func(), error) {
	src := bytes.NewReader(payload)
	switch c {
	case CompressionGzip:
		zr, err := newGzipReader(src)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, zr.release, nil
	case CompressionSnappy:
		return newSnappyReader(payload), func() {}, nil
	case CompressionLz4:
		r, err := newLZ4Reader(payload)
		if err != nil {
			return nil, nil, err
		}
		return r, func() {}, nil
	case CompressionZstd:
		d := zstdReaders.Get().(*zstd.Decoder)
		if err := d.Reset(src); err != nil {
			zstdReaders.Put(d)
			return nil, nil, fmt.Errorf("zstd: %w", err)
		}
		return d, func() { _ = d.Reset(nil); zstdReaders.Put(d) }, nil
	}
	return nil, nil, ErrUnknownCodec(c)
}

// Decompress inflates a whole payload. It is meant for tools and tests; the
// broker streams records instead (see Records).
func Decompress(c Compression, payload []byte) ([]byte, error) {
	if c == CompressionNone {
		return payload, nil
	}
	r, done, err := openPayload(c, payload)
	if err != nil {
		return nil, err
	}
	defer done()
	return io.ReadAll(r)
}

// Compress encodes raw record bytes with a codec: gzip, snappy in the xerial
// framing Kafka's Java client writes, lz4 frames of independent 64 KiB blocks
// as Kafka writes them, zstd frames.
func Compress(c Compression, raw []byte) ([]byte, error) {
	switch c {
	case CompressionNone:
		return raw, nil
	case CompressionGzip:
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(raw); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case CompressionSnappy:
		return xerialEncode(raw), nil
	case CompressionLz4:
		var buf bytes.Buffer
		zw := lz4.NewWriter(&buf)
		if err := zw.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.BlockChecksumOption(false), lz4.ChecksumOption(false)); err != nil {
			return nil, err
		}
		if _, err := zw.Write(raw); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case CompressionZstd:
		return zstdEncoder().EncodeAll(raw, nil), nil
	}
	return nil, ErrUnknownCodec(c)
}

// CompressRawSnappy encodes one raw snappy block, the form sarama, franz-go
// and librdkafka send.
func CompressRawSnappy(raw []byte) []byte { return s2.EncodeSnappy(nil, raw) }

func xerialEncode(raw []byte) []byte {
	out := append([]byte{}, xerialMagic...)
	out = binary.BigEndian.AppendUint32(out, 1)
	out = binary.BigEndian.AppendUint32(out, 1)
	for len(raw) > 0 {
		n := min(len(raw), xerialBlockSize)
		block := s2.EncodeSnappy(nil, raw[:n])
		out = binary.BigEndian.AppendUint32(out, uint32(len(block)))
		out = append(out, block...)
		raw = raw[n:]
	}
	return out
}

// snappyReader yields the decoded bytes of a raw snappy block or of an
// xerial-framed sequence of blocks, one block in memory at a time.
type snappyReader struct {
	src    []byte // xerial blocks not yet decoded (nil for a raw block once decoded)
	xerial bool
	raw    bool // src is a single raw block still to decode
	cur    []byte
	err    error
}

func newSnappyReader(payload []byte) *snappyReader {
	if len(payload) >= len(xerialMagic) && bytes.Equal(payload[:len(xerialMagic)], xerialMagic) {
		if len(payload) < xerialHeaderLen {
			return &snappyReader{err: errors.New("snappy: truncated xerial header")}
		}
		return &snappyReader{src: payload[xerialHeaderLen:], xerial: true}
	}
	return &snappyReader{src: payload, raw: true}
}

func decodeSnappyBlock(block []byte) ([]byte, error) {
	n, err := s2.DecodedLen(block)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	if n > snappyMaxRatio*len(block)+64 {
		return nil, fmt.Errorf("snappy: block claims %d bytes from %d", n, len(block))
	}
	out, err := snappy.DecodeStrict(nil, block)
	if err != nil {
		return nil, fmt.Errorf("snappy: %w", err)
	}
	return out, nil
}

func (r *snappyReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		switch {
		case r.raw:
			r.raw = false
			r.cur, r.err = decodeSnappyBlock(r.src)
			r.src = nil
		case r.xerial && len(r.src) > 0:
			if len(r.src) < 4 {
				r.err = errors.New("snappy: truncated xerial block length")
				continue
			}
			n := binary.BigEndian.Uint32(r.src)
			if uint64(n) > uint64(len(r.src)-4) {
				r.err = errors.New("snappy: xerial block overruns the payload")
				continue
			}
			r.cur, r.err = decodeSnappyBlock(r.src[4 : 4+n])
			r.src = r.src[4+n:]
		default:
			r.err = io.EOF
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// gzipReader reads concatenated gzip members the way Java's GZIPInputStream
// does: after a member, bytes that do not start a valid member header are
// ignored instead of failing the stream.
type gzipReader struct {
	src *bytes.Reader
	zr  *gzip.Reader
	eof bool
}

func newGzipReader(src *bytes.Reader) (*gzipReader, error) {
	zr, _ := gzipReaders.Get().(*gzip.Reader)
	var err error
	if zr == nil {
		zr, err = gzip.NewReader(src)
	} else {
		err = zr.Reset(src)
	}
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	return &gzipReader{src: src, zr: zr}, nil
}

func (g *gzipReader) Read(p []byte) (int, error) {
	for {
		if g.eof {
			return 0, io.EOF
		}
		n, err := g.zr.Read(p)
		if err == io.EOF {
			// End of a member: another one follows only if its header parses.
			if g.src.Len() == 0 || g.zr.Reset(g.src) != nil {
				g.eof = true
			} else {
				g.zr.Multistream(false)
			}
			err = nil
			if n == 0 {
				continue
			}
		}
		return n, err
	}
}

func (g *gzipReader) release() { gzipReaders.Put(g.zr) }
