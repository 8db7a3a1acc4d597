package wrappers

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func scriptsDir(t *testing.T) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("no caller")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts")
}

type result struct {
	stdout, stderr string
	code           int
}

func script(t *testing.T, bin, name, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(scriptsDir(t), name)}, args...)...)
	cmd.Dir = t.TempDir() // the wrappers work from any directory
	cmd.Env = append(cmd.Environ(), "KBROKER_TOOLS_BIN="+bin)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return result{out.String(), errb.String(), code}
}

func TestWrappers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds nine binaries")
	}
	bin := t.TempDir()
	for _, name := range []string{"kafka-topics.sh", "kafka-console-producer.sh", "kafka-console-consumer.sh",
		"kafka-broker-api-versions.sh", "kafka-get-offsets.sh", "kafka-consumer-groups.sh", "kafka-leader-election.sh",
		"kafka-transactions.sh"} {
		if r := script(t, bin, name, "", "--version"); r.code != 0 || r.stdout != "3.9.0\n" {
			t.Fatalf("%s --version: %+v", name, r)
		}
	}

	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "w"))
	if r := script(t, bin, "kafka-topics.sh", "", "--bootstrap-server", bs, "--list"); r.code != 0 || r.stdout != "w\n" {
		t.Fatalf("list: %+v", r)
	}
	if r := script(t, bin, "kafka-topics.sh", "", "--bootstrap-server", bs, "--describe", "--topic", "gone"); r.code != 1 ||
		r.stderr != "Topic 'gone' does not exist as expected\n" {
		t.Fatalf("describe missing: %+v", r)
	}
	if r := script(t, bin, "kafka-console-producer.sh", "a:1\nb:2\n", "--bootstrap-server", bs, "--topic", "w",
		"--property", "parse.key=true", "--property", "key.separator=:"); r.code != 0 || r.stderr != "" {
		t.Fatalf("produce: %+v", r)
	}
	if r := script(t, bin, "kafka-console-consumer.sh", "", "--bootstrap-server", bs, "--topic", "w", "--from-beginning",
		"--max-messages", "2", "--property", "print.key=true", "--property", "print.offset=true"); r.code != 0 ||
		r.stdout != "Offset:0\ta\t1\nOffset:1\tb\t2\n" || r.stderr != "Processed a total of 2 messages\n" {
		t.Fatalf("consume: %+v", r)
	}
	if r := script(t, bin, "kafka-get-offsets.sh", "", "--bootstrap-server", bs, "--topic", "w"); r.code != 0 || r.stdout != "w:0:2\n" {
		t.Fatalf("offsets: %+v", r)
	}
	if r := script(t, bin, "kafka-consumer-groups.sh", "", "--bootstrap-server", bs, "--describe", "--group", "none"); r.code != 0 ||
		r.stdout != "\nError: Consumer group 'none' does not exist.\n" || r.stderr != "" {
		t.Fatalf("consumer groups: %+v", r)
	}
	if r := script(t, bin, "kafka-consumer-groups.sh", "", "--bootstrap-server", bs, "--list", "--group", "g"); r.code != 1 ||
		r.stderr != "Option \"[group]\" can't be used with option \"[list]\"\n" {
		t.Fatalf("consumer groups usage: %+v", r)
	}
	if r := script(t, bin, "kafka-broker-api-versions.sh", "", "--bootstrap-server", bs); r.code != 0 ||
		strings.Count(r.stdout, " -> (\n") != 3 {
		t.Fatalf("api versions: %+v", r)
	}
	if r := script(t, bin, "kafka-producer-perf-test.sh", "", "--topic", "w", "--num-records", "50", "--record-size", "10",
		"--throughput", "-1", "--producer-props", "bootstrap.servers="+bs, "acks=1"); r.code != 0 ||
		!strings.HasPrefix(lastLine(r.stdout), "50 records sent, ") {
		t.Fatalf("producer perf: %+v", r)
	}
	if r := script(t, bin, "kafka-consumer-perf-test.sh", "", "--bootstrap-server", bs, "--topic", "w", "--messages", "52",
		"--hide-header"); r.code != 0 || !strings.Contains(lastLine(r.stdout), ", 52, ") {
		t.Fatalf("consumer perf: %+v", r)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}
