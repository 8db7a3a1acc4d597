package netserver

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
)

// PlaceholderPrefix starts every placeholder made by NewPlaceholder.
const PlaceholderPrefix = "\x00kbroker-ph\x00"

// PlaceholderSize is the length of a placeholder made by NewPlaceholder.
const PlaceholderSize = len(PlaceholderPrefix) + 12

// NewPlaceholder returns a fresh marker for FileData.Placeholder: a
// recognisable prefix followed by 12 random bytes, so it cannot occur by
// chance anywhere else in a response.
func NewPlaceholder() []byte {
	p := make([]byte, PlaceholderSize)
	copy(p, PlaceholderPrefix)
	_, _ = rand.Read(p[len(PlaceholderPrefix):]) // never fails (crypto/rand)
	return p
}

// chunk is one piece of an outgoing frame: either bytes or a file range.
type chunk struct {
	data []byte
	file *FileData
}

// spliced is an encoded frame with its file ranges.
type spliced struct {
	chunks []chunk
	length int64 // frame length, without the 4-byte prefix
}

// appendLenPrefix appends the length prefix of a bytes field holding n
// bytes: int32 n (classic) or uvarint n+1 (compact, flexible versions).
func appendLenPrefix(dst []byte, n int64, compact bool) []byte {
	if compact {
		return binary.AppendUvarint(dst, uint64(n)+1)
	}
	return binary.BigEndian.AppendUint32(dst, uint32(n))
}

var errSplice = errors.New("netserver: placeholder splice")

// splice cuts frame (4-byte length prefix, header, body; body starts at
// bodyStart) at each placeholder of files and returns the chunks to send:
// [length prefix + placeholder] is replaced by [length prefix of Size] and
// the file range. The frame's length prefix is rewritten for the result.
func splice(frame []byte, bodyStart int, files []FileData, compact bool) (spliced, error) {
	type hit struct{ pos, file int }
	hits := make([]hit, 0, len(files))
	total := int64(len(frame) - 4)
	for i := range files {
		fd := &files[i]
		ph := fd.Placeholder
		if len(ph) == 0 {
			return spliced{}, fmt.Errorf("%w: file %d has an empty placeholder", errSplice, i)
		}
		if fd.Size < 0 || fd.Offset < 0 || fd.Size > math.MaxInt32 {
			return spliced{}, fmt.Errorf("%w: file %d has range offset %d size %d", errSplice, i, fd.Offset, fd.Size)
		}
		body := frame[bodyStart:]
		at := bytes.Index(body, ph)
		if at < 0 {
			return spliced{}, fmt.Errorf("%w: placeholder of file %d not in the encoded response", errSplice, i)
		}
		if bytes.Contains(body[at+1:], ph) {
			return spliced{}, fmt.Errorf("%w: placeholder of file %d occurs twice", errSplice, i)
		}
		pos := bodyStart + at
		want := appendLenPrefix(nil, int64(len(ph)), compact)
		if pos-len(want) < bodyStart || !bytes.Equal(frame[pos-len(want):pos], want) {
			return spliced{}, fmt.Errorf("%w: placeholder of file %d is not preceded by its %s length prefix",
				errSplice, i, map[bool]string{true: "compact", false: "int32"}[compact])
		}
		newPrefix := appendLenPrefix(nil, fd.Size, compact)
		total += int64(len(newPrefix)-len(want)-len(ph)) + fd.Size
		hits = append(hits, hit{pos: pos, file: i})
	}
	if total > math.MaxInt32 {
		return spliced{}, fmt.Errorf("%w: response of %d bytes exceeds the frame limit", errSplice, total)
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.pos - b.pos })

	out := spliced{length: total, chunks: make([]chunk, 0, 2*len(hits)+1)}
	binary.BigEndian.PutUint32(frame[:4], uint32(total))
	from := 0
	for k, h := range hits {
		fd := &files[h.file]
		ph := fd.Placeholder
		old := len(appendLenPrefix(nil, int64(len(ph)), compact))
		start := h.pos - old
		if start < from {
			return spliced{}, fmt.Errorf("%w: placeholders of files %d and %d overlap", errSplice, hits[k-1].file, h.file)
		}
		// The new prefix is written into a fresh slice: frame bytes
		// before start are kept as they are.
		pre := append(frame[from:start:start], appendLenPrefix(nil, fd.Size, compact)...)
		out.chunks = append(out.chunks, chunk{data: pre})
		out.chunks = append(out.chunks, chunk{file: fd})
		from = h.pos + len(ph)
	}
	if from < len(frame) {
		out.chunks = append(out.chunks, chunk{data: frame[from:]})
	}
	return out, nil
}
