package record

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/twmb/franz-go/pkg/kerr"
	"io"
	"slices"
)

// Header is a record header; Value is nil for a null value.
type Header struct {
	Key   string
	Value []byte
}

// Record is one decoded record. For records of a compressed batch, Key,
// Value and header values point into a buffer that the next call to Next
// reuses.
type Record struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte // nil when null
	Value          []byte // nil when null (a tombstone)
	Headers        []Header
	// Size is the encoded size including the length varint.
	Size int
}

// RecordIter walks the records of one batch. Use it as
//
//	it, err := b.Records()
//	...
//	defer it.Close()
//	for it.Next() { r := it.Record() ... }
//	if err := it.Err(); err != nil { ... }
//
// Faults are INVALID_RECORD errors, as Kafka's record iterators raise
// InvalidRecordException; a payload that fails to decompress is INVALID_RECORD
// too (the CRC matched, so the producer sent it that way and a retry cannot
// help).
type RecordIter struct {
	remaining int32
	data      []byte        // uncompressed payload not yet consumed
	stream    *bufio.Reader // decompressed stream, for compressed batches
	release   func()
	buf       []byte
	cur       Record
	err       error
	// skim checks every record's structure without keeping header, key or
	// value bytes (validation needs only the deltas and whether the key is
	// null): headers are not materialised, and compressed records are read
	// without buffering their keys and values, so memory stays bounded
	// whatever a record claims. Key and Value are then nil or empty.
	skim bool
}

// Records starts an iteration over the declared number of records.
func (b Batch) Records() (*RecordIter, error) {
	it := &RecordIter{remaining: b.NumRecords()}
	if it.remaining < 0 {
		return nil, invalid("Found invalid record count %d in magic v2 batch", it.remaining)
	}
	c := b.Compression()
	if c == CompressionNone {
		it.data = b.Payload()
		return it, nil
	}
	if !c.Known() {
		return nil, ErrUnknownCodec(c)
	}
	if it.remaining == 0 {
		return it, nil
	}
	r, release, err := openPayload(c, b.Payload())
	if err != nil {
		return nil, decompressFailure(err)
	}
	it.stream = bufio.NewReaderSize(decompressReader{r}, 4096)
	it.release = release
	return it, nil
}

// Next advances to the next record; it returns false at the end or on error.
func (it *RecordIter) Next() bool {
	if it.err != nil || it.remaining <= 0 {
		return false
	}
	it.remaining--
	var err error
	switch {
	case it.stream == nil:
		err = it.nextInMemory()
	case it.skim:
		err = it.skimStreamed()
	default:
		err = it.nextStreamed()
	}
	if err == nil && it.remaining == 0 {
		// Like Kafka, the fault of bytes left after the declared records is
		// raised before the last record is handed out.
		err = it.ensureNoneRemaining()
	}
	if err != nil {
		it.err = err
		return false
	}
	return true
}

// Record is the current record.
func (it *RecordIter) Record() *Record { return &it.cur }

// Err is the fault that ended the iteration, if any.
func (it *RecordIter) Err() error { return it.err }

// Close returns decompressors to their pools. It is safe to call twice.
func (it *RecordIter) Close() {
	if it.release != nil {
		it.release()
		it.release = nil
	}
}

func (it *RecordIter) nextInMemory() error {
	size, n := varint32(it.data)
	if n == 0 {
		return invalid("Incorrect declared batch size, premature EOF reached")
	}
	if n < 0 {
		return invalid("Found invalid record structure: %v", errVarintTooLong)
	}
	if size < 0 || int(size) > len(it.data)-n {
		return invalid("Invalid record size: expected %d bytes in record payload, but instead the buffer has only %d remaining bytes.", size, len(it.data)-n)
	}
	body := it.data[n : n+int(size)]
	it.data = it.data[n+int(size):]
	return it.parse(body, n+int(size))
}

func (it *RecordIter) nextStreamed() error {
	size, n, err := readStreamVarint(it.stream)
	if err != nil {
		return streamFault(err, "Incorrect declared batch size, premature EOF reached")
	}
	if size < 0 {
		return invalid("Incorrect declared batch size, premature EOF reached")
	}
	// Grow as bytes arrive, so a lying length cannot force a huge allocation.
	it.buf = it.buf[:0]
	for len(it.buf) < int(size) {
		chunk := min(int(size)-len(it.buf), 64<<10)
		start := len(it.buf)
		it.buf = slices.Grow(it.buf, chunk)[:start+chunk]
		if _, err := io.ReadFull(it.stream, it.buf[start:]); err != nil {
			return streamFault(err, fmt.Sprintf("Invalid record size: expected %d bytes in record payload, but the record payload reached EOF.", size))
		}
	}
	return it.parse(it.buf[:size], n+int(size))
}

