package main

// Dumping .txnindex (aborted transactions) and .snapshot (producer state)
// files, as DumpLogSegments.dumpTxnIndex and dumpProducerIdSnapshot do.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"strings"
)

const (
	abortedTxnSize          = 34 // version int16, producerId, firstOffset, lastOffset, lastStableOffset int64
	abortedTxnVersion       = 0
	producerSnapshotVersion = 1
	snapshotEntriesAt       = 6 // version int16 + crc uint32
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// dumpTxnIndex prints every aborted transaction. Kafka reads all entries
// before printing, so an entry with an unknown version prints nothing; a
// partial entry at the end is ignored; a missing file is an empty index.
func (d *dumper) dumpTxnIndex(file jfile) error {
	name := file.Name()
	if _, err := parseLong(name[:strings.IndexByte(name, '.')]); err != nil {
		return err
	}
	data, err := os.ReadFile(file.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return ioErr(file.path, err)
	}
	var lines []string
	for p := data; len(p) >= abortedTxnSize; p = p[abortedTxnSize:] {
		be := binary.BigEndian
		version := int16(be.Uint16(p))
		if version > abortedTxnVersion {
			return jerr("org.apache.kafka.common.KafkaException",
				"Unexpected aborted transaction version %d in transaction index %s, current version is %d",
				version, file.Abs(), abortedTxnVersion)
		}
		lines = append(lines, fmt.Sprintf("version: %d producerId: %d firstOffset: %d lastOffset: %d lastStableOffset: %d\n",
			version, int64(be.Uint64(p[2:])), int64(be.Uint64(p[10:])), int64(be.Uint64(p[18:])), int64(be.Uint64(p[26:]))))
	}
	for _, l := range lines {
		d.printf("%s", l)
	}
	return nil
}

// snapshotEntry is one producer of a producer-state snapshot.
type snapshotEntry struct {
	producerID            int64
	epoch                 int16
	lastSequence          int32
	lastOffset            int64
	offsetDelta           int32
	timestamp             int64
	coordinatorEpoch      int32
	currentTxnFirstOffset int64
}

// dumpProducerSnapshot prints one line per producer:
//
//	producerId: P producerEpoch: E coordinatorEpoch: C currentTxnFirstOffset: OptionalLong.empty|OptionalLong[N]
//	lastTimestamp: T [firstSequence: F lastSequence: L lastOffset: O offsetDelta: D timestamp: T]
//
// (the bracketed part only when the producer has a last batch, i.e. its
// last offset is >= 0). A corrupt snapshot is reported on stderr and the
// tool goes on, as Kafka catches CorruptSnapshotException.
func (d *dumper) dumpProducerSnapshot(file jfile) error {
	data, err := os.ReadFile(file.path)
	if err != nil {
		return ioErr(file.path, err)
	}
	entries, msg := readProducerSnapshot(data)
	if msg != "" {
		d.eprintf("%s\n", msg)
		return nil
	}
	for _, e := range entries {
		txn := "OptionalLong.empty"
		if e.currentTxnFirstOffset >= 0 {
			txn = fmt.Sprintf("OptionalLong[%d]", e.currentTxnFirstOffset)
		}
		d.printf("producerId: %d producerEpoch: %d coordinatorEpoch: %d currentTxnFirstOffset: %s lastTimestamp: %d ",
			e.producerID, e.epoch, e.coordinatorEpoch, txn, e.timestamp)
		if e.lastOffset >= 0 {
			d.printf("firstSequence: %d lastSequence: %d lastOffset: %d offsetDelta: %d timestamp: %d",
				decrementSequence(e.lastSequence, e.offsetDelta), e.lastSequence, e.lastOffset, e.offsetDelta, e.timestamp)
		}
		d.printf("\n")
	}
	return nil
}

// readProducerSnapshot is ProducerStateManager.readSnapshot: the whole
// structure is read first (schema errors), then the version and the CRC
// are checked. A non-empty msg is the CorruptSnapshotException message.
func readProducerSnapshot(data []byte) ([]snapshotEntry, string) {
	r := schemaReader{buf: data}
	version := r.int16("version")
	crc := r.uint32("crc")
	var entries []snapshotEntry
	if r.err == "" {
		entries = r.entries()
	}
	if r.err != "" {
		return nil, "Snapshot failed schema validation: " + r.err
	}
	if version != producerSnapshotVersion {
		return nil, fmt.Sprintf("Snapshot contained an unknown file version %d", version)
	}
	if computed := crc32.Checksum(data[snapshotEntriesAt:], castagnoli); computed != crc {
		return nil, fmt.Sprintf("Snapshot is corrupt (CRC is no longer valid). Stored crc: %d. Computed crc: %d", crc, computed)
	}
	return entries, ""
}

// schemaReader reads fields the way Kafka's Schema.read does, producing its
// error texts ("Error reading field 'x': ...").
type schemaReader struct {
	buf []byte
	err string
}

const underflow = "java.nio.BufferUnderflowException"

func (r *schemaReader) take(field string, n int) []byte {
	if r.err != "" {
		return nil
	}
	if len(r.buf) < n {
		r.err = "Error reading field '" + field + "': " + underflow
		return nil
	}
	b := r.buf[:n]
	r.buf = r.buf[n:]
	return b
}

func (r *schemaReader) int16(field string) int16 {
	if b := r.take(field, 2); b != nil {
		return int16(binary.BigEndian.Uint16(b))
	}
	return 0
}

func (r *schemaReader) uint32(field string) uint32 {
	if b := r.take(field, 4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (r *schemaReader) int32(field string) int32 { return int32(r.uint32(field)) }

func (r *schemaReader) int64(field string) int64 {
	if b := r.take(field, 8); b != nil {
		return int64(binary.BigEndian.Uint64(b))
	}
	return 0
}

// entries reads the producer_entries array.
func (r *schemaReader) entries() []snapshotEntry {
	const field = "producer_entries"
	wrap := func(msg string) { r.err = "Error reading field '" + field + "': " + msg }
	if len(r.buf) < 4 {
		wrap(underflow)
		return nil
	}
	n := int32(binary.BigEndian.Uint32(r.buf))
	r.buf = r.buf[4:]
	if n < 0 {
		wrap(fmt.Sprintf("Array size %d cannot be negative", n))
		return nil
	}
	if int(n) > len(r.buf) {
		wrap(fmt.Sprintf("Error reading array of size %d, only %d bytes available", n, len(r.buf)))
		return nil
	}
	entries := make([]snapshotEntry, 0, n)
	for i := int32(0); i < n; i++ {
		var e snapshotEntry
		e.producerID = r.int64("producer_id")
		e.epoch = r.int16("epoch")
		e.lastSequence = r.int32("last_sequence")
		e.lastOffset = r.int64("last_offset")
		e.offsetDelta = r.int32("offset_delta")
		e.timestamp = r.int64("timestamp")
		e.coordinatorEpoch = r.int32("coordinator_epoch")
		e.currentTxnFirstOffset = r.int64("current_txn_first_offset")
		if r.err != "" {
			wrap(r.err)
			return nil
		}
		entries = append(entries, e)
	}
	return entries
}

// decrementSequence is DefaultRecordBatch.decrementSequence (BatchMetadata.firstSeq).
func decrementSequence(seq, decrement int32) int32 {
	if seq < decrement {
		return int32(int64(1<<31-1) - int64(decrement-seq) + 1)
	}
	return seq - decrement
}
