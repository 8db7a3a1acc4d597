package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kbroker/kbroker/tools/internal/kfaketest"
)

func TestOptionErrors(t *testing.T) {
	_, bs := kfaketest.Cluster(t, kfake.SeedTopics(1, "audit"))
	cases := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no bootstrap", []string{"--list"}, "Missing required argument \"[bootstrap-server]\"\n"},
		{"no action", []string{"--bootstrap-server", bs}, actionsMsg + "\n"},
		{"two actions", []string{"--bootstrap-server", bs, "--list", "--describe", "--all-groups"}, actionsMsg + "\n"},
		{"describe without group", []string{"--bootstrap-server", bs, "--describe"},
			"Option [describe] takes one of these options: [all-groups], [group]\n"},
		{"two describe views", []string{"--bootstrap-server", bs, "--describe", "--group", "g", "--members", "--state"},
			"Option [describe] takes at most one of these options: [members], [offsets], [state]\n"},
		{"describe state value", []string{"--bootstrap-server", bs, "--describe", "--group", "g", "--state", "Stable"},
			"Option [describe] does not take a value for [state]\n"},
		{"delete without group", []string{"--bootstrap-server", bs, "--delete"},
			"Option [delete] takes one of these options: [all-groups], [group]\n"},
		{"delete with topic", []string{"--bootstrap-server", bs, "--delete", "--group", "g", "--topic", "t"},
			"The consumer does not support topic-specific offset deletion from a consumer group.\n"},
		{"delete-offsets without topic", []string{"--bootstrap-server", bs, "--delete-offsets", "--group", "g"},
			"Option [delete-offsets] takes the following options: [topic], [group]\n"},
		{"dry-run and execute", []string{"--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--to-earliest", "--dry-run", "--execute"},
			"Option [reset-offsets] only accepts one of [execute] and [dry-run]\n"},
		{"reset without group", []string{"--bootstrap-server", bs, "--reset-offsets", "--to-earliest"},
			dryRunWarning + "\nOption [reset-offsets] takes one of these options: [all-groups], [group]\n"},
		{"two scenarios", []string{"--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--to-earliest", "--to-offset", "3", "--dry-run"},
			"Option \"[to-offset]\" can't be used with option \"[to-earliest]\"\n"},
		{"three scenarios", []string{"--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--shift-by", "1", "--to-current",
			"--by-duration", "PT1S", "--dry-run"}, "Option \"[by-duration]\" can't be used with option \"[to-current]\"\n"},
		{"group and all-groups", []string{"--bootstrap-server", bs, "--describe", "--group", "g", "--all-groups"},
			"Option \"[group]\" can't be used with option \"[all-groups]\"\n"},
		{"group with list", []string{"--bootstrap-server", bs, "--list", "--group", "g"},
			"Option \"[group]\" can't be used with option \"[list]\"\n"},
		{"topic with describe", []string{"--bootstrap-server", bs, "--describe", "--all-groups", "--topic", "t"},
			"Option \"[topic]\" can't be used with option \"[describe]\"\n"},
		{"members without describe", []string{"--bootstrap-server", bs, "--list", "--members"},
			"Option(s) [members] are unavailable given other options on the command line\n"},
		{"type without list", []string{"--bootstrap-server", bs, "--describe", "--all-groups", "--type"},
			"Option(s) [type] are unavailable given other options on the command line\n"},
		{"unknown option", []string{"--bootstrap-server", bs, "--list", "--frobnicate"}, "frobnicate is not a recognized option\n"},
		{"ambiguous prefix", []string{"--bootstrap-server", bs, "--describe", "--all"}, "all is not a recognized option\n"},
		{"missing argument", []string{"--bootstrap-server"}, "Option bootstrap-server requires an argument\n"},
		{"bad timeout", []string{"--bootstrap-server", bs, "--list", "--timeout", "soon"}, "Cannot parse argument 'soon' of option timeout\n"},
		{"bad offset", []string{"--bootstrap-server", bs, "--reset-offsets", "--group", "g", "--topic", "audit", "--to-offset", "x", "--dry-run"},
			"Cannot parse argument 'x' of option to-offset\n"},
		{"missing command config", []string{"--bootstrap-server", bs, "--list", "--command-config", "/nonexistent/admin.properties"},
			"Error: Executing consumer group command failed due to java.io.FileNotFoundException: /nonexistent/admin.properties (No such file or directory)\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, kfaketest.Run(t, run, "", tc.args...), 1, "", tc.stderr)
		})
	}
}

func TestHelpVersionAndUnreachable(t *testing.T) {
	for _, args := range [][]string{nil, {"--help"}, {"--bootstrap-server", "x:1", "--list", "--help"}} {
		r := kfaketest.Run(t, run, "", args...)
		if r.Code != 1 || r.Stdout != "" || !strings.HasPrefix(r.Stderr, helpMsg+"\nOption ") ||
			!strings.Contains(r.Stderr, "--reset-offsets ") || !strings.Contains(r.Stderr, "--timeout <Long: timeout (ms)>") {
			t.Fatalf("%q: %+v", args, r)
		}
	}
	expect(t, kfaketest.Run(t, run, "", "--version"), 0, "3.9.0\n", "")

	dir := t.TempDir()
	cfg := filepath.Join(dir, "admin.properties")
	if err := os.WriteFile(cfg, []byte("client.id=tool\nssl.truststore.location=/x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := kfaketest.Run(t, run, "", "--bootstrap-server", "127.0.0.1:1", "--list", "--timeout", "300", "--command-config", cfg)
	const prefix = "kafka-consumer-groups: note: ignoring client properties this tool does not support: ssl.truststore.location\n" +
		"Error: Executing consumer group command failed due to java.util.concurrent.ExecutionException: " +
		"org.apache.kafka.common.errors.TimeoutException: Timed out waiting for a node assignment. Call: listConsumerGroups"
	if r.Code != 1 || r.Stdout != "" || !strings.HasPrefix(r.Stderr, prefix) || strings.Count(r.Stderr, "\n") != 2 {
		t.Fatalf("unreachable: %+v", r)
	}
}
