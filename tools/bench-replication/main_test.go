package main

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

// The tool's output format and request logic against kfake (three fake
// brokers); the figures themselves mean nothing there.
func TestAgainstKfake(t *testing.T) {
	_, bs := kfaketest.Cluster(t)
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	code := run(ctx, []string{"--bootstrap-server", bs, "--records", "500", "--record-size", "100", "--sync-records", "20", "--warmup", "5"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	num := `[0-9]+(\.[0-9]+)?`
	line := func(label string) string {
		return regexp.QuoteMeta(label) + ` +` + num + ` +` + num + ` +` + num + ` +` + num + `\n`
	}
	ratioLine := `ratio all-RF3/1-RF1 +(` + num + `x|-) +(` + num + `x|-) +(` + num + `x|-) +(` + num + `x|-)\n`
	head := ` +records/s +MiB/s +p50 ms +p99 ms\n`
	want := regexp.MustCompile(`^bench-replication: 500 records of 100 B, 3 partitions per topic, bootstrap \S+\n` +
		`\npipelined \(500 records, up to 10000 in flight\)\n` + head + line("acks=all RF=3") + line("acks=1 RF=1") + ratioLine +
		`\none record in flight \(20 records, each waits for its acknowledgement\)\n` + head + line("acks=all RF=3") + line("acks=1 RF=1") + ratioLine + `$`)
	if !want.MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--records", "3"},
		{"--bootstrap-server", "x:1", "--records", "0"},
		{"--bootstrap-server", "x:1", "extra"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

func TestPercentile(t *testing.T) {
	var r result
	for i := 1; i <= 100; i++ {
		r.lat = append(r.lat, time.Duration(i)*time.Millisecond)
	}
	if got := r.percentile(0.5); got != 50*time.Millisecond {
		t.Errorf("p50 %v", got)
	}
	if got := r.percentile(0.99); got != 99*time.Millisecond {
		t.Errorf("p99 %v", got)
	}
	if got := (result{}).percentile(0.99); got != 0 {
		t.Errorf("empty p99 %v", got)
	}
}
