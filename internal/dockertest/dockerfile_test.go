package dockertest

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type stage struct {
	name, image string
	insts       []instruction
}

func stages(t *testing.T) []stage {
	t.Helper()
	var out []stage
	for _, in := range parseDockerfile(t, filepath.Join(repoRoot(t), "Dockerfile")) {
		if in.Cmd == "FROM" {
			s := stage{image: in.Args[0]}
			if len(in.Args) == 3 && strings.EqualFold(in.Args[1], "AS") {
				s.name = in.Args[2]
			}
			out = append(out, s)
			continue
		}
		if len(out) == 0 {
			if in.Cmd != "ARG" {
				t.Fatalf("Dockerfile line %d: %s before the first FROM", in.Line, in.Cmd)
			}
			continue
		}
		out[len(out)-1].insts = append(out[len(out)-1].insts, in)
	}
	return out
}

// flagsAndPaths splits COPY arguments into --flags, sources and destination.
func flagsAndPaths(in instruction) (flags map[string]string, srcs []string, dst string) {
	flags = map[string]string{}
	var rest []string
	for _, a := range in.Args {
		if strings.HasPrefix(a, "--") {
			k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
			flags[k] = v
			continue
		}
		rest = append(rest, a)
	}
	if len(rest) < 2 {
		return flags, nil, ""
	}
	return flags, rest[:len(rest)-1], rest[len(rest)-1]
}

