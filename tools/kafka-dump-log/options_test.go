package main

import (
	"strings"
	"testing"

	"github.com/kbroker/kbroker/segment"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"--files", "x.log", "--help"}} {
		r := runTool(t, args...)
		if r.code != 1 || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q", args, r.code, r.stdout)
		}
		if !strings.HasPrefix(r.stderr, helpMessage+"\nOption ") || !strings.Contains(r.stderr, "\n--files <String: file1, file2, ...> ") {
			t.Errorf("%v: stderr %q", args, r.stderr)
		}
	}
	r := runTool(t, "--deep-iteration")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Missing required argument \"[files]\"\nOption ") {
		t.Errorf("missing --files: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runTool(t, "--version")
	if r.code != 0 || r.stdout != "3.9.0\n" {
		t.Errorf("--version: exit %d, stdout %q", r.code, r.stdout)
	}
}

func TestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--files", "a.log", "--bogus"}, "joptsimple.UnrecognizedOptionException: bogus is not a recognized option"},
		{[]string{"--files"}, "joptsimple.OptionMissingRequiredArgumentException: Option files requires an argument"},
		{[]string{"--files", "a", "--files", "b"}, "joptsimple.MultipleArgumentsForOptionException: Found multiple arguments for option files, but you asked for only one"},
		{[]string{"--files", "a.log", "--deep-iteration=yes"}, "joptsimple.UnexpectedArgumentException: Option deep-iteration does not take an argument"},
	} {
		r := runTool(t, tc.args...)
		if r.code != 1 || r.stderr != "Exception in thread \"main\" "+tc.want+"\n" {
			t.Errorf("%v: exit %d, stderr %q", tc.args, r.code, r.stderr)
		}
	}
}

func TestOptionForms(t *testing.T) {
	s := newSegment(t, 0, sampleBatches(t)[0])
	p := s.path(segment.LogSuffix)
	want := runTool(t, "--files", p, "--print-data-log").stdout
	if !strings.Contains(want, " key: k0 payload: v0") {
		t.Fatalf("reference output lacks data:\n%s", want)
	}
	// joptsimple accepts --name=value, a single hyphen, unique prefixes,
	// and ignores non-option arguments.
	for _, args := range [][]string{
		{"--files=" + p, "--print"},
		{"-files", p, "-print-data-log", "stray"},
		{"--print-data", "--fi", p},
		{"--files", p, "--value-decoder-class"}, // a decoder option implies --print-data-log
	} {
		r := runTool(t, args...)
		if r.code != 0 || r.stdout != want || r.stderr != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout:\n%s", args, r.code, r.stderr, r.stdout)
		}
	}

	// Integer options are converted when used: a bad --max-message-size
	// does not matter to a .log, and fails an .index.
	if r := runTool(t, "--files", p, "--max-message-size", "ten"); r.code != 0 {
		t.Errorf("bad unused --max-message-size: exit %d, stderr %q", r.code, r.stderr)
	}
	writeFile(t, s.path(segment.IndexSuffix), offsetIndex([2]int32{1, 0}))
	r := runTool(t, "--files", s.path(segment.IndexSuffix), "--max-message-size", "ten")
	if r.code != 1 || !strings.Contains(r.stderr, "joptsimple.OptionArgumentConversionException: Cannot parse argument 'ten' of option max-message-size") {
		t.Errorf("bad --max-message-size: exit %d, stderr %q", r.code, r.stderr)
	}

	r = runTool(t, "--files", p, "--offsets-decoder")
	if r.code != 0 || !strings.Contains(r.stderr, "--offsets-decoder is not supported") || !strings.Contains(r.stdout, " key: k0 payload: v0") {
		t.Errorf("--offsets-decoder: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestNoSuffixAndEmptyNames(t *testing.T) {
	r := runTool(t, "--files", "recovery-point-offset-checkpoint,,x.deleted,")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	assertLines(t, "stdout", r.stdout, []string{"Dumping recovery-point-offset-checkpoint", "Dumping ", "Dumping x.deleted"})
	assertLines(t, "stderr", r.stderr, []string{"Ignoring unknown file recovery-point-offset-checkpoint",
		"Ignoring unknown file ", "Ignoring unknown file x.deleted"})
}

func TestJavaString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":             "plain",
		"\xe2\x82\xac":      "€",
		"\xe2\x82A":         "\uFFFDA",      // truncated 3-byte sequence: one replacement
		"\xc0\xaf":          "\uFFFD\uFFFD", // overlong: each byte
		"\xed\xa0\x80":      "\uFFFD\uFFFD\uFFFD",
		"\xf0\x9f\x98\x80x": "😀x",
		"\xf0\x9f\x98":      "\uFFFD",
		"a\xffb":            "a\uFFFDb",
	} {
		if got := javaString([]byte(in)); got != want {
			t.Errorf("javaString(%q) = %q, want %q", in, got, want)
		}
	}
}
