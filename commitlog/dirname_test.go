package commitlog_test

import (
	"testing"

	"github.com/kbroker/kbroker/commitlog"
	"github.com/kbroker/kbroker/model"
)

// Partition directory names follow Kafka's UnifiedLog.parseTopicPartitionName:
// the topic is everything before the last '-', the partition everything
// after it, parsed with Integer.parseInt; -delete, -future and -stray
// directories are not live logs.
func TestParseDirName(t *testing.T) {
	cases := []struct {
		name  string
		tp    model.TopicPartition
		valid bool
	}{
		{"foo-0", tp("foo", 0), true},
		{"my-topic-12", tp("my-topic", 12), true},
		{"a.b_c-3", tp("a.b_c", 3), true},
		{"__consumer_offsets-49", tp("__consumer_offsets", 49), true},
		{"foo--1", tp("foo-", 1), true}, // the last '-' splits: topic "foo-"
		{"foo-2147483647", tp("foo", 2147483647), true},
		{"foo-0.abcdef0123456789abcdef0123456789-delete", model.TopicPartition{}, false},
		{"foo-0.abcdef-delete", model.TopicPartition{}, false},
		{"foo-0.abcdef0123456789abcdef0123456789-future", model.TopicPartition{}, false},
		{"foo-0.abcdef0123456789abcdef0123456789-stray", model.TopicPartition{}, false},
		{"foo", model.TopicPartition{}, false},
		{"foo-", model.TopicPartition{}, false},
		{"-0", model.TopicPartition{}, false},
		{"", model.TopicPartition{}, false},
		{"foo-x", model.TopicPartition{}, false},
		{"foo-1x", model.TopicPartition{}, false},
		{"foo-2147483648", model.TopicPartition{}, false}, // overflows an int
		{"foo-0.5", model.TopicPartition{}, false},
	}
	for _, c := range cases {
		got, ok := commitlog.ParseDirName(c.name)
		if ok != c.valid || (ok && got != c.tp) {
			t.Errorf("ParseDirName(%q) = %+v, %v; want %+v, %v", c.name, got, ok, c.tp, c.valid)
		}
		if ok && commitlog.DirName(got) != c.name {
			t.Errorf("DirName(%+v) = %q, want %q", got, commitlog.DirName(got), c.name)
		}
	}
}

// Kafka parses the partition with Integer.parseInt, which accepts leading
// zeros and a '+' sign: "foo-01" is partition 1 of foo.
func TestParseDirNameNonCanonicalPartition(t *testing.T) {
	for name, want := range map[string]model.TopicPartition{"foo-01": tp("foo", 1), "foo-007": tp("foo", 7), "foo-+1": tp("foo", 1)} {
		got, ok := commitlog.ParseDirName(name)
		if !ok || got != want {
			t.Errorf("ParseDirName(%q) = %+v, %v; want %+v", name, got, ok, want)
		}
	}
}

// A log opens only in a directory named <topic>-<partition>.
func TestOpenNeedsPartitionDirName(t *testing.T) {
	for _, name := range []string{"foo", "foo-0.0123456789abcdef0123456789abcdef-delete"} {
		if l, err := commitlog.Open(t.TempDir()+"/"+name, commitlog.Options{Config: commitlog.DefaultConfig()}); err == nil {
			_ = l.Close()
			t.Errorf("Open accepted directory %q", name)
		}
	}
	l := openLog(t, t.TempDir()+"/my.topic-7", commitlog.Options{Config: commitlog.DefaultConfig()})
	if got := l.TopicPartition(); got != tp("my.topic", 7) {
		t.Fatalf("TopicPartition = %+v", got)
	}
}
