package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"github.com/pierrec/lz4/v4"
)

// lz4Reader decodes one LZ4 frame the way Kafka's reader does: version 1
// frames of independent blocks, no dictionary, header checksum and block
// checksums verified; reading stops at the end mark, so a content checksum
// and any bytes after the frame are ignored.
type lz4Reader struct {
	src      []byte
	maxBlock int
	blockSum bool
	block    []byte // decoded bytes of the current block not yet read
	buf      []byte
	done     bool
}

var lz4BlockSizes = map[byte]int{4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20}

func newLZ4Reader(p []byte) (*lz4Reader, error) {
	if len(p) < 7 || binary.LittleEndian.Uint32(p) != lz4FrameMagic {
		return nil, errors.New("lz4: stream unsupported (invalid magic bytes)")
	}
	flg, bd := p[4], p[5]
	if flg>>6 != 1 {
		return nil, fmt.Errorf("lz4: frame version %d unsupported", flg>>6)
	}
	if flg&0x03 != 0 {
		return nil, errors.New("lz4: reserved or dictionary bits set in the frame descriptor")
	}
	if flg&0x20 == 0 {
		// Kafka's reader refuses linked blocks; so do we.
		return nil, errors.New("lz4: dependent block streams are unsupported")
	}
	maxBlock, ok := lz4BlockSizes[(bd>>4)&0x07]
	if !ok || bd&0x8f != 0 {
		return nil, fmt.Errorf("lz4: invalid block descriptor 0x%02x", bd)
	}
	descEnd := 6
	if flg&0x08 != 0 { // content size present
		descEnd += 8
	}
	if len(p) <= descEnd {
		return nil, errors.New("lz4: truncated frame descriptor")
	}
	if want := byte(xxh32(p[4:descEnd], 0) >> 8); p[descEnd] != want {
		return nil, errors.New("lz4: stream frame descriptor corrupted")
	}
	return &lz4Reader{src: p[descEnd+1:], maxBlock: maxBlock, blockSum: flg&0x10 != 0}, nil
}

func (r *lz4Reader) Read(p []byte) (int, error) {
	for len(r.block) == 0 {
		if r.done {
			return 0, io.EOF
		}
		if err := r.nextBlock(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.block)
	r.block = r.block[n:]
	return n, nil
}

func (r *lz4Reader) nextBlock() error {
	if len(r.src) < 4 {
		return io.ErrUnexpectedEOF
	}
	word := binary.LittleEndian.Uint32(r.src)
	r.src = r.src[4:]
	if word == 0 {
		r.done = true // end mark: the content checksum is not read
		return nil
	}
	size := int(word & 0x7fffffff)
	if size > r.maxBlock {
		return fmt.Errorf("lz4: block size %d exceeded max: %d", size, r.maxBlock)
	}
	need := size
	if r.blockSum {
		need += 4
	}
	if len(r.src) < need {
		return io.ErrUnexpectedEOF
	}
	data := r.src[:size]
	if r.blockSum && xxh32(data, 0) != binary.LittleEndian.Uint32(r.src[size:]) {
		return errors.New("lz4: block checksum mismatch")
	}
	r.src = r.src[need:]
	if word&0x80000000 != 0 { // stored uncompressed
		r.block = data
		return nil
	}
	if cap(r.buf) < r.maxBlock {
		r.buf = make([]byte, r.maxBlock)
	}
	n, err := lz4.UncompressBlock(data, r.buf[:r.maxBlock])
	if err != nil {
		return fmt.Errorf("lz4: %w", err)
	}
	r.block = r.buf[:n]
	return nil
}

const (
	xxPrime1 uint32 = 2654435761
	xxPrime2 uint32 = 2246822519
	xxPrime3 uint32 = 3266489917
	xxPrime4 uint32 = 668265263
	xxPrime5 uint32 = 374761393
)

// xxh32 is the 32-bit xxHash the LZ4 frame format uses for its checksums.
func xxh32(b []byte, seed uint32) uint32 {
	n := uint32(len(b))
	var h uint32
	if len(b) >= 16 {
		v1, v2, v3, v4 := seed+xxPrime1+xxPrime2, seed+xxPrime2, seed, seed-xxPrime1
		for len(b) >= 16 {
			v1 = xxRound(v1, binary.LittleEndian.Uint32(b))
			v2 = xxRound(v2, binary.LittleEndian.Uint32(b[4:]))
			v3 = xxRound(v3, binary.LittleEndian.Uint32(b[8:]))
			v4 = xxRound(v4, binary.LittleEndian.Uint32(b[12:]))
			b = b[16:]
		}
		h = bits.RotateLeft32(v1, 1) + bits.RotateLeft32(v2, 7) + bits.RotateLeft32(v3, 12) + bits.RotateLeft32(v4, 18)
	} else {
		h = seed + xxPrime5
	}
	h += n
	for len(b) >= 4 {
		h += binary.LittleEndian.Uint32(b) * xxPrime3
		h = bits.RotateLeft32(h, 17) * xxPrime4
		b = b[4:]
	}
	for _, c := range b {
		h += uint32(c) * xxPrime5
		h = bits.RotateLeft32(h, 11) * xxPrime1
	}
	h ^= h >> 15
	h *= xxPrime2
	h ^= h >> 13
	h *= xxPrime3
	h ^= h >> 16
	return h
}

func xxRound(acc, input uint32) uint32 {
	return bits.RotateLeft32(acc+input*xxPrime2, 13) * xxPrime1
}
