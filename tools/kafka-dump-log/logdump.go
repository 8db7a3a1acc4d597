package main

// Dumping a .log (or a KRaft .checkpoint): DumpLogSegments.dumpLog and
// printBatchLevel.
//
// Per batch (v2):
//
//	baseOffset: B lastOffset: L count: C baseSequence: S lastSequence: T producerId: P
//	producerEpoch: E partitionLeaderEpoch: LE isTransactional: X isControl: Y
//	deleteHorizonMs: OptionalLong.empty|OptionalLong[T] position: POS CreateTime|LogAppendTime: MAXTS
//	size: SIZE magic: 2 compresscodec: none|gzip|snappy|lz4|zstd crc: CRC isvalid: true|false
//
// (one line). Legacy messages: "offset: O position: ... isvalid: V" with the
// same tail. Per record (deep iteration):
//
//	| offset: O CreateTime: T keySize: K valueSize: V sequence: S headerKeys: [a,b]
//	  [ endTxnMarker: COMMIT coordinatorEpoch: N] [ key: K] [ payload: P]

import (
	"errors"
	"fmt"
	"strings"

	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// batchInfo is what record lines need to know of their batch.
type batchInfo struct {
	magic     int8
	tsType    string
	isControl bool
}

// dumpRecord is one record as the record lines show it.
type dumpRecord struct {
	offset     int64
	timestamp  int64
	keySize    int32
	valueSize  int32
	key, value []byte // nil when null
	sequence   int32
	headerKeys []string
	legacy     bool // a magic 0/1 message: its own isValid and crc are printed
	valid      bool
	crc        uint32
}

func (d *dumper) dumpLog(file jfile) error {
	// Kafka evaluates the message parser and --max-bytes before the body.
	d.announceDeprecatedDecoders()
	maxBytes, err := d.opts.maxBytes()
	if err != nil {
		return err
	}
	name := file.Name()
	if strings.HasSuffix(name, segment.LogSuffix) {
		start, err := parseLong(javaSplit(name, ".")[0])
		if err != nil {
			return err
		}
		d.printf("Log starting offset: %d\n", start)
	} else if strings.HasSuffix(name, kraftSnapshotSuffix) {
		if name == kraftBootstrapName {
			d.printf("KRaft bootstrap snapshot\n")
		} else {
			offset, epoch, err := parseSnapshotName(name)
			if err != nil {
				return err
			}
			d.printf("Snapshot end offset: %d, epoch: %d\n", offset, epoch)
		}
	}
	fr, err := openFileRecords(file)
	if err != nil {
		return err
	}
	defer fr.close()
	recs, err := fr.slice(0, int64(maxBytes))
	if err != nil {
		return err
	}

	var validBytes int64
	lastOffset := int64(-1)
	it := recs.batches()
	for {
		b, err := it.next()
		if err != nil {
			return err
		}
		if b == nil {
			break
		}
		info, err := d.printBatchLevel(b, validBytes)
		if err != nil {
			return err
		}
		if d.opts.deepIteration {
			err := eachRecord(b, func(r *dumpRecord) error {
				if lastOffset == -1 {
					lastOffset = r.offset
				} else if r.offset != lastOffset+1 {
					d.nonConsecutive.add(file.Abs(), lastOffset, r.offset, true)
				}
				lastOffset = r.offset
				return d.printRecord(info, r)
			})
			if err != nil {
				return err
			}
		}
		validBytes += b.sizeInBytes()
	}
	if trailing := recs.size - validBytes; trailing > 0 && maxBytes == maxInt32 {
		d.printf("Found %d invalid bytes at the end of %s\n", trailing, name)
	}
	return nil
}

// parseSnapshotName reads a KRaft snapshot name: 20-digit end offset, a
// dash, 10-digit epoch (Snapshots.parse).
func parseSnapshotName(name string) (int64, int32, error) {
	const offsetWidth, epochWidth = 20, 10
	if len(name) < offsetWidth+1+epochWidth {
		end := offsetWidth
		if len(name) >= offsetWidth {
			end = offsetWidth + 1 + epochWidth
		}
		begin := 0
		if end > offsetWidth {
			begin = offsetWidth + 1
		}
		return 0, 0, jerr("java.lang.StringIndexOutOfBoundsException", "begin %d, end %d, length %d", begin, end, len(name))
	}
	offset, err := parseLong(name[:offsetWidth])
	if err != nil {
		return 0, 0, err
	}
	epoch, err := parseInt(name[offsetWidth+1 : offsetWidth+1+epochWidth])
	return offset, epoch, err
}

// printBatchLevel prints the batch line. Like Kafka it prints the first half
// before evaluating the second, so a fault there (an unknown codec) leaves
// the first half on stdout.
func (d *dumper) printBatchLevel(b *fileBatch, position int64) (batchInfo, error) {
	info := batchInfo{magic: b.magic}
	if b.magic >= record.CurrentMagic {
		h, err := b.loadHeader()
		if err != nil {
			return info, err
		}
		attr := h.Attributes()
		d.printf("baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d "+
			"partitionLeaderEpoch: %d isTransactional: %t isControl: %t deleteHorizonMs: %s",
			b.offset, h.LastOffset(), h.NumRecords(), h.BaseSequence(), lastSequence(h), h.ProducerID(), h.ProducerEpoch(),
			h.PartitionLeaderEpoch(), attr.IsTransactional(), attr.IsControl(), deleteHorizon(h))
		info.tsType = attr.TimestampType().String()
		info.isControl = attr.IsControl()
		codec, err := codecName(int(attr.Compression()))
		if err != nil {
			return info, err
		}
		full, err := b.loadFull()
		if err != nil {
			return info, err
		}
		valid := len(full) >= v2HeaderSize && record.Batch(full).CRCValid()
		d.printf(" position: %d %s: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %t\n",
			position, info.tsType, h.MaxTimestamp(), b.sizeInBytes(), b.magic, codec, h.CRC(), valid)
		return info, nil
	}

	d.printf("offset: %d", b.offset)
	full, err := b.loadFull()
	if err != nil {
		return info, err
	}
	r := legacyRecord{buf: full[logOverhead:]}
	info.tsType = r.timestampType()
	ts, err := r.timestamp()
	if err != nil {
		return info, err
	}
	codec, err := r.codec()
	if err != nil {
		return info, err
	}
	d.printf(" position: %d %s: %d size: %d magic: %d compresscodec: %s crc: %d isvalid: %t\n",
		position, info.tsType, ts, b.sizeInBytes(), b.magic, codec, r.crc(), r.valid())
	return info, nil
}

// lastSequence is DefaultRecordBatch.lastSequence: only -1 means "none".
func lastSequence(h record.Batch) int32 {
	if h.BaseSequence() == -1 {
		return -1
	}
	return record.IncrementSequence(h.BaseSequence(), h.LastOffsetDelta())
}

// deleteHorizon prints RecordBatch.deleteHorizonMs, a java.util.OptionalLong.
func deleteHorizon(h record.Batch) string {
	if h.Attributes().HasDeleteHorizon() {
		return fmt.Sprintf("OptionalLong[%d]", h.BaseTimestamp())
	}
	return "OptionalLong.empty"
}

// printRecord prints one record line, piece by piece as Kafka does.
func (d *dumper) printRecord(info batchInfo, r *dumpRecord) error {
	prefix := "| "
	if !d.opts.skipRecordMetadata {
		d.printf("%soffset: %d %s: %d keySize: %d valueSize: %d", prefix, r.offset, info.tsType, r.timestamp, r.keySize, r.valueSize)
		prefix = " "
		if info.magic >= record.CurrentMagic {
			d.printf(" sequence: %d headerKeys: [%s]", r.sequence, strings.Join(r.headerKeys, ","))
		}
		if r.legacy {
			d.printf(" isValid: %t crc: %d}", r.valid, r.crc) // the brace is Kafka's
		}
		if info.isControl {
			text, err := controlText(r)
			if err != nil {
				return err
			}
			d.printf("%s", text)
		}
	}
	if d.opts.printDataLog && !info.isControl {
		var key, payload string
		var err error
		if r.key != nil {
			if key, err = d.keyDec.decode(r.key); err != nil {
				return err
			}
		}
		if r.value != nil {
			if payload, err = d.valueDec.decode(r.value); err != nil {
				return err
			}
		}
		if r.key != nil {
			d.printf("%skey: %s", prefix, key)
		}
		if r.value != nil {
			d.printf(" payload: %s", payload)
		}
	}
	d.printf("\n")
	return nil
}

// controlTypeNames are ControlRecordType's names by type id.
var controlTypeNames = map[int16]string{
	0: "ABORT", 1: "COMMIT", 2: "LEADER_CHANGE", 3: "SNAPSHOT_HEADER",
	4: "SNAPSHOT_FOOTER", 5: "KRAFT_VERSION", 6: "KRAFT_VOTERS",
}

// controlText describes a control record: the transaction marker, or the
// control type. (Kafka 3.9 prints KRaft's snapshot header/footer, version
// and voters records as JSON; they never occur in a ZooKeeper-mode log and
// are shown here by type only.)
func controlText(r *dumpRecord) (string, error) {
	invalid := func(format string, args ...any) error {
		return jerr("org.apache.kafka.common.InvalidRecordException", format, args...)
	}
	if r.key == nil {
		return "", jerrNoMsg("java.lang.NullPointerException")
	}
	if len(r.key) < 4 {
		return "", invalid("Invalid value size found for end control record key. Must have at least 4 bytes, but found only %d", len(r.key))
	}
	version, t, err := record.ParseControlKey(r.key)
	if err != nil {
		return "", recordErr(err)
	}
	if version < 0 {
		return "", invalid("Invalid version found for control record: %d. May indicate data corruption", version)
	}
	if t == record.ControlAbort || t == record.ControlCommit {
		if r.value == nil {
			return "", jerrNoMsg("java.lang.NullPointerException")
		}
		if len(r.value) < 6 {
			return "", invalid("Invalid value size found for end transaction marker. Must have at least 6 bytes, but found only %d", len(r.value))
		}
		m, err := record.ParseEndTxnMarker(r.value)
		if err != nil {
			return "", recordErr(err)
		}
		if m.Version < 0 {
			return "", invalid("Invalid version found for end transaction marker: %d. May indicate data corruption", m.Version)
		}
		return fmt.Sprintf(" endTxnMarker: %s coordinatorEpoch: %d", t, m.CoordinatorEpoch), nil
	}
	name, ok := controlTypeNames[int16(t)]
	if !ok {
		name = "UNKNOWN"
	}
	return fmt.Sprintf(" controlType: %s(%d)", name, int16(t)), nil
}

// eachRecord calls fn for every record of a batch in order, as Kafka's
// batch iterator yields them. A compressed v2 batch is decoded completely
// before the first call (Kafka decompresses it into a list first, so a fault
// shows no record of that batch); an uncompressed one record by record.
func eachRecord(b *fileBatch, fn func(*dumpRecord) error) error {
	full, err := b.loadFull()
	if err != nil {
		return err
	}
	if b.magic < record.CurrentMagic {
		entries, err := legacyRecords(b.offset, legacyRecord{buf: full[logOverhead:]})
		if err != nil {
			return err
		}
		for _, e := range entries {
			ts, err := e.rec.timestamp()
			if err != nil {
				return err
			}
			key, value, keySize, valueSize, err := e.rec.keyValue()
			if err != nil {
				return err
			}
			r := dumpRecord{offset: e.offset, timestamp: ts, keySize: keySize, valueSize: valueSize,
				key: key, value: value, sequence: -1, legacy: true, valid: e.rec.valid(), crc: e.rec.crc()}
			if err := fn(&r); err != nil {
				return err
			}
		}
		return nil
	}
	if len(full) < v2HeaderSize {
		return jerrNoMsg("java.lang.IndexOutOfBoundsException")
	}
	batch := record.Batch(full)
	if batch.NumRecords() == 0 {
		return nil
	}
	it, err := batch.Records()
	if err != nil {
		return recordErr(err)
	}
	defer it.Close()
	compressed := batch.Compression() != record.CompressionNone
	baseOffset, baseTS, baseSeq := batch.BaseOffset(), batch.BaseTimestamp(), batch.BaseSequence()
	logAppend := batch.TimestampType() == record.LogAppendTime
	var collected []dumpRecord
	for it.Next() {
		if it.Err() != nil {
			break // Kafka fails the last record itself when bytes remain after it
		}
		rec := it.Record()
		r := dumpRecord{
			offset:    baseOffset + int64(rec.OffsetDelta),
			timestamp: baseTS + rec.TimestampDelta,
			keySize:   -1,
			valueSize: -1,
			sequence:  -1,
		}
		if logAppend {
			r.timestamp = batch.MaxTimestamp()
		}
		if baseSeq >= 0 {
			r.sequence = record.IncrementSequence(baseSeq, rec.OffsetDelta)
		}
		if rec.Key != nil {
			r.keySize = int32(len(rec.Key))
			r.key = rec.Key
		}
		if rec.Value != nil {
			r.valueSize = int32(len(rec.Value))
			r.value = rec.Value
		}
		for _, h := range rec.Headers {
			r.headerKeys = append(r.headerKeys, javaString([]byte(h.Key)))
		}
		if !compressed {
			if err := fn(&r); err != nil {
				return err
			}
			continue
		}
		// The iterator reuses its buffer for compressed records: copy.
		if r.key != nil {
			r.key = append([]byte{}, r.key...)
		}
		if r.value != nil {
			r.value = append([]byte{}, r.value...)
		}
		collected = append(collected, r)
	}
	if err := it.Err(); err != nil {
		return recordErr(err)
	}
	for i := range collected {
		if err := fn(&collected[i]); err != nil {
			return err
		}
	}
	return nil
}

// recordErr names a fault of package record as the exception Kafka's record
// classes throw for it.
func recordErr(err error) error {
	var re *record.Error
	if !errors.As(err, &re) {
		return jerr("org.apache.kafka.common.KafkaException", "%v", err)
	}
	class := "org.apache.kafka.common.KafkaException"
	if code := record.CodeOf(err); code != nil {
		switch code.Message {
		case "INVALID_RECORD":
			class = "org.apache.kafka.common.InvalidRecordException"
		case "CORRUPT_MESSAGE":
			class = "org.apache.kafka.common.errors.CorruptRecordException"
		}
	}
	return jerr(class, "%s", re.Msg)
}
