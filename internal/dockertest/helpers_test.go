package dockertest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kbroker/kbroker/internal/testcluster"
	"go.yaml.in/yaml/v3"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := testcluster.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// compose is the part of the Compose file format the tests look at.
type compose struct {
	Name     string                    `yaml:"name"`
	Services map[string]service        `yaml:"services"`
	Volumes  map[string]*composeVolume `yaml:"volumes"`
}

type composeVolume struct {
	Driver string `yaml:"driver"`
}

type service struct {
	Image       string            `yaml:"image"`
	Build       *build            `yaml:"build"`
	Hostname    string            `yaml:"hostname"`
	Environment environment       `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Volumes     []string          `yaml:"volumes"`
	DependsOn   map[string]depend `yaml:"depends_on"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	StopGracePeriod string `yaml:"stop_grace_period"`
}

type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type depend struct {
	Condition string `yaml:"condition"`
}

// environment accepts both Compose forms: a map and a list of NAME=value.
type environment map[string]string

func (e *environment) UnmarshalYAML(n *yaml.Node) error {
	out := environment{}
	switch n.Kind {
	case yaml.MappingNode:
		var m map[string]string
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			out[k] = v
		}
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err != nil {
			return err
		}
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
	default:
		return fmt.Errorf("environment: unexpected YAML kind %v", n.Kind)
	}
	*e = out
	return nil
}

func loadCompose(t *testing.T) compose {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(false) // x- extension fields and keys the tests ignore
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	Line int
	Cmd  string   // upper case: FROM, RUN, COPY, ...
	Args []string // whitespace-separated arguments (flags included)
	Raw  string   // the text after the instruction keyword
}

func parseDockerfile(t *testing.T, path string) []instruction {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []instruction
	sc := bufio.NewScanner(f)
	var cur strings.Builder
	start, n := 0, 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = n
		} else if strings.HasPrefix(trimmed, "#") {
			continue // comments inside a continued instruction
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\"))
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		text := cur.String()
		cur.Reset()
		cmd, rest, _ := strings.Cut(text, " ")
		out = append(out, instruction{Line: start, Cmd: strings.ToUpper(cmd), Args: strings.Fields(rest), Raw: strings.TrimSpace(rest)})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if cur.Len() > 0 {
		t.Fatalf("%s: the last instruction ends with a line continuation", path)
	}
	return out
}

// runEntrypoint runs docker/entrypoint.sh with a stand-in kbroker on PATH
// that prints its arguments (one per line), then "--env--", then the
// KBROKER_ variables it received.
func runEntrypoint(t *testing.T, env map[string]string, args ...string) (argv []string, kbrokerEnv []string, out string) {
	t.Helper()
	bin := t.TempDir()
	stub := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\necho --env--\nenv | grep '^KBROKER_' | sort\n"
	if err := os.WriteFile(filepath.Join(bin, "kbroker"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(repoRoot(t), "docker", "entrypoint.sh"), args...)
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin"}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("entrypoint %v: %v\n%s", args, err, b)
	}
	out = string(b)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i, l := range lines {
		if l == "--env--" {
			return lines[:i], lines[i+1:], out
		}
	}
	return lines, nil, out
}