// present stands for a non-null key or value that was skipped.
var present = []byte{}

// skimStreamed reads the next record of a compressed batch the way
// nextStreamed does, but skips its key, value and header bytes in the
// stream instead of buffering the record.
func (it *RecordIter) skimStreamed() error {
	size, n, err := readStreamVarint(it.stream)
	if err != nil {
		return streamFault(err, "Incorrect declared batch size, premature EOF reached")
	}
	if size < 0 {
		return invalid("Incorrect declared batch size, premature EOF reached")
	}
	sk := skimmer{r: it.stream, left: int64(size), size: size}
	r := &it.cur
	r.Size, r.Headers = n+int(size), r.Headers[:0]
	r.Attributes = int8(sk.readByte())
	r.TimestampDelta = sk.varint(10)
	r.OffsetDelta = int32(sk.varint(5))
	r.Key = sk.nullable()
	r.Value = sk.nullable()
	count := int32(sk.varint(5))
	if sk.err == nil && count < 0 {
		return invalid("Found invalid number of record headers %d", count)
	}
	if sk.err == nil && int64(count) > sk.left {
		return invalid("Found invalid number of record headers. %d is larger than the remaining size of the buffer", count)
	}
	for i := int32(0); i < count && sk.err == nil; i++ {
		klen := int32(sk.varint(5))
		if sk.err == nil && klen < 0 {
			return invalid("Invalid negative header key size %d", klen)
		}
		sk.skip(int64(klen))
		sk.nullable()
	}
	if sk.err != nil {
		return sk.err
	}
	if sk.left != 0 {
		return invalid("Invalid record size: expected to read %d bytes in record payload, but instead read %d", size, int64(size)-sk.left)
	}
	return nil
}

// skimmer reads the fields of one record from a stream, never past the
// record's declared size; the first fault sticks in err.
type skimmer struct {
	r    *bufio.Reader
	left int64
	size int32
	err  error
}

func (s *skimmer) eof() string {
	return fmt.Sprintf("Invalid record size: expected %d bytes in record payload, but the record payload reached EOF.", s.size)
}

// readByte reads one byte of the record.
func (s *skimmer) readByte() byte {
	if s.err != nil {
		return 0
	}
	if s.left < 1 {
		s.err = invalid("Found invalid record structure: record ends early")
		return 0
	}
	c, err := s.r.ReadByte()
	if err != nil {
		s.err = streamFault(err, s.eof())
		return 0
	}
	s.left--
	return c
}

// varint reads a zig-zag varint of at most maxBytes bytes.
func (s *skimmer) varint(maxBytes int) int64 {
	var x uint64
	for i := 0; i < maxBytes; i++ {
		c := s.readByte()
		if s.err != nil {
			return 0
		}
		x |= uint64(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int64(x>>1) ^ -int64(x&1)
		}
	}
	s.err = invalid("Found invalid record structure: %v", errVarintTooLong)
	return 0
}

// skip discards n bytes of the record.
func (s *skimmer) skip(n int64) {
	if s.err != nil || n <= 0 {
		return
	}
	if n > s.left {
		s.err = invalid("Found invalid record structure: a length of %d overruns the record", n)
		return
	}
	if _, err := s.r.Discard(int(n)); err != nil {
		s.err = streamFault(err, s.eof())
		return
	}
	s.left -= n
}

// nullable skips a length-prefixed field and reports whether it was null.
func (s *skimmer) nullable() []byte {
	l := int32(s.varint(5))
	if s.err != nil || l < 0 {
		return nil
	}
	s.skip(int64(l))
	return present
}

func (it *RecordIter) ensureNoneRemaining() error {
	if it.stream == nil {
		if len(it.data) != 0 {
			return invalid("Incorrect declared batch size, records still remaining in file")
		}
		return nil
	}
	if _, err := it.stream.ReadByte(); err == nil {
		return invalid("Incorrect declared batch size, records still remaining in file")
	} else if !errors.Is(err, io.EOF) {
		return decompressFailure(err)
	}
	return nil
}

