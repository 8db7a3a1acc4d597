package main

// A read-only view of a .log file that steps through it exactly as Kafka's
// FileRecords and FileLogInputStream do, so that the tool stops, reports and
// skips where Kafka's does: a batch is cut off from its 17-byte prefix
// (offset, size, partition leader epoch, magic) without reading the rest; a
// size below 14 is corrupt; a batch running past the end ends the iteration.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/kbroker/kbroker/record"
)

const (
	logOverhead         = record.LogOverhead // offset int64 + size int32
	headerSizeUpToMagic = 17
	recordOverheadV0    = 14 // LegacyRecord.RECORD_OVERHEAD_V0: the smallest size any format allows
	v2HeaderSize        = record.HeaderSize
	maxInt32            = math.MaxInt32
)

// fileRecords is FileRecords: a file, or a slice [start, end) of it.
type fileRecords struct {
	f           *os.File
	file        jfile
	channelSize int64
	start, end  int64
	size        int64
	isSlice     bool
}

func openFileRecords(file jfile) (*fileRecords, error) {
	f, err := os.Open(file.path)
	if err != nil {
		return nil, ioErr(file.path, err)
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		err = errors.New("is a directory")
	}
	if err != nil {
		f.Close()
		return nil, ioErr(file.path, err)
	}
	size := st.Size()
	if size > maxInt32 {
		f.Close()
		return nil, jerr("org.apache.kafka.common.KafkaException",
			"The size of segment %s (%d) is larger than the maximum allowed segment size of %d", file, size, maxInt32)
	}
	return &fileRecords{f: f, file: file, channelSize: size, end: maxInt32, size: size}, nil
}

func (fr *fileRecords) close() { fr.f.Close() }

func (fr *fileRecords) String() string {
	return fmt.Sprintf("FileRecords(size=%d, file=%s, start=%d, end=%d)", fr.size, fr.file, fr.start, fr.end)
}

// slice is FileRecords.slice(position, size).
func (fr *fileRecords) slice(position, size int64) (*fileRecords, error) {
	cur := fr.size
	switch {
	case position < 0:
		return nil, jerr("java.lang.IllegalArgumentException", "Invalid position: %d in read from %s", position, fr)
	case position > cur-fr.start:
		return nil, jerr("java.lang.IllegalArgumentException", "Slice from position %d exceeds end position of %s", position, fr)
	case size < 0:
		return nil, jerr("java.lang.IllegalArgumentException", "Invalid size: %d in read from %s", size, fr)
	}
	end := fr.start + position + size
	if end > fr.start+cur {
		end = fr.start + cur
	}
	startPos := fr.start + position
	avail := end - startPos
	return &fileRecords{f: fr.f, file: fr.file, channelSize: fr.channelSize,
		start: startPos, end: startPos + avail, size: avail, isSlice: true}, nil
}

// readFully reads len(buf) bytes at pos or fails as Utils.readFullyOrFail.
func (fr *fileRecords) readFully(buf []byte, pos int64, what string) error {
	n, err := fr.f.ReadAt(buf, pos)
	if n == len(buf) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return jerr("java.io.EOFException",
			"Failed to read `%s` from file channel `%s`. Expected to read %d bytes, but reached end of file after reading %d bytes. Started read from position %d.",
			what, fr.file, len(buf), n, pos)
	}
	return ioErr(fr.file.path, err)
}

type batchIter struct {
	fr       *fileRecords
	pos, end int64
}

// batches is FileRecords.batches().
func (fr *fileRecords) batches() *batchIter {
	end := fr.size
	if fr.isSlice {
		end = fr.end
	}
	return &batchIter{fr: fr, pos: fr.start, end: end}
}

// next is FileLogInputStream.nextBatch: nil at the end of the usable bytes.
func (it *batchIter) next() (*fileBatch, error) {
	if it.pos >= it.end-headerSizeUpToMagic {
		return nil, nil
	}
	var hdr [headerSizeUpToMagic]byte
	if err := it.fr.readFully(hdr[:], it.pos, "log header"); err != nil {
		return nil, err
	}
	offset := int64(binary.BigEndian.Uint64(hdr[0:]))
	size := int32(binary.BigEndian.Uint32(hdr[8:]))
	if size < recordOverheadV0 {
		return nil, jerr("org.apache.kafka.common.errors.CorruptRecordException",
			"Found record size %d smaller than minimum record overhead (%d) in file %s.", size, recordOverheadV0, it.fr.file)
	}
	if it.pos > it.end-logOverhead-int64(size) {
		return nil, nil
	}
	b := &fileBatch{fr: it.fr, position: it.pos, offset: offset, size: size, magic: int8(hdr[16])}
	it.pos += b.sizeInBytes()
	return b, nil
}

// fileBatch is a FileChannelRecordBatch: what the 17-byte prefix told, with
// the header and the whole batch read from the file when first needed.
type fileBatch struct {
	fr       *fileRecords
	position int64
	offset   int64 // base offset (v2) or offset of the (wrapper) message (v0/v1)
	size     int32 // the size field: bytes after it
	magic    int8
	header   []byte
	full     []byte
}

func (b *fileBatch) sizeInBytes() int64 { return logOverhead + int64(b.size) }

func (b *fileBatch) loadErr(err error) error {
	var je *javaError
	if errors.As(err, &je) && je.class == "java.io.EOFException" {
		return jerr("org.apache.kafka.common.KafkaException",
			"Failed to load record batch at position %d from %s", b.position, b.fr)
	}
	return err
}

// loadHeader reads the 61-byte v2 header. Like Kafka it reads those bytes
// from the file even when the batch is shorter, so a tiny garbage "batch"
// shows whatever follows it.
func (b *fileBatch) loadHeader() (record.Batch, error) {
	if len(b.full) >= v2HeaderSize {
		return b.full, nil
	}
	if b.header == nil {
		buf := make([]byte, v2HeaderSize)
		if err := b.fr.readFully(buf, b.position, "record batch header"); err != nil {
			return nil, b.loadErr(err)
		}
		b.header = buf
	}
	return b.header, nil
}

func (b *fileBatch) loadFull() ([]byte, error) {
	if b.full == nil {
		buf := make([]byte, b.sizeInBytes())
		if err := b.fr.readFully(buf, b.position, "full record batch"); err != nil {
			return nil, b.loadErr(err)
		}
		b.full = buf
	}
	return b.full, nil
}

// lastOffset is RecordBatch.lastOffset: from the header for v2, the
// message's own offset for the legacy formats.
func (b *fileBatch) lastOffset() (int64, error) {
	if b.magic < 2 {
		return b.offset, nil
	}
	h, err := b.loadHeader()
	if err != nil {
		return 0, err
	}
	return h.LastOffset(), nil
}
