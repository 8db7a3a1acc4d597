package testcluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// builds caches one build per main package per test binary.
var builds sync.Map // package path -> *buildResult

type buildResult struct {
	once sync.Once
	path string
	err  error
}

// BuildBinary builds ./cmd/kbroker once per test binary and returns the
// executable's path; KBROKER_TEST_BINARY names a prebuilt one instead.
func BuildBinary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KBROKER_TEST_BINARY"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("KBROKER_TEST_BINARY: %v", err)
		}
		return p
	}
	return BuildPackage(t, "./cmd/kbroker")
}

// BuildPackage builds a main package of this module ("./cmd/kbroker",
// "./tools/kafka-topics", ...) once per test binary and returns the
// executable's path. It is built with the race detector when the test
// binary is (override with KBROKER_TEST_RACE=0 or 1), into a per-checkout
// directory of the user cache, replaced atomically, so concurrent test
// binaries can share it.
func BuildPackage(t testing.TB, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &buildResult{})
	r := v.(*buildResult)
	r.once.Do(func() { r.path, r.err = buildPackage(pkg) })
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.path
}

func buildRace() bool {
	if v, err := strconv.ParseBool(os.Getenv("KBROKER_TEST_RACE")); err == nil {
		return v
	}
	return raceEnabled
}

func buildPackage(pkg string) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	race := buildRace()
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\x00%v", root, race)))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "kbroker-test", hex.EncodeToString(sum[:8]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(dir, path.Base(pkg))
	tmp := fmt.Sprintf("%s.tmp.%d", out, os.Getpid())
	args := []string{"build", "-o", tmp}
	if race {
		args = append(args, "-race")
	}
	args = append(args, pkg)
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = root
	var outb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &outb
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("testcluster: go %v (in %s): %v\n%s", args, root, err, outb.String())
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	return out, nil
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go" // the error names it
}

// ModuleRoot is the directory holding the module's go.mod, found from the
// working directory upwards (a test's working directory is its package's).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testcluster: go.mod not found above the working directory")
		}
		dir = parent
	}
}
