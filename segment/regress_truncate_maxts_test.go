package segment_test

import (
	"testing"

	"github.com/kbroker/kbroker/segment"
)

// After a restart (segment opened, max timestamp not loaded yet) a
// truncation that removes the time index's last entry must recompute the max
// timestamp from the batches that remain (Kafka's LogSegment.truncateTo calls
// readLargestTimestamp whenever maxTimestampSoFar() >= 0, which lazily loads
// it first). Here the remaining batch at offset 3 has timestamp 400, but the
// segment reports 300 (the last surviving time-index entry), so time-based
// retention would see the segment as older than it is.
func TestRegressionTruncateAfterReopenKeepsMaxTimestamp(t *testing.T) {
	dir := t.TempDir()
	cfg := segment.Config{IndexIntervalBytes: 100, MaxIndexSize: 1200}
	s, err := segment.Create(segment.OS{}, dir, 0, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := int64(0); i < 5; i++ {
		ts := (i + 1) * 100
		if err := s.Append(i, ts, i, handBatch(i, ts)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = segment.Open(segment.OS{}, dir, 0, cfg, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Activate(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TruncateTo(4, 0); err != nil {
		t.Fatal(err)
	}
	got, err := s.MaxTimestamp()
	if err != nil {
		t.Fatal(err)
	}
	if got.Timestamp != 400 || got.Offset != 3 {
		t.Fatalf("max timestamp after truncating to 4 = %+v, want {400 3} (batches 0..3 have timestamps 100..400)", got)
	}
}
