package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/segment"
)

// FuzzDumpFiles feeds arbitrary bytes to every file kind: the tool must
// answer with output and an exit status, never a panic, and a fault must be
// reported as an exception line.
func FuzzDumpFiles(f *testing.F) {
	var log []byte
	for _, b := range sampleBatches(f) {
		log = append(log, b...)
	}
	f.Add(log, offsetIndex([2]int32{1, 0}, [2]int32{4, 90}), timeIndex(tsEntry{1005, 1}), producerSnapshot(producerEntry{pid: 1, lastOffset: 2}))
	f.Add(log[:100], []byte{0, 0, 0, 0, 0, 0, 0, 9}, []byte{1, 2, 3}, []byte{0, 1})
	m, _ := legacyMessage(0, 1, 1, 5, []byte("k"), []byte("not gzip"))
	f.Add(m, []byte{}, []byte{}, []byte{})
	f.Fuzz(func(t *testing.T, logData, idx, tidx, snap []byte) {
		dir := t.TempDir()
		name := func(suffix string) string { return filepath.Join(dir, segment.FileName(0, suffix)) }
		writeFile(t, name(segment.LogSuffix), logData)
		writeFile(t, name(segment.IndexSuffix), idx)
		writeFile(t, name(segment.TimeIndexSuffix), tidx)
		writeFile(t, name(segment.TxnIndexSuffix), tidx)
		writeFile(t, name(".snapshot"), snap)
		files := []string{name(segment.LogSuffix), name(segment.IndexSuffix), name(segment.TimeIndexSuffix),
			name(segment.TxnIndexSuffix), name(".snapshot")}
		for _, file := range files {
			var out, errb bytes.Buffer
			code := run([]string{"--files", file, "--print-data-log"}, &out, &errb)
			if code != 0 && !strings.Contains(errb.String(), `Exception in thread "main" `) {
				t.Fatalf("%s: exit %d without an exception line; stderr %q", file, code, errb.String())
			}
		}
	})
}
