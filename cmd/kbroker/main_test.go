package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

func TestParseArgs(t *testing.T) {
	file, ov, lv, err := parseArgs([]string{"s.properties", "--override", "a=1", "--override=b=2", "--log-level", "debug"})
	if err != nil || file != "s.properties" || !slices.Equal(ov, []string{"a=1", "b=2"}) || lv != zerolog.DebugLevel {
		t.Fatalf("parseArgs = %q %v %v %v", file, ov, lv, err)
	}
	if _, _, lv, _ := parseArgs([]string{"s.properties"}); lv != zerolog.InfoLevel {
		t.Fatalf("default level %v, want info", lv)
	}
	for _, bad := range [][]string{nil, {"--override", "a=1"}, {"s", "--log-level", "loud"}, {"s", "--log-level=disabled"}, {"s", "extra"}} {
		if _, _, _, err := parseArgs(bad); err == nil {
			t.Errorf("parseArgs(%q) accepted", bad)
		}
	}
}

func TestInvalidConfigurationIsAClearError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(p, []byte("broker.id=1\nlog.retention.hourz=5\nzookeeper.connect=localhost:2181\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{p}, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "log.retention.hourz") || !strings.Contains(stderr.String(), "log.retention.hours") {
		t.Fatalf("stderr does not name the setting and the near miss:\n%s", stderr.String())
	}
}