// decompressReader marks every error of a decompressor other than a clean
// io.EOF, so that a broken stream (Kafka: "Failed to decompress record
// stream", UNKNOWN_SERVER_ERROR) is told apart from a stream that ends
// before the declared records (INVALID_RECORD).
type decompressReader struct{ r io.Reader }

type decompressError struct{ err error }

func (e decompressError) Error() string { return e.err.Error() }

func (d decompressReader) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && err != io.EOF {
		err = decompressError{err}
	}
	return n, err
}

// decompressFailure is what Kafka answers for a payload its decompressor
// rejects: a plain KafkaException, hence UNKNOWN_SERVER_ERROR.
func decompressFailure(err error) error {
	return newError(kerr.UnknownServerError, "Failed to decompress record stream: %v", err)
}

// streamFault classifies an error met while reading a decompressed stream.
func streamFault(err error, eofMsg string) error {
	var de decompressError
	if errors.As(err, &de) {
		return decompressFailure(de.err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalid("%s", eofMsg)
	}
	return invalid("Found invalid record structure: %v", err)
}

// parse decodes a record body (everything after the length varint). It is
// the hot loop of produce validation, hence the inlined one-byte varints.
func (it *RecordIter) parse(body []byte, size int) error {
	r := &it.cur
	r.Size = size
	r.Headers = r.Headers[:0]
	if len(body) < 1 {
		return invalid("Found invalid record structure: empty record")
	}
	r.Attributes = int8(body[0])
	p := body[1:]
	var n int
	if r.TimestampDelta, n = varint64(p); n <= 0 {
		return badStructure("timestamp delta", varintErr(n))
	}
	p = p[n:]
	if r.OffsetDelta, n = varint32(p); n <= 0 {
		return badStructure("offset delta", varintErr(n))
	}
	p = p[n:]
	var ok bool
	if r.Key, p, ok = readBytes(p); !ok {
		return badStructure("key", errShortVarint)
	}
	if r.Value, p, ok = readBytes(p); !ok {
		return badStructure("value", errShortVarint)
	}
	count, n := varint32(p)
	if n <= 0 {
		return badStructure("header count", varintErr(n))
	}
	p = p[n:]
	if count < 0 {
		return invalid("Found invalid number of record headers %d", count)
	}
	if int(count) > len(p) {
		return invalid("Found invalid number of record headers. %d is larger than the remaining size of the buffer", count)
	}
	for i := int32(0); i < count; i++ {
		klen, n := varint32(p)
		if n <= 0 {
			return badStructure("header key", varintErr(n))
		}
		p = p[n:]
		if klen < 0 {
			return invalid("Invalid negative header key size %d", klen)
		}
		if int(klen) > len(p) {
			return badStructure("header key", errShortVarint)
		}
		key := p[:klen]
		p = p[klen:]
		var value []byte
		if value, p, ok = readBytes(p); !ok {
			return badStructure("header value", errShortVarint)
		}
		if !it.skim {
			r.Headers = append(r.Headers, Header{Key: string(key), Value: value})
		}
	}
	if len(p) != 0 {
		return invalid("Invalid record size: expected to read %d bytes in record payload, but instead read %d", len(body), len(body)-len(p))
	}
	return nil
}

func badStructure(what string, err error) error {
	return invalid("Found invalid record structure: %s: %v", what, err)
}

// readBytes reads a varint length and that many bytes; a negative length is
// a null (nil) value, as Kafka reads it. ok is false when p is too short.
func readBytes(p []byte) (v, rest []byte, ok bool) {
	l, n := varint32(p)
	if n <= 0 {
		return nil, p, false
	}
	p = p[n:]
	if l < 0 {
		return nil, p, true
	}
	if int(l) > len(p) {
		return nil, p, false
	}
	return p[:l:l], p[l:], true
}

func readStreamVarint(r io.ByteReader) (int32, int, error) {
	var x uint32
	for i := 0; i < 5; i++ {
		c, err := r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, 0, err
		}
		x |= uint32(c&0x7f) << (7 * i)
		if c < 0x80 {
			return int32(x>>1) ^ -int32(x&1), i + 1, nil
		}
	}
	return 0, 0, errVarintTooLong
}
