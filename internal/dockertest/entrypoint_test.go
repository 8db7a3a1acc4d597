package dockertest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/config"
)

func TestEntrypointStartsKbroker(t *testing.T) {
	env := map[string]string{"KBROKER_BROKER_ID": "1", "KBROKER_ZOOKEEPER_CONNECT": "zk:2181/kafka"}
	argv, kenv, out := runEntrypoint(t, env, "/etc/custom.properties", "--override", "num.partitions=3")
	if want := []string{"/etc/custom.properties", "--override", "num.partitions=3"}; !slices.Equal(argv, want) {
		t.Fatalf("kbroker got %q, want %q (output %s)", argv, want, out)
	}
	// kbroker reads the KBROKER_ variables itself: they must reach it as they are.
	if want := []string{"KBROKER_BROKER_ID=1", "KBROKER_ZOOKEEPER_CONNECT=zk:2181/kafka"}; !slices.Equal(kenv, want) {
		t.Fatalf("kbroker's KBROKER_ environment %q, want %q", kenv, want)
	}

	argv, _, _ = runEntrypoint(t, nil)
	if !slices.Equal(argv, []string{"/etc/kbroker/server.properties"}) {
		t.Fatalf("without arguments kbroker got %q", argv)
	}
	argv, _, _ = runEntrypoint(t, nil, "--override", "broker.rack=r1")
	if want := []string{"/etc/kbroker/server.properties", "--override", "broker.rack=r1"}; !slices.Equal(argv, want) {
		t.Fatalf("kbroker got %q, want %q", argv, want)
	}
}

func TestEntrypointRunsOtherCommands(t *testing.T) {
	argv, _, out := runEntrypoint(t, nil, "echo", "kafka-topics.sh", "--list")
	if !slices.Equal(argv, []string{"kafka-topics.sh --list"}) {
		t.Fatalf("a command was not run as itself: %q", out)
	}
}

func TestEntrypointIsExecutableBash(t *testing.T) {
	path := filepath.Join(repoRoot(t), "docker", "entrypoint.sh")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable (mode %v)", path, st.Mode())
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), "#!/usr/bin/env bash\n") {
		t.Errorf("%s does not start with a bash shebang", path)
	}
}

// TestImageServerProperties loads the image's base configuration with the
// real config package: every name known, every value valid.
func TestImageServerProperties(t *testing.T) {
	cfg, err := config.Load(config.Options{
		File:      filepath.Join(repoRoot(t), "docker", "server.properties"),
		IgnoreEnv: true,
		Hostname:  func() (string, error) { return "container-host", nil },
	})
	if err != nil {
		t.Fatalf("docker/server.properties: %v", err)
	}
	if !slices.Equal(cfg.LogDirs, []string{"/var/lib/kbroker/data"}) {
		t.Errorf("log directories %q, want the image's data volume /var/lib/kbroker/data", cfg.LogDirs)
	}
}
