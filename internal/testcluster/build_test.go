package testcluster

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestBuildPackageOncePerBinary(t *testing.T) {
	p1 := BuildPackage(t, "./tools/bench-storage")
	st, err := os.Stat(p1)
	if err != nil || st.Mode()&0o111 == 0 {
		t.Fatalf("built %s: %v, mode %v", p1, err, st.Mode())
	}
	if p2 := BuildPackage(t, "./tools/bench-storage"); p2 != p1 {
		t.Fatalf("second build %s, first %s", p2, p1)
	}
	if _, err := os.Stat(p1 + ".tmp." + strconv.Itoa(os.Getpid())); !os.IsNotExist(err) {
		t.Fatalf("temporary build output left behind: %v", err)
	}
}

func TestBuildBinaryPrebuilt(t *testing.T) {
	t.Setenv("KBROKER_TEST_BINARY", "/bin/true")
	if got := BuildBinary(t); got != "/bin/true" {
		t.Fatalf("BuildBinary = %q with KBROKER_TEST_BINARY set", got)
	}
}

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "testcluster", "doc.go")); err != nil {
		t.Fatalf("module root %s: %v", root, err)
	}
}
