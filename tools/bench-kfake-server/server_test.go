package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFile polls for path until it exists or the deadline passes.
func waitFile(t *testing.T, path string, done <-chan int) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(path); err == nil {
			return strings.TrimSpace(string(b))
		}
		select {
		case code := <-done:
			t.Fatalf("server exited with %d before writing %s", code, path)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("no %s after 30 s", path)
	return ""
}

func TestServe(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	addrFile := filepath.Join(dir, "addr")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- serve(ctx, []string{"-data-dir", data, "-topic", "a:3", "-topic", "b:1", "-addr-file", addrFile}, &stdout, &stderr)
	}()
	addr := waitFile(t, addrFile, done)
	if got := stdout.String(); got != "listening on "+addr+"\n" {
		t.Fatalf("stdout %q (addr %s)", got, addr)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	req := kmsg.NewPtrMetadataRequest()
	resp, err := req.RequestWith(rctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, tp := range resp.Topics {
		got[*tp.Topic] = len(tp.Partitions)
	}
	if len(resp.Brokers) != 1 || got["a"] != 3 || got["b"] != 1 || len(got) != 2 {
		t.Fatalf("brokers %d, topics %v", len(resp.Brokers), got)
	}
	if err := cl.ProduceSync(rctx, &kgo.Record{Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 || stderr.String() != "" {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	// The data directory holds what kfake persisted.
	var files int
	filepath.WalkDir(data, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return nil
	})
	if files == 0 {
		t.Fatal("nothing persisted in the data directory")
	}
}

func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-topic", "x"}, 2, `invalid value "x" for flag -topic: want NAME:PARTITIONS with PARTITIONS >= 1, got "x"`},
		{[]string{"-port", "70000"}, 1, "bench-kfake-server: -port 70000 out of range"},
		{[]string{"extra"}, 2, `bench-kfake-server: unexpected arguments ["extra"]`},
	} {
		var stdout, stderr syncBuffer
		code := serve(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.HasPrefix(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q", tc.args, code, stderr.String())
		}
	}
}
