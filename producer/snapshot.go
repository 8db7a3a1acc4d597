package producer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// The .snapshot layout (Kafka's PID_SNAPSHOT_MAP_SCHEMA, a Schema of
// version int16, crc uint32 and an array of entry structs; see
// docs/format/producer-snapshot.md). All big-endian.
const (
	SnapshotVersion = 1

	snapshotCRCAt     = 2  // after the version
	snapshotEntriesAt = 6  // the array: int32 count, then the entries
	snapshotHeader    = 10 // version + crc + count
	// SnapshotEntrySize is one entry: producerId int64, epoch int16,
	// lastSequence int32, lastOffset int64, offsetDelta int32, timestamp
	// int64, coordinatorEpoch int32, currentTxnFirstOffset int64.
	SnapshotEntrySize = 46
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorruptSnapshot marks a snapshot that cannot be used (Kafka's
// CorruptSnapshotException): the loader deletes it and falls back to an
// older one.
var ErrCorruptSnapshot = errors.New("corrupt producer snapshot")

// EncodeSnapshot renders entries as a .snapshot file, in the given order.
// Of each producer only the newest batch is kept, as in Kafka.
func EncodeSnapshot(entries []*Entry) []byte {
	buf := make([]byte, snapshotHeader+SnapshotEntrySize*len(entries))
	be := binary.BigEndian
	be.PutUint16(buf, SnapshotVersion)
	be.PutUint32(buf[snapshotEntriesAt:], uint32(len(entries)))
	p := buf[snapshotHeader:]
	for _, e := range entries {
		be.PutUint64(p[0:], uint64(e.ProducerID))
		be.PutUint16(p[8:], uint16(e.Epoch))
		be.PutUint32(p[10:], uint32(e.LastSeq()))
		be.PutUint64(p[14:], uint64(e.LastDataOffset()))
		be.PutUint32(p[22:], uint32(e.LastOffsetDelta()))
		be.PutUint64(p[26:], uint64(e.LastTimestamp))
		be.PutUint32(p[34:], uint32(e.CoordinatorEpoch))
		be.PutUint64(p[38:], uint64(e.CurrentTxnFirstOffset))
		p = p[SnapshotEntrySize:]
	}
	be.PutUint32(buf[snapshotCRCAt:], crc32.Checksum(buf[snapshotEntriesAt:], castagnoli))
	return buf
}

// DecodeSnapshot reads a .snapshot file as Kafka's readSnapshot does: the
// schema first (a negative count, or one the remaining bytes cannot hold, is
// corrupt), then the version, then the CRC of everything after the crc
// field (bytes after the entries are allowed, and covered). An entry whose
// lastOffset is negative has no batch. Every fault wraps ErrCorruptSnapshot.
func DecodeSnapshot(data []byte) ([]Entry, error) {
	be := binary.BigEndian
	if len(data) < snapshotHeader {
		return nil, corruptf("Snapshot failed schema validation: the file has %d bytes, the header needs %d", len(data), snapshotHeader)
	}
	version := int16(be.Uint16(data))
	crc := be.Uint32(data[snapshotCRCAt:])
	count := int32(be.Uint32(data[snapshotEntriesAt:]))
	rest := data[snapshotHeader:]
	if count < 0 {
		return nil, corruptf("Snapshot failed schema validation: Error reading field 'producer_entries': Array size %d cannot be negative", count)
	}
	if int64(count)*SnapshotEntrySize > int64(len(rest)) {
		return nil, corruptf("Snapshot failed schema validation: Error reading field 'producer_entries': %d entries need %d bytes, only %d available",
			count, int64(count)*SnapshotEntrySize, len(rest))
	}
	if version != SnapshotVersion {
		return nil, corruptf("Snapshot contained an unknown file version %d", version)
	}
	if computed := crc32.Checksum(data[snapshotEntriesAt:], castagnoli); computed != crc {
		return nil, corruptf("Snapshot is corrupt (CRC is no longer valid). Stored crc: %d. Computed crc: %d", crc, computed)
	}
	entries := make([]Entry, count)
	for i := range entries {
		p := rest[i*SnapshotEntrySize:]
		e := Entry{
			ProducerID:            int64(be.Uint64(p[0:])),
			Epoch:                 int16(be.Uint16(p[8:])),
			LastTimestamp:         int64(be.Uint64(p[26:])),
			CoordinatorEpoch:      int32(be.Uint32(p[34:])),
			CurrentTxnFirstOffset: int64(be.Uint64(p[38:])),
		}
		if e.CurrentTxnFirstOffset < 0 {
			e.CurrentTxnFirstOffset = -1
		}
		if lastOffset := int64(be.Uint64(p[14:])); lastOffset >= 0 {
			e.batches = []BatchMetadata{{
				LastSeq:     int32(be.Uint32(p[10:])),
				LastOffset:  lastOffset,
				OffsetDelta: int32(be.Uint32(p[22:])),
				Timestamp:   e.LastTimestamp,
			}}
		}
		entries[i] = e
	}
	return entries, nil
}

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrCorruptSnapshot)
}
