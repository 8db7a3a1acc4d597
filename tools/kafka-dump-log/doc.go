// Command kafka-dump-log prints the contents of the files of a partition
// directory the way Apache Kafka 3.9's kafka-dump-log.sh
// (kafka.tools.DumpLogSegments) prints them, so that runbooks, scripts and
// eyes used to Kafka's output work unchanged on kbroker's data (which is
// byte-for-byte Kafka's on-disk format).
//
// Usage (scripts/kafka-dump-log.sh builds and runs it from any directory):
//
//	kafka-dump-log --files 00000000000000000000.log[,more files] [--print-data-log]
//	    [--deep-iteration] [--skip-record-metadata] [--max-bytes N]
//	    [--index-sanity-check] [--verify-index-only] [--max-message-size N]
//	    [--key-decoder-class C] [--value-decoder-class C] [--help] [--version]
//
// What it reads, chosen by the file name's last suffix like Kafka:
//
//	.log         record batches: one line per batch, and with --deep-iteration
//	             or --print-data-log one "| offset: ..." line per record
//	             (v2 batches via package record; legacy magic 0/1 message sets
//	             are parsed here, since record rejects them)
//	.checkpoint  KRaft snapshots, dumped like a .log (header line only differs)
//	.index       offset index: 8-byte entries [relativeOffset int32][position int32],
//	             checked against the .log of the same base offset
//	.timeindex   time index: 12-byte entries [timestamp int64][relativeOffset int32],
//	             checked against the .index and the .log
//	.txnindex    aborted transactions, 34-byte entries [version int16][producerId int64]
//	             [firstOffset int64][lastOffset int64][lastStableOffset int64]
//	.snapshot    producer state: version int16 = 1, crc uint32 (CRC-32C of the rest),
//	             int32 count, then per producer: producerId int64, epoch int16,
//	             lastSequence int32, lastOffset int64, offsetDelta int32,
//	             timestamp int64, coordinatorEpoch int32, currentTxnFirstOffset int64
//	other        "Ignoring unknown file <path>" on stderr
//
// All integers are big-endian; index offsets are relative to the base offset
// in the file name. Index files are read directly by their byte layout, not
// through package segment, because the tool must show a damaged index as it
// is rather than rebuild it.
//
// Faults: where Kafka's tool dies with an uncaught exception (a batch size
// below 14 bytes, an unknown codec, a record that does not parse, a missing
// file, ...), this tool prints the exception's first line as the JVM would
// ("Exception in thread "main" <class>: <message>"), stops and exits 1. It
// never panics on bad input. Summaries of index mismatches and
// non-consecutive offsets go to stderr after all files, as in Kafka.
//
// Imports: the standard library, record and segment (design rule: tools may
// import segment for dump-log). No goroutines; run is called once per
// process (tests call it directly with their own writers).
package main
