package segment

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// fileEntries reads the offset-index entries the file itself holds (zeros
// past the written ones, as the file is preallocated).
func fileEntries(t *testing.T, path string, n int) []OffsetPosition {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []OffsetPosition
	for i := 0; i < n && (i+1)*offsetEntrySize <= len(b); i++ {
		e := b[i*offsetEntrySize:]
		out = append(out, OffsetPosition{Offset: int64(binary.BigEndian.Uint32(e)), Position: int32(binary.BigEndian.Uint32(e[4:]))})
	}
	return out
}

// Entries are held in memory until pendingMax bytes collect or the index is
// flushed, trimmed or closed; lookups see them all along, and truncation
// works across the written/pending boundary.
func TestIndexPendingEntries(t *testing.T) {
	path := filepath.Join(t.TempDir(), "00000000000000000000.index")
	ix, err := openOffsetIndex(OS{}, path, 0, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.close()
	for i := int64(1); i <= 10; i++ {
		if err := ix.append(i, int32(i*100)); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := ix.lookup(7); got != (OffsetPosition{7, 700}) {
		t.Fatalf("lookup(7) = %+v before any write", got)
	}
	if fe := fileEntries(t, path, 1); fe[0] != (OffsetPosition{}) {
		t.Fatalf("an entry reached the file before a flush: %+v", fe)
	}
	if err := ix.flush(); err != nil {
		t.Fatal(err)
	}
	if fe := fileEntries(t, path, 10); fe[9] != (OffsetPosition{10, 1000}) || fe[0] != (OffsetPosition{1, 100}) {
		t.Fatalf("file after flush: %+v", fe)
	}
	// Five more pending, then truncate into the pending part, then into
	// the written part; appends continue from the truncation point.
	for i := int64(11); i <= 15; i++ {
		if err := ix.append(i, int32(i*100)); err != nil {
			t.Fatal(err)
		}
	}
	ix.truncateToEntries(12)
	if ix.entries != 12 || ix.lastOffset() != 12 {
		t.Fatalf("after truncating to 12: %d entries, last %d", ix.entries, ix.lastOffset())
	}
	ix.truncateToEntries(4)
	if ix.entries != 4 || ix.lastOffset() != 4 {
		t.Fatalf("after truncating to 4: %d entries, last %d", ix.entries, ix.lastOffset())
	}
	if err := ix.append(5, 555); err != nil {
		t.Fatal(err)
	}
	if err := ix.trim(); err != nil {
		t.Fatal(err)
	}
	fe := fileEntries(t, path, 10)
	if len(fe) != 5 || fe[4] != (OffsetPosition{5, 555}) || fe[3] != (OffsetPosition{4, 400}) {
		t.Fatalf("file after truncation, append and trim: %+v", fe)
	}
	// A full pending buffer is written without a flush.
	if err := ix.resize(1 << 20); err != nil {
		t.Fatal(err)
	}
	for i := int64(6); i < 6+pendingMax/offsetEntrySize; i++ {
		if err := ix.append(i, int32(i)); err != nil {
			t.Fatal(err)
		}
	}
	if len(ix.pending) != 0 || ix.written != ix.entries {
		t.Fatalf("%d bytes still pending after %d appends", len(ix.pending), pendingMax/offsetEntrySize)
	}
}