func TestDockerfileStages(t *testing.T) {
	ss := stages(t)
	if len(ss) != 2 {
		t.Fatalf("%d stages, want 2 (build, runtime)", len(ss))
	}
	if ss[0].name != "build" || !strings.HasPrefix(ss[0].image, "golang:") {
		t.Errorf("first stage %q FROM %q, want a golang build stage named build", ss[0].name, ss[0].image)
	}
	if ss[1].image != "debian:bookworm-slim" {
		t.Errorf("runtime stage FROM %q, want debian:bookworm-slim", ss[1].image)
	}
	// The Go image is the go.mod toolchain's version.
	gomod, err := os.ReadFile(filepath.Join(repoRoot(t), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	if m == nil {
		t.Fatal("no go directive in go.mod")
	}
	if want := "golang:" + string(m[1]); ss[0].image != want {
		t.Errorf("build stage FROM %q, want %q (go.mod says go %s)", ss[0].image, want, m[1])
	}
}

func TestDockerfileCopySources(t *testing.T) {
	root := repoRoot(t)
	ss := stages(t)
	stageNames := map[string]int{}
	for i, s := range ss {
		stageNames[s.name] = i
	}
	ignored := dockerignore(t)
	for i, s := range ss {
		for _, in := range s.insts {
			if in.Cmd != "COPY" && in.Cmd != "ADD" {
				continue
			}
			flags, srcs, dst := flagsAndPaths(in)
			if dst == "" {
				t.Errorf("line %d: COPY without source and destination", in.Line)
				continue
			}
			if from, ok := flags["from"]; ok {
				j, known := stageNames[from]
				if !known || j >= i {
					t.Errorf("line %d: COPY --from=%s names no earlier stage", in.Line, from)
					continue
				}
				// The source must be something that stage writes.
				var runs strings.Builder
				for _, x := range ss[j].insts {
					if x.Cmd == "RUN" {
						runs.WriteString(x.Raw + "\n")
					}
				}
				for _, src := range srcs {
					if !strings.Contains(runs.String(), strings.TrimRight(src, "/")) {
						t.Errorf("line %d: stage %s never writes %s", in.Line, from, src)
					}
				}
				continue
			}
			for _, src := range srcs {
				matches, _ := filepath.Glob(filepath.Join(root, src))
				if len(matches) == 0 {
					t.Errorf("line %d: COPY source %s does not exist in the build context", in.Line, src)
				}
				if src != "." && ignored(src) {
					t.Errorf("line %d: COPY source %s is excluded by .dockerignore", in.Line, src)
				}
			}
		}
	}
}

func TestDockerfileEntrypoint(t *testing.T) {
	ss := stages(t)
	final := ss[len(ss)-1]
	copied := map[string]string{} // destination -> source
	var entry []string
	user := ""
	for _, in := range final.insts {
		switch in.Cmd {
		case "COPY":
			_, srcs, dst := flagsAndPaths(in)
			for _, s := range srcs {
				if strings.HasSuffix(dst, "/") {
					copied[dst+path.Base(s)] = s
				} else {
					copied[dst] = s
				}
			}
		case "ENTRYPOINT":
			if err := json.Unmarshal([]byte(in.Raw), &entry); err != nil {
				t.Fatalf("line %d: ENTRYPOINT is not exec (JSON) form, so SIGTERM would not reach kbroker: %v", in.Line, err)
			}
		case "USER":
			user = in.Raw
		}
	}
	if len(entry) == 0 {
		t.Fatal("no ENTRYPOINT")
	}
	src, ok := copied[entry[0]]
	if !ok || src != "docker/entrypoint.sh" {
		t.Fatalf("ENTRYPOINT %q is not docker/entrypoint.sh copied into the image (copied: %v)", entry[0], copied)
	}
	if _, ok := copied["/usr/local/bin/kbroker"]; !ok {
		t.Error("the kbroker binary is not copied to /usr/local/bin/kbroker, where the entrypoint finds it")
	}
	if user == "" || user == "root" {
		t.Errorf("runtime stage runs as %q; run the broker as an unprivileged user", user)
	}
	// The entrypoint execs the broker, so it receives SIGTERM itself.
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "docker", "entrypoint.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^exec kbroker `).Match(data) {
		t.Error("docker/entrypoint.sh does not exec kbroker")
	}
}

// TestDockerfileBuildTargets: the packages the build stage compiles exist.
func TestDockerfileBuildTargets(t *testing.T) {
	root := repoRoot(t)
	re := regexp.MustCompile(`go build [^&;]*?(\./[^\s&;]+)`)
	found := 0
	for _, in := range stages(t)[0].insts {
		if in.Cmd != "RUN" {
			continue
		}
		for _, m := range re.FindAllStringSubmatch(in.Raw, -1) {
			found++
			pkg := strings.TrimSuffix(m[1], "/...")
			if _, err := os.Stat(filepath.Join(root, pkg)); err != nil {
				t.Errorf("the build stage compiles %s, which does not exist", m[1])
			}
		}
	}
	if found < 2 {
		t.Errorf("found %d go build targets, want ./cmd/kbroker and ./tools/...", found)
	}
}

// dockerignore returns a matcher for the build context's .dockerignore.
func dockerignore(t *testing.T) func(string) bool {
	data, err := os.ReadFile(filepath.Join(repoRoot(t), ".dockerignore"))
	if os.IsNotExist(err) {
		return func(string) bool { return false }
	}
	if err != nil {
		t.Fatal(err)
	}
	var pats []string
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		pats = append(pats, strings.TrimPrefix(l, "/"))
	}
	return func(p string) bool {
		p = strings.TrimPrefix(path.Clean(p), "./")
		for _, pat := range pats {
			for q := p; q != "."; q = path.Dir(q) { // a pattern matching a parent excludes the file
				if ok, _ := path.Match(strings.TrimPrefix(pat, "**/"), path.Base(q)); ok && strings.HasPrefix(pat, "**/") {
					return true
				}
				if ok, _ := path.Match(pat, q); ok {
					return true
				}
			}
		}
		return false
	}
}

func TestDockerignoreKeepsSources(t *testing.T) {
	ignored := dockerignore(t)
	for _, p := range []string{"go.mod", "go.sum", "docker/entrypoint.sh", "docker/server.properties", "cmd/kbroker/main.go", "tools/kafka-dump-log/main.go", "record/doc.go"} {
		if ignored(p) {
			t.Errorf(".dockerignore excludes %s, which the build needs", p)
		}
	}
	for _, p := range []string{".git/HEAD", "tmpb.test", "commitlog/x.test", "kbroker-data/logs/broker-1.log"} {
		if !ignored(p) {
			t.Errorf(".dockerignore keeps %s in the build context", p)
		}
	}
}
