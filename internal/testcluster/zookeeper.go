package testcluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ZooKeeper startup and shutdown deadlines. A JVM starts in ~0.5 s on an
// idle machine; the margin is for loaded CI machines running many test
// binaries at once.
const (
	zkStartTimeout = 60 * time.Second
	zkStopTimeout  = 15 * time.Second
	// ZKTickTime is the test server's tickTime: sessions may be as short as
	// two ticks (1 s) and as long as maxSessionTimeout (60 s).
	ZKTickTime = 500 * time.Millisecond
)

// ZooKeeper is a standalone ZooKeeper server on 127.0.0.1.
type ZooKeeper struct {
	port int
	dir  string // holds zoo.cfg, data/ and zookeeper.log
	proc *Process
}

// StartZooKeeper starts a dedicated ZooKeeper for this test, stopped at
// cleanup (its log is printed if the test failed). Use it for tests that
// stop, pause or restart ZooKeeper; others should share one (Chroot).
// It fails the test, with what to install, when java or ZooKeeper is missing.
func StartZooKeeper(t testing.TB) *ZooKeeper {
	t.Helper()
	z, err := startZooKeeper(t.TempDir())
	if z != nil {
		AddProcessCleanup(t, z.proc, zkStopTimeout)
	}
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// zkClasspath finds java and the ZooKeeper server classes.
func zkClasspath() (java, classpath string, err error) {
	java = os.Getenv("KBROKER_TEST_JAVA")
	if java == "" && os.Getenv("JAVA_HOME") != "" {
		java = filepath.Join(os.Getenv("JAVA_HOME"), "bin", "java")
	}
	if java == "" {
		java, err = exec.LookPath("java")
		if err != nil {
			return "", "", errors.New("testcluster: java not found on PATH (set JAVA_HOME or KBROKER_TEST_JAVA); " +
				"on Debian: sudo apt-get install zookeeper (it pulls in a JRE), or run scripts/test.sh")
		}
	} else if _, err := os.Stat(java); err != nil {
		return "", "", fmt.Errorf("testcluster: java: %w", err)
	}
	if cp := os.Getenv("KBROKER_TEST_ZK_CLASSPATH"); cp != "" {
		return java, cp, nil
	}
	if home := os.Getenv("ZOOKEEPER_HOME"); home != "" { // an Apache tarball
		return java, filepath.Join(home, "lib", "*") + ":" + filepath.Join(home, "conf"), nil
	}
	const jar = "/usr/share/java/zookeeper.jar"
	if _, err := os.Stat(jar); err != nil {
		return "", "", fmt.Errorf("testcluster: ZooKeeper not found (%s is missing): "+
			"install the Debian package (sudo apt-get install zookeeper) or run scripts/test.sh; "+
			"or set ZOOKEEPER_HOME to an Apache ZooKeeper directory", jar)
	}
	cp := "/etc/zookeeper/conf:" + jar
	// ZooKeeper logs through slf4j; with log4j and its binding on the class
	// path (they are in Debian's /usr/share/java when installed) the server
	// logs to its console, which the harness captures.
	for _, j := range []string{"/usr/share/java/slf4j-log4j12.jar", "/usr/share/java/log4j-1.2.jar"} {
		if _, err := os.Stat(j); err == nil {
			cp += ":" + j
		}
	}
	return java, cp, nil
}

// startZooKeeper writes zoo.cfg into dir and starts the server on a free
// port. On error the returned ZooKeeper (if not nil) holds the process so
// that its log can be shown.
func startZooKeeper(dir string) (*ZooKeeper, error) {
	java, cp, err := zkClasspath()
	if err != nil {
		return nil, err
	}
	ports, err := FreePorts(1)
	if err != nil {
		return nil, err
	}
	z := &ZooKeeper{port: ports[0], dir: dir}
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return nil, err
	}
	cfg := strings.Join([]string{
		"tickTime=" + strconv.Itoa(int(ZKTickTime/time.Millisecond)),
		"dataDir=" + filepath.Join(dir, "data"),
		"clientPort=" + strconv.Itoa(z.port),
		"clientPortAddress=127.0.0.1",
		"admin.enableServer=false",
		"4lw.commands.whitelist=*",
		"maxClientCnxns=0", // every test and broker connects from 127.0.0.1
		"minSessionTimeout=1000",
		"maxSessionTimeout=60000",
		"forceSync=no",      // test data: no fsync per transaction
		"preAllocSize=1024", // KiB; the default preallocates 64 MiB logs
		"snapCount=1000000",
		"",
	}, "\n")
	cfgPath := filepath.Join(dir, "zoo.cfg")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	z.proc = NewProcess("zookeeper:"+strconv.Itoa(z.port), Command{
		Path: java,
		Args: []string{
			"-Xms16m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
			"-Djava.awt.headless=true",
			"-Dzookeeper.root.logger=INFO,CONSOLE",
			"-Dzookeeper.log.dir=" + dir,
			"-cp", cp,
			"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfgPath,
		},
		Dir: dir,
	}, filepath.Join(dir, "zookeeper.log"))
	if err := z.proc.Start(); err != nil {
		return z, err
	}
	if err := z.waitServing(zkStartTimeout); err != nil {
		z.proc.Kill9()
		return z, err
	}
	return z, nil
}

