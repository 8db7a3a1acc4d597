package logdir_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kbroker/kbroker/logdir"
	"github.com/kbroker/kbroker/segment"
)

// The bytes Java's Properties.store writes for a ZooKeeper-mode
// meta.properties (measured with Java 17 on this machine): a "#" line for
// the empty comment, the date as Date.toString prints it, then the keys in
// the iteration order of the Properties hash table.
func TestWriteMetaPropertiesBytes(t *testing.T) {
	dir := t.TempDir()
	m := logdir.MetaProperties{Version: 0, BrokerID: 1, ClusterID: "8Y2ov0hCS6ek7yF1d3xg1A"}
	now := time.Date(2024, 1, 2, 10, 0, 0, 0, time.UTC)
	if err := logdir.WriteMetaProperties(segment.OS{}, dir, m, now); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, logdir.MetaPropertiesFile)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "#\n#Tue Jan 02 10:00:00 UTC 2024\nbroker.id=1\nversion=0\ncluster.id=8Y2ov0hCS6ek7yF1d3xg1A\n"
	if string(got) != want {
		t.Fatalf("meta.properties = %q, want %q", got, want)
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Fatalf("meta.properties.tmp left behind")
	}
	back, ok, err := logdir.ReadMetaProperties(dir)
	if err != nil || !ok {
		t.Fatalf("ReadMetaProperties: %v, %v", ok, err)
	}
	if back.Version != 0 || back.BrokerID != 1 || back.ClusterID != m.ClusterID || len(back.Extra) != 0 {
		t.Fatalf("read back %+v", back)
	}
}

// Round trip with an extra key and keys and values that need escaping.
func TestMetaPropertiesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := logdir.MetaProperties{
		BrokerID:  2147483647,
		ClusterID: "a:b=c #d",
		Extra:     map[string]string{"directory.id": "_____________________w", "x y": "\tz\\"},
	}
	if err := logdir.WriteMetaProperties(segment.OS{}, dir, m, time.Date(2024, 6, 30, 23, 59, 59, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	back, ok, err := logdir.ReadMetaProperties(dir)
	if err != nil || !ok {
		t.Fatalf("ReadMetaProperties: %v, %v", ok, err)
	}
	if back.BrokerID != m.BrokerID || back.ClusterID != m.ClusterID || len(back.Extra) != 2 ||
		back.Extra["directory.id"] != m.Extra["directory.id"] || back.Extra["x y"] != m.Extra["x y"] {
		t.Fatalf("read back %+v, want %+v", back, m)
	}
	// Measured with Java 17's Properties.store on the same five entries.
	data, _ := os.ReadFile(filepath.Join(dir, logdir.MetaPropertiesFile))
	want := "#\n#Sun Jun 30 23:59:59 UTC 2024\nx\\ y=\\tz\\\\\nbroker.id=2147483647\ndirectory.id=_____________________w\nversion=0\ncluster.id=a\\:b\\=c \\#d\n"
	if string(data) != want {
		t.Fatalf("meta.properties = %q, want %q", data, want)
	}
}

// Files written by Kafka, or edited by hand, in the Properties text format.
func TestReadMetaPropertiesVariants(t *testing.T) {
	cases := []struct {
		name, text string
		broker     int32
		cluster    string
	}{
		{"as Kafka writes it", "#\n#Tue Jan 02 10:00:00 UTC 2024\nversion=0\nbroker.id=1\ncluster.id=8Y2ov0hCS6ek7yF1d3xg1A\n", 1, "8Y2ov0hCS6ek7yF1d3xg1A"},
		{"spaces around =", "version = 0\nbroker.id = 7\ncluster.id = abc\n", 7, "abc"},
		{"comments with # and !", "# a comment\n! another\n   # indented comment\nversion=0\nbroker.id=3\ncluster.id=q\n", 3, "q"},
		{"colon separators", "version:0\nbroker.id: 4\ncluster.id :r\n", 4, "r"},
		{"whitespace separator", "version 0\nbroker.id\t5\ncluster.id   s\n", 5, "s"},
		{"CRLF line ends", "version=0\r\nbroker.id=6\r\ncluster.id=t\r\n", 6, "t"},
		{"continuation line", "version=0\nbroker.id=8\ncluster.id=ab\\\n    cd\n", 8, "abcd"},
		{"escapes", "version=0\nbroker.id=9\ncluster.id=a\\:b\\=c\\u0041\n", 9, "a:b=cA"},
		{"no cluster id (written before one existed)", "version=0\nbroker.id=10\n", 10, ""},
		{"unknown keys kept aside", "version=0\nbroker.id=11\ncluster.id=u\ndirectory.id=AAAAAAAAAAAAAAAAAAAAAA\n", 11, "u"},
		{"last line without newline", "version=0\nbroker.id=12\ncluster.id=v", 12, "v"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, logdir.MetaPropertiesFile), []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			m, ok, err := logdir.ReadMetaProperties(dir)
			if err != nil || !ok {
				t.Fatalf("ReadMetaProperties: ok %v, err %v", ok, err)
			}
			if m.Version != 0 || m.BrokerID != c.broker || m.ClusterID != c.cluster {
				t.Fatalf("got %+v, want broker %d cluster %q", m, c.broker, c.cluster)
			}
		})
	}
}

func TestReadMetaPropertiesErrors(t *testing.T) {
	dir := t.TempDir()
	if _, ok, err := logdir.ReadMetaProperties(dir); ok || err != nil {
		t.Fatalf("missing file: ok %v, err %v; want false, nil", ok, err)
	}
	for _, text := range []string{
		"broker.id=1\ncluster.id=x\n",       // no version
		"version=0\ncluster.id=x\n",         // no broker.id
		"version=0\nbroker.id=one\n",        // broker.id not a number
		"version=zero\nbroker.id=1\n",       // version not a number
		"version=0\nbroker.id=2147483648\n", // broker.id overflows an int
	} {
		if err := os.WriteFile(filepath.Join(dir, logdir.MetaPropertiesFile), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if m, _, err := logdir.ReadMetaProperties(dir); err == nil {
			t.Errorf("%q accepted as %+v", text, m)
		}
	}
}
