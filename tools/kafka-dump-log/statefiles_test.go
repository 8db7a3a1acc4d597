package main

import (
	"encoding/binary"
	"hash/crc32"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kbroker/kbroker/segment"
)

func abortedTxn(version int16, pid, first, last, lso int64) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(version))
	for _, v := range []int64{pid, first, last, lso} {
		b = binary.BigEndian.AppendUint64(b, uint64(v))
	}
	return b
}

func TestDumpTxnIndex(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, segment.FileName(200, segment.TxnIndexSuffix))
	data := append(abortedTxn(0, 7, 200, 210, 199), abortedTxn(0, 8, 205, 230, 200)...)
	writeFile(t, p, append(data, 1, 2, 3)) // a torn partial entry is ignored
	r := runTool(t, "--files", p)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping " + p,
		"version: 0 producerId: 7 firstOffset: 200 lastOffset: 210 lastStableOffset: 199",
		"version: 0 producerId: 8 firstOffset: 205 lastOffset: 230 lastStableOffset: 200"})

	writeFile(t, p, append(data, abortedTxn(1, 9, 1, 2, 3)...))
	r = runTool(t, "--files", p)
	if r.code != 1 {
		t.Errorf("exit %d", r.code)
	}
	assertLines(t, "bad version stdout", r.stdout, []string{"Dumping " + p})
	assertLines(t, "bad version stderr", r.stderr, []string{`Exception in thread "main" org.apache.kafka.common.KafkaException: ` +
		"Unexpected aborted transaction version 1 in transaction index " + p + ", current version is 0"})
}

type producerEntry struct {
	pid            int64
	epoch          int16
	lastSeq        int32
	lastOffset     int64
	offsetDelta    int32
	timestamp      int64
	coordEpoch     int32
	txnFirstOffset int64
}

// producerSnapshot encodes a producer state snapshot (version 1, CRC-32C of
// everything after the crc field).
func producerSnapshot(entries ...producerEntry) []byte {
	body := binary.BigEndian.AppendUint32(nil, uint32(len(entries)))
	for _, e := range entries {
		body = binary.BigEndian.AppendUint64(body, uint64(e.pid))
		body = binary.BigEndian.AppendUint16(body, uint16(e.epoch))
		body = binary.BigEndian.AppendUint32(body, uint32(e.lastSeq))
		body = binary.BigEndian.AppendUint64(body, uint64(e.lastOffset))
		body = binary.BigEndian.AppendUint32(body, uint32(e.offsetDelta))
		body = binary.BigEndian.AppendUint64(body, uint64(e.timestamp))
		body = binary.BigEndian.AppendUint32(body, uint32(e.coordEpoch))
		body = binary.BigEndian.AppendUint64(body, uint64(e.txnFirstOffset))
	}
	out := binary.BigEndian.AppendUint16(nil, 1)
	out = binary.BigEndian.AppendUint32(out, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return append(out, body...)
}

func TestDumpProducerSnapshot(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, segment.FileName(300, ".snapshot"))
	writeFile(t, p, producerSnapshot(
		producerEntry{pid: 7, epoch: 1, lastSeq: 9, lastOffset: 290, offsetDelta: 4, timestamp: 1700, coordEpoch: 3, txnFirstOffset: 280},
		producerEntry{pid: 8, epoch: 0, lastSeq: 1, lastOffset: 295, offsetDelta: 3, timestamp: 1800, coordEpoch: -1, txnFirstOffset: -1},
		producerEntry{pid: 9, epoch: 2, lastSeq: -1, lastOffset: -1, offsetDelta: 0, timestamp: 1900, coordEpoch: -1, txnFirstOffset: -1}))
	r := runTool(t, "--files", p)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping " + p,
		"producerId: 7 producerEpoch: 1 coordinatorEpoch: 3 currentTxnFirstOffset: OptionalLong[280] lastTimestamp: 1700 firstSequence: 5 lastSequence: 9 lastOffset: 290 offsetDelta: 4 timestamp: 1700",
		// lastSeq 1 - delta 3 wraps as DefaultRecordBatch.decrementSequence does.
		"producerId: 8 producerEpoch: 0 coordinatorEpoch: -1 currentTxnFirstOffset: OptionalLong.empty lastTimestamp: 1800 firstSequence: 2147483646 lastSequence: 1 lastOffset: 295 offsetDelta: 3 timestamp: 1800",
		"producerId: 9 producerEpoch: 2 coordinatorEpoch: -1 currentTxnFirstOffset: OptionalLong.empty lastTimestamp: 1900 ",
	})
}

func TestDumpProducerSnapshotCorrupt(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, segment.FileName(300, ".snapshot"))
	good := producerSnapshot(producerEntry{pid: 7, lastOffset: 1})
	idx := filepath.Join(dir, "x.txt")

	bad := append([]byte{}, good...)
	bad[len(bad)-1] ^= 1
	storedCRC := binary.BigEndian.Uint32(bad[2:])
	computed := crc32.Checksum(bad[6:], crc32.MakeTable(crc32.Castagnoli))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"crc", bad, "Snapshot is corrupt (CRC is no longer valid). Stored crc: " + strconv.FormatUint(uint64(storedCRC), 10) + ". Computed crc: " + strconv.FormatUint(uint64(computed), 10)},
		{"version", append([]byte{0, 2}, good[2:]...), "Snapshot contained an unknown file version 2"},
		{"truncated entry", good[:len(good)-3], "Snapshot failed schema validation: Error reading field 'producer_entries': " +
			"Error reading field 'current_txn_first_offset': java.nio.BufferUnderflowException"},
		{"array size", append(append([]byte{}, good[:6]...), 0, 0, 0, 5, 1, 2, 3), "Snapshot failed schema validation: Error reading field 'producer_entries': " +
			"Error reading array of size 5, only 3 bytes available"},
		{"short header", good[:3], "Snapshot failed schema validation: Error reading field 'crc': java.nio.BufferUnderflowException"},
	} {
		writeFile(t, p, tc.data)
		// The tool goes on after a corrupt snapshot, as Kafka catches the error.
		r := runTool(t, "--files", p+","+idx)
		if r.code != 0 {
			t.Errorf("%s: exit %d", tc.name, r.code)
		}
		assertLines(t, tc.name+" stdout", r.stdout, []string{"Dumping " + p, "Dumping " + idx})
		assertLines(t, tc.name+" stderr", r.stderr, []string{tc.want, "Ignoring unknown file " + idx})
	}
}
