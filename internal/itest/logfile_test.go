package itest

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// readPartitionDir decodes every record of the .log segment files of one
// partition directory, in file order. A batch cut short at the end of the
// last segment (a writer may be appending while we read) is ignored;
// anything else malformed is an error.
func readPartitionDir(dir string) ([]*kgo.Record, error) {
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return nil, err
	}
	if len(logs) == 0 {
		return nil, fmt.Errorf("%s: no segment files", dir)
	}
	sort.Strings(logs) // 20-digit base offsets sort as numbers
	var out []*kgo.Record
	for i, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		rs, err := decodeSegment(data, i == len(logs)-1)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

// decodeSegment decodes the record batches of one .log file.
func decodeSegment(data []byte, last bool) ([]*kgo.Record, error) {
	var out []*kgo.Record
	dec := kgo.DefaultDecompressor()
	for pos := 0; pos < len(data); {
		if len(data)-pos < 12 {
			if last {
				break
			}
			return nil, fmt.Errorf("%d trailing bytes at position %d", len(data)-pos, pos)
		}
		size := int(int32(binary.BigEndian.Uint32(data[pos+8:]))) + 12
		if size < 61 {
			if last && allZero(data[pos:]) {
				break // preallocated or torn tail
			}
			return nil, fmt.Errorf("batch length %d at position %d", size-12, pos)
		}
		if pos+size > len(data) {
			if last {
				break
			}
			return nil, fmt.Errorf("batch at position %d runs past the end", pos)
		}
		var b kmsg.RecordBatch
		if err := b.ReadFrom(data[pos : pos+size]); err != nil {
			return nil, fmt.Errorf("batch at position %d: %w", pos, err)
		}
		pos += size
		if b.Attributes&0x20 != 0 {
			continue // control batch
		}
		raw := b.Records
		if codec := b.Attributes & 0x07; codec != 0 {
			var err error
			if raw, err = dec.Decompress(b.Records, kgo.CompressionCodecType(codec)); err != nil {
				return nil, fmt.Errorf("batch at offset %d: decompress: %w", b.FirstOffset, err)
			}
		}
		logAppend := b.Attributes&0x08 != 0
		for i := int32(0); i < b.NumRecords; i++ {
			length, n := binary.Varint(raw)
			if n <= 0 || int(length) < 0 || n+int(length) > len(raw) {
				return nil, fmt.Errorf("batch at offset %d: record %d malformed", b.FirstOffset, i)
			}
			var r kmsg.Record
			if err := r.ReadFrom(raw[:n+int(length)]); err != nil {
				return nil, fmt.Errorf("batch at offset %d: record %d: %w", b.FirstOffset, i, err)
			}
			raw = raw[n+int(length):]
			ts := b.FirstTimestamp + r.TimestampDelta64
			if logAppend {
				ts = b.MaxTimestamp
			}
			rec := &kgo.Record{
				Offset:    b.FirstOffset + int64(r.OffsetDelta),
				Key:       r.Key,
				Value:     r.Value,
				Timestamp: time.UnixMilli(ts),
			}
			for _, h := range r.Headers {
				rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
			}
			out = append(out, rec)
		}
	}
	return out, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
