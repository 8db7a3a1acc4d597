package logdir

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// lockProbe tries FileChannel.tryLock on a file, as a Kafka broker does on
// its log directories, and prints whether it got the lock.
const lockProbe = `
import java.nio.channels.*; import java.nio.file.*;
public class LockProbe { public static void main(String[] a) throws Exception {
  FileChannel ch = FileChannel.open(Paths.get(a[0]), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
  System.out.println(ch.tryLock() == null ? "refused" : "locked");
}}
`

// The .lock of an open directory keeps a Kafka broker (Java's file lock)
// out, and is free for it again after Close.
func TestLockExcludesJavaBroker(t *testing.T) {
	java, err := exec.LookPath("java")
	if err != nil {
		t.Fatalf("java is needed to check lock compatibility with Kafka: %v", err)
	}
	src := filepath.Join(t.TempDir(), "LockProbe.java")
	if err := os.WriteFile(src, []byte(lockProbe), 0o644); err != nil {
		t.Fatal(err)
	}
	probe := func(path string) string {
		out, err := exec.Command(java, src, path).CombinedOutput()
		if err != nil {
			t.Fatalf("java probe: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	dir := t.TempDir()
	lock, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := probe(filepath.Join(dir, LockFile)); got != "refused" {
		t.Fatalf("a Java tryLock on a locked directory: %q, want refused", got)
	}
	if err := lock.release(); err != nil {
		t.Fatal(err)
	}
	if got := probe(filepath.Join(dir, LockFile)); got != "locked" {
		t.Fatalf("a Java tryLock after release: %q, want locked", got)
	}
}
