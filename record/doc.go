// Package record is kbroker's view of Kafka record batches (magic v2), the
// unit that travels in Produce and Fetch and that .log files hold verbatim.
//
// What it owns:
//   - Batch: a zero-copy view over the bytes of one batch, with an accessor for
//     every header field, CRC-32C verification over exactly the bytes Kafka
//     covers (attributes to the end), and in-place patching of base offset,
//     partition leader epoch and max timestamp (the CRC is recomputed only when
//     a CRC-covered byte actually changed).
//   - Split: cutting a byte range (a produce payload, a fetched chunk, a .log
//     file) into whole batches, reporting the incomplete tail.
//   - Record iteration for uncompressed and compressed batches (gzip, snappy
//     raw and xerial-framed, lz4 frame, zstd); compressed payloads are
//     streamed, never inflated whole. Control batches and transaction markers
//     are recognised.
//   - Validation that answers each fault with the Kafka error code a broker
//     returns (CORRUPT_MESSAGE, INVALID_RECORD, MESSAGE_TOO_LARGE,
//     INVALID_TIMESTAMP, UNSUPPORTED_COMPRESSION_TYPE); see validate.go.
//   - A Builder for batches and control markers (tests, tools, coordinators).
//
// Legacy message sets (magic 0 and 1) are recognised and rejected with
// ErrLegacyMagic (INVALID_RECORD, as Kafka answers Produce v3+ and as Kafka 4
// answers every version); they are never parsed as v2.
//
// Byte layout of a batch (big-endian), see docs/format/record-batch.md:
//
//	0  baseOffset int64        (not covered by the CRC)
//	8  batchLength int32       bytes after this field (not covered)
//	12 partitionLeaderEpoch    int32 (not covered)
//	16 magic int8 = 2
//	17 crc uint32              CRC-32C of bytes 21..end
//	21 attributes int16        bits 0-2 codec, 3 timestamp type, 4 transactional,
//	                           5 control, 6 delete horizon
//	23 lastOffsetDelta int32
//	27 baseTimestamp int64
//	35 maxTimestamp int64
//	43 producerId int64
//	51 producerEpoch int16
//	53 baseSequence int32
//	57 recordCount int32
//	61 records (compressed as one stream when the codec is not none)
//
// Imports: only the standard library, model, kerr (error codes) and the codec
// libraries. Nothing here is goroutine-safe except where a function says so;
// a Batch is a slice and follows slice rules.
package record