// waitServing polls "srvr" until the server answers as a running server.
// ("ruok" answers "imok" before the server serves requests, so it is not
// enough.)
func (z *ZooKeeper) waitServing(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-z.proc.Done():
			return fmt.Errorf("testcluster: ZooKeeper exited during startup (%v); log:\n%s",
				z.proc.ExitError(), z.proc.LogTail(50))
		default:
		}
		// A short deadline per try: a connection accepted while the server
		// is still starting may never be answered.
		out, err := fourLetter(z.Addr(), "srvr", 500*time.Millisecond)
		if err == nil && strings.Contains(out, "Mode: ") {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("srvr answered %q", strings.TrimSpace(out))
		}
		last = err
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("testcluster: ZooKeeper on port %d not serving after %v (last: %v); log:\n%s",
		z.port, timeout, last, z.proc.LogTail(50))
}

// FourLetter sends a four-letter-word command ("ruok", "srvr", "dump",
// "cons", "mntr", ...) and returns the answer.
func (z *ZooKeeper) FourLetter(cmd string) (string, error) {
	return fourLetter(z.Addr(), cmd, 5*time.Second)
}

func fourLetter(addr, cmd string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	b, err := io.ReadAll(c)
	return string(b), err
}

// Addr is the client address, "127.0.0.1:port".
func (z *ZooKeeper) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(z.port)) }

// Port is the client port.
func (z *ZooKeeper) Port() int { return z.port }

// Dir is the directory with zoo.cfg, data/ and zookeeper.log.
func (z *ZooKeeper) Dir() string { return z.dir }

// Process is the server's process (for Pause/Resume, logs, ...).
func (z *ZooKeeper) Process() *Process { return z.proc }

// Stop stops the server with SIGTERM.
func (z *ZooKeeper) Stop() error {
	return z.proc.Stop(zkStopTimeout)
}

// Kill9 kills the server with SIGKILL.
func (z *ZooKeeper) Kill9() { z.proc.Kill9() }

// Restart starts a stopped server again on the same port with the same
// data, and waits until it serves. Sessions survive a restart that is
// shorter than their timeout.
func (z *ZooKeeper) Restart() error {
	if z.proc.Running() {
		if err := z.Stop(); err != nil {
			return err
		}
	}
	if err := z.proc.Start(); err != nil {
		return err
	}
	return z.waitServing(zkStartTimeout)
}

// Chroot returns a connect string for a chroot no other test uses,
// "127.0.0.1:port/kbroker-test-<random>". The chroot znode is not created
// (kbroker creates its chroot, as Kafka does).
func (z *ZooKeeper) Chroot(t testing.TB) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return z.Addr() + "/kbroker-test-" + hex.EncodeToString(b[:])
}

// Shared ZooKeeper: one per test binary.
var shared struct {
	once sync.Once
	z    *ZooKeeper
	err  error
	dir  string
}

// SharedZooKeeper returns the test binary's shared ZooKeeper, starting it
// on first use. Tests using it must stay inside their own chroot (Chroot).
// Call Main from TestMain to stop it and remove its data at exit; without
// it the server is killed when the test binary exits (PR_SET_PDEATHSIG)
// and its directory is left in the temp directory.
func SharedZooKeeper(t testing.TB) *ZooKeeper {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "kbroker-test-zk-")
		if shared.err != nil {
			return
		}
		shared.z, shared.err = startZooKeeper(shared.dir)
	})
	if shared.err != nil {
		t.Fatalf("shared ZooKeeper: %v", shared.err)
	}
	if !shared.z.proc.Running() {
		t.Fatalf("shared ZooKeeper is not running (a test must not stop it; use StartZooKeeper); log:\n%s",
			shared.z.proc.LogTail(50))
	}
	return shared.z
}

// Chroot is SharedZooKeeper(t).Chroot(t): a fresh chroot connect string on
// the shared server.
func Chroot(t testing.TB) string {
	t.Helper()
	return SharedZooKeeper(t).Chroot(t)
}

// Main runs the tests and then stops the shared ZooKeeper. Use it as
//
//	func TestMain(m *testing.M) { os.Exit(testcluster.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	StopShared()
	return code
}

// StopShared stops the shared ZooKeeper, if it was started, and removes its
// directory. Main calls it.
func StopShared() {
	if shared.z != nil && shared.z.proc.Running() {
		if shared.z.Stop() != nil {
			shared.z.Kill9()
		}
	}
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
}
