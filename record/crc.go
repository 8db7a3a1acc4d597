package record

import (
	"encoding/binary"
	"hash/crc32"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ComputeCRC returns the CRC-32C of the bytes the stored CRC covers: from the
// attributes field to the end of the batch. baseOffset, batchLength,
// partitionLeaderEpoch, magic and the crc itself are outside it.
func (b Batch) ComputeCRC() uint32 { return crc32.Checksum(b[attributesPos:], castagnoli) }

// CRCValid reports whether the stored CRC matches the bytes.
func (b Batch) CRCValid() bool { return b.CRC() == b.ComputeCRC() }

// updateCRC stores a freshly computed CRC.
func (b Batch) updateCRC() { binary.BigEndian.PutUint32(b[crcPos:], b.ComputeCRC()) }
