package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/segment"
)

// TestDumpSegmentWrittenBySegmentPackage dumps the files kbroker's own
// segment writer produces and checks that Kafka's index checks find
// nothing wrong with them.
func TestDumpSegmentWrittenBySegmentPackage(t *testing.T) {
	dir := t.TempDir()
	cfg := segment.DefaultConfig()
	cfg.IndexIntervalBytes = 1 // an index entry before every append but the first
	seg, err := segment.Create(segment.OS{}, dir, 0, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	batches := sampleBatches(t)
	for _, b := range batches {
		// The time index keeps, per chunk, the max timestamp and the offset
		// of the batch holding it (its last offset).
		if err := seg.Append(b.LastOffset(), b.MaxTimestamp(), b.LastOffset(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := seg.Close(); err != nil {
		t.Fatal(err)
	}
	files := []string{
		filepath.Join(dir, segment.FileName(0, segment.LogSuffix)),
		filepath.Join(dir, segment.FileName(0, segment.IndexSuffix)),
		filepath.Join(dir, segment.FileName(0, segment.TimeIndexSuffix)),
	}
	r := runTool(t, "--files", strings.Join(files, ","), "--deep-iteration")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	s := &testSegment{batches: batches}
	pos := 0
	for _, b := range batches {
		s.positions = append(s.positions, pos)
		pos += len(b)
	}
	want := []string{"Dumping " + files[0], "Log starting offset: 0"}
	for i, bl := range expectedBatchLines(s) {
		want = append(want, bl)
		want = append(want, recordLines[i]...)
	}
	want = append(want, "Dumping "+files[1])
	for i := 1; i < len(batches); i++ {
		want = append(want, "offset: "+itoa(batches[i].LastOffset())+" position: "+itoa(int64(s.positions[i])))
	}
	want = append(want, "Dumping "+files[2])
	got := lines(r.stdout)
	if len(got) < len(want) {
		t.Fatalf("short output:\n%s", r.stdout)
	}
	assertLines(t, "log and index", strings.Join(got[:len(want)], "\n"), want)
	// Time index entries: timestamps grow; every one was checked above
	// against the .log (no stderr).
	for _, l := range got[len(want):] {
		if !strings.HasPrefix(l, "timestamp: ") {
			t.Errorf("unexpected time index line %q", l)
		}
	}
	if len(got) == len(want) {
		t.Error("the time index has no entries")
	}
}

// TestWrapperScript runs scripts/kafka-dump-log.sh from another directory
// with a relative path, as an operator would.
func TestWrapperScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	script, err := filepath.Abs("../../scripts/kafka-dump-log.sh")
	if err != nil {
		t.Fatal(err)
	}
	s := newSegment(t, 0, sampleBatches(t)[0])
	cmd := exec.Command("bash", script, "--files", segment.FileName(0, segment.LogSuffix), "--print-data-log")
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "KBROKER_TOOLS_BIN="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := []string{"Dumping 00000000000000000000.log", "Log starting offset: 0", expectedBatchLines(s)[0],
		recordLines[0][0] + dataParts[0][0], recordLines[0][1] + dataParts[0][1]}
	assertLines(t, "script output", string(out), want)
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
