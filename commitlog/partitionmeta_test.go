package commitlog_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
	"github.com/kbroker/kbroker/segment"
)

// allOnes is the topic id of 16 0xff bytes; its URL-safe base64 without
// padding, worked out by hand: 21 groups of six 1-bits ('_') then "11"+"0000"
// (48, 'w').
var allOnes = model.TopicID{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

const allOnesText = "_____________________w"

// partition.metadata is exactly "version: 0\ntopic_id: <22 chars>", no
// trailing newline.
func TestPartitionMetadataBytes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "foo-0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := commitlog.WritePartitionMetadata(segment.OS{}, dir, allOnes); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, commitlog.PartitionMetadataFile)
	if got, want := string(readFile(t, path)), "version: 0\ntopic_id: "+allOnesText; got != want {
		t.Fatalf("partition.metadata = %q, want %q", got, want)
	}
	mustNotExist(t, path+".tmp")
	id, ok, err := commitlog.ReadPartitionMetadata(dir)
	if err != nil || !ok || id != allOnes {
		t.Fatalf("ReadPartitionMetadata = %v, %v, %v", id, ok, err)
	}
}

func TestReadPartitionMetadata(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := commitlog.ReadPartitionMetadata(dir); ok || err != nil {
		t.Fatalf("missing file: ok %v, err %v", ok, err)
	}
	path := filepath.Join(dir, commitlog.PartitionMetadataFile)
	good := []string{
		"version: 0\ntopic_id: " + allOnesText,
		"version: 0\ntopic_id: " + allOnesText + "\n", // tolerate a trailing newline
	}
	for _, text := range good {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if id, ok, err := commitlog.ReadPartitionMetadata(dir); err != nil || !ok || id != allOnes {
			t.Errorf("%q: %v, %v, %v", text, id, ok, err)
		}
	}
	bad := []string{
		"",
		"version: 1\ntopic_id: " + allOnesText,
		"version: 0\n",
		"version: 0\ntopic: " + allOnesText,
		"version: 0\ntopic_id: short",
		"topic_id: " + allOnesText + "\nversion: 0",
	}
	for _, text := range bad {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if id, ok, err := commitlog.ReadPartitionMetadata(dir); err == nil {
			t.Errorf("%q: accepted as %v (ok %v)", text, id, ok)
		}
	}
}

// Kafka's Uuid text form: URL-safe base64 of the 16 bytes, no padding.
func TestParseTopicID(t *testing.T) {
	if s := model.ZeroTopicID.String(); s != "AAAAAAAAAAAAAAAAAAAAAA" {
		t.Fatalf("zero id = %q", s)
	}
	if s := allOnes.String(); s != allOnesText {
		t.Fatalf("all-ones id = %q, want %q", s, allOnesText)
	}
	for _, text := range []string{"AAAAAAAAAAAAAAAAAAAAAA", allOnesText, "8Y2ov0hCS6ek7yF1d3xg1A", "-_-_-_-_-_-_-_-_-_-_-A"} {
		id, err := model.ParseTopicID(text)
		if err != nil {
			t.Errorf("ParseTopicID(%q): %v", text, err)
			continue
		}
		if id.String() != text {
			t.Errorf("ParseTopicID(%q).String() = %q", text, id.String())
		}
	}
	if id, _ := model.ParseTopicID(allOnesText); id != allOnes {
		t.Fatalf("ParseTopicID(%q) = %v", allOnesText, id)
	}
	for _, text := range []string{
		"",
		"AAAAAAAAAAAAAAAAAAAAA",    // 21 chars: 15 bytes and change
		"AAAAAAAAAAAAAAAAAAAAAAAA", // 24 chars: 18 bytes
		"++++++++++++++++++++++",   // standard, not URL-safe, alphabet
		"//////////////////////",
		"AAAAAAAAAAAAAAAAAAAA A",
		strings.Repeat("A", 23),
	} {
		if id, err := model.ParseTopicID(text); err == nil {
			t.Errorf("ParseTopicID(%q) accepted as %v", text, id)
		}
	}
}
