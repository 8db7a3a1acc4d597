package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func TestAgainstKfake(t *testing.T) {
	_, bs := kfaketest.Cluster(t)
	var out, errb bytes.Buffer
	code := run([]string{"-bootstrap", bs, "-members", "3", "-partitions", "6", "-rounds", "2", "-committers", "2", "-duration", "500ms"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	want := regexp.MustCompile(`(?s)^rebalance: 3 members, first join \S+ \(includes group.initial.rebalance.delay.ms\), one more member: median \S+ \(min \S+, max \S+, 2 rounds\)\n` +
		`commits: 2 committers, [1-9][0-9]* commits/s over 500ms\n$`)
	if !want.MatchString(out.String()) {
		t.Fatalf("output:\n%s", out.String())
	}
}

func TestBadFlags(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"-members", "3"}, &out, &errb); code != 2 {
		t.Fatalf("exit %d without -bootstrap", code)
	}
}
