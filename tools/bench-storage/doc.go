// Command bench-storage measures kbroker's partition-log append speed
// against a plain sequential writer on the same disk, in the same run, and
// prints the ratio. Both write the same batch bytes through the page cache
// (no fsync), so the ratio is the cost of what the log adds: validation,
// offset assignment, the sparse indexes and segment rolls.
//
//	go run ./tools/bench-storage [-dir DIR] [-total 1GiB] [-rounds 3]
//
// It may import commitlog and record (it drives the storage engine
// directly; there is no broker in the loop).
package main
