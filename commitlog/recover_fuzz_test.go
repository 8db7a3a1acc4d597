package commitlog_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/internal/faultfs"
	"github.com/kbroker/kbroker/record"
	"github.com/kbroker/kbroker/segment"
)

// fuzzPrefix is three valid batches with offsets 0..5, as a leader wrote them.
func fuzzPrefix(t testing.TB) []byte {
	var out []byte
	for i := 0; i < 3; i++ {
		b := record.Batch(rtBatch(t, i, 30))
		b.SetBaseOffset(int64(2 * i))
		b.SetPartitionLeaderEpoch(1)
		out = append(out, b...)
	}
	return out
}

// fuzzTempRoot is /dev/shm when it is a usable directory, else the default.
func fuzzTempRoot() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return ""
}

// FuzzRecoverTail appends arbitrary bytes to a valid segment and opens it
// after a crash: recovery never panics, keeps the valid prefix, and leaves a
// file made only of whole batches with valid CRCs and increasing offsets.
func FuzzRecoverTail(f *testing.F) {
	prefix := fuzzPrefix(f)
	next := record.Batch(rtBatch(f, 3, 10))
	next.SetBaseOffset(6)
	f.Add([]byte{})
	f.Add([]byte{0, 0, 0})
	f.Add([]byte(next))
	f.Add([]byte(next[:40]))
	stale := append([]byte{}, prefix[:len(prefix)/3]...)
	f.Add(stale)
	f.Fuzz(func(t *testing.T, tail []byte) {
		// Memory-backed when possible: the disk is not what is under test
		// and unlinking thousands of files on a busy disk stalls fuzzing.
		tmp, err := os.MkdirTemp(fuzzTempRoot(), "recover")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		dir := filepath.Join(tmp, "fuzz-0")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(dir, segment.FileName(0, segment.LogSuffix))
		if err := os.WriteFile(logPath, append(append([]byte{}, prefix...), tail...), 0o644); err != nil {
			t.Fatal(err)
		}
		fs := faultfs.New()
		fs.NoSync = true
		l, err := commitlog.Open(dir, commitlog.Options{Config: commitlog.DefaultConfig(), Logger: zerolog.Nop(), FS: fs})
		if errors.Is(err, segment.ErrLegacyFormat) {
			return // a whole, valid legacy message: refused, not truncated
		}
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		leo := l.LogEndOffset()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(logPath)
		if !bytes.HasPrefix(data, prefix) {
			t.Fatal("recovery damaged the valid prefix")
		}
		batches := rtScanFile(t, logPath)
		var end int64
		if n := len(batches); n > 0 {
			end = batches[n-1].pos + batches[n-1].size
			if batches[n-1].last+1 != int64(leo) {
				t.Fatalf("log end offset %d but the last batch ends at %d", leo, batches[n-1].last)
			}
		}
		if end != int64(len(data)) {
			t.Fatalf("%d bytes kept but only %d are valid batches", len(data), end)
		}
	})
}
