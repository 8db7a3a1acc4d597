// Package segment owns the files of one log segment: the .log (record
// batches exactly as on the wire), the sparse .index (offset -> position),
// the .timeindex (timestamp -> offset) and the lazily created .txnindex
// (aborted transactions). File names are the segment's base offset as 20
// zero-padded decimal digits.
//
// Byte layouts (big-endian; details in docs/format/):
//
//	.log        record batch v2, concatenated, no header or padding
//	.index      [relativeOffset int32][position int32]       8 bytes an entry
//	.timeindex  [timestamp int64][relativeOffset int32]      12 bytes an entry
//	.txnindex   [version int16 = 0][producerId int64][firstOffset int64]
//	            [lastOffset int64][lastStableOffset int64]    34 bytes an entry
//
// Index rules (Kafka's): an offset-index entry is added before an append when
// more than index.interval.bytes were appended since the last entry; it holds
// (largest offset of the appended chunk, position where the chunk starts). A
// time-index entry (max timestamp so far, its offset) is tried at the same
// moment and kept only if the timestamp grew. Indexes are preallocated to
// segment.index.bytes (rounded down to the entry size) and trimmed to their
// entries when the segment is rolled or closed; a full index forces a roll.
//
// Indexes are never trusted: an index is checked when first used (size,
// ordering, bounds against the .log) and rebuilt from the .log when the check
// fails; every offset lookup also checks the batch header it lands on, and a
// mismatch rebuilds the index.
//
// Concurrency: a Segment is not goroutine-safe. The owner (commitlog) holds a
// lock: exclusive for Append/TruncateTo/Recover/OnBecomeInactive/Close, shared
// for reads. Lazy index loading is the only thing reads do to shared state and
// it is guarded internally.
//
// Imports: record and model only (and the standard library).
package segment
