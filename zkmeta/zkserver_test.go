package zkmeta

// Test harness private to zkmeta: a real ZooKeeper (the OS package, run with
// java) on a free loopback port, raw go-zookeeper connections to look at what
// was written, and a TCP proxy that can cut the client off to expire its
// session. internal/testcluster has the shared harness for other packages.

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

const (
	zkJar     = "/usr/share/java/zookeeper.jar"
	zkConfDir = "/etc/zookeeper/conf"
	// zkTick is the server's tickTime: sessions can be as short as 2 ticks,
	// which lets the expiry test run in a few seconds.
	zkTick = 100 * time.Millisecond
)

// zkServer is one standalone ZooKeeper process.
type zkServer struct {
	Addr   string // 127.0.0.1:port
	dir    string
	cmd    *exec.Cmd
	exited chan struct{}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// ruok asks the four-letter-word "ruok" and reports an "imok" answer.
func ruok(addr string) bool {
	conn, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("ruok")); err != nil {
		return false
	}
	b, _ := io.ReadAll(conn)
	return string(b) == "imok"
}

// startZooKeeper runs ZooKeeper with its data and log in dir and waits until
// it answers "imok" (it is usually up in about half a second).
func startZooKeeper(dir string) (*zkServer, error) {
	if _, err := os.Stat(zkJar); err != nil {
		return nil, fmt.Errorf("ZooKeeper is not installed (%s): install the zookeeper package", zkJar)
	}
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cfg := filepath.Join(dir, "zoo.cfg")
		content := fmt.Sprintf("tickTime=%d\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
			"maxSessionTimeout=60000\nadmin.enableServer=false\n4lw.commands.whitelist=*\n",
			zkTick.Milliseconds(), filepath.Join(dir, "data"), port)
		if err := os.WriteFile(cfg, []byte(content), 0o644); err != nil {
			return nil, err
		}
		logf, err := os.Create(filepath.Join(dir, "zookeeper.log"))
		if err != nil {
			return nil, err
		}
		cmd := exec.Command("java", "-Xmx256m", "-XX:TieredStopAtLevel=1",
			"-cp", zkConfDir+":"+zkJar,
			"org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg)
		cmd.Stdout, cmd.Stderr = logf, logf
		dieWithParent(cmd)
		if err := cmd.Start(); err != nil {
			logf.Close()
			return nil, fmt.Errorf("start java: %w", err)
		}
		s := &zkServer{Addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, cmd: cmd, exited: make(chan struct{})}
		go func() {
			_ = cmd.Wait()
			logf.Close()
			close(s.exited)
		}()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if ruok(s.Addr) {
				return s, nil
			}
			select {
			case <-s.exited:
			case <-time.After(50 * time.Millisecond):
				continue
			}
			break
		}
		s.Stop()
		log, _ := os.ReadFile(filepath.Join(dir, "zookeeper.log"))
		lastErr = fmt.Errorf("ZooKeeper on %s did not come up; log:\n%s", s.Addr, log)
	}
	return nil, lastErr
}

// Stop kills the server process and waits for it.
func (s *zkServer) Stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// testZK is the ZooKeeper shared by this package's tests; each test works
// under its own chroot.
var testZK *zkServer

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zkmeta-zk-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testZK, err = startZooKeeper(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zkmeta tests:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	testZK.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

var chrootSeq atomic.Int64

// newChroot returns a fresh chroot path for the test, e.g. /TestFoo-3-1712.
func newChroot(t testing.TB) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return fmt.Sprintf("/%s-%d-%d", name, chrootSeq.Add(1), time.Now().UnixNano()%1e6)
}

type silentLogger struct{}

func (silentLogger) Printf(string, ...any) {}

// rawConn is a plain go-zookeeper connection to the server root, for
// looking at what zkmeta wrote.
func rawConn(t testing.TB, addr string) *zk.Conn {
	t.Helper()
	conn, _, err := zk.Connect([]string{addr}, 10*time.Second, zk.WithLogger(silentLogger{}), zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Close)
	waitFor(t, 10*time.Second, "raw session", func() bool { return conn.State() == zk.StateHasSession })
	return conn
}

// rawGet reads an absolute path; the test fails if it is missing.
func rawGet(t testing.TB, z *zk.Conn, path string) ([]byte, *zk.Stat) {
	t.Helper()
	data, stat, err := z.Get(path)
	if err != nil {
		t.Fatalf("get %s: %v", path, err)
	}
	return data, stat
}

func rawExists(t testing.TB, z *zk.Conn, path string) bool {
	t.Helper()
	ok, _, err := z.Exists(path)
	if err != nil {
		t.Fatalf("exists %s: %v", path, err)
	}
	return ok
}

// connect opens a zkmeta client on addr+chroot, closed at test end.
func connect(t testing.TB, addr, chroot string, sessionTimeout time.Duration) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := Connect(ctx, Config{Connect: addr + chroot, SessionTimeout: sessionTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// env is what most tests need: a chroot, a raw view of it and a client.
type env struct {
	t      testing.TB
	chroot string
	raw    *zk.Conn
}

func newEnv(t testing.TB) *env {
	return &env{t: t, chroot: newChroot(t), raw: rawConn(t, testZK.Addr)}
}

func (e *env) client() *Client { return connect(e.t, testZK.Addr, e.chroot, 10*time.Second) }

// get reads a chroot-relative path with the raw connection.
func (e *env) get(path string) ([]byte, *zk.Stat) {
	e.t.Helper()
	return rawGet(e.t, e.raw, e.chroot+path)
}

func (e *env) exists(path string) bool {
	e.t.Helper()
	return rawExists(e.t, e.raw, e.chroot+path)
}

// wantData asserts a znode's exact bytes and whether it is ephemeral.
func (e *env) wantData(path, want string, ephemeral bool) *zk.Stat {
	e.t.Helper()
	data, stat := e.get(path)
	if string(data) != want {
		e.t.Errorf("%s:\n got %s\nwant %s", path, data, want)
	}
	if got := stat.EphemeralOwner != 0; got != ephemeral {
		e.t.Errorf("%s: ephemeral = %v, want %v", path, got, ephemeral)
	}
	return stat
}

// wantEmptyPersistent asserts a znode exists, is persistent and holds no data.
func (e *env) wantEmptyPersistent(path string) {
	e.t.Helper()
	e.wantData(path, "", false)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// closedWithin reports whether ch is closed within d.
func closedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// isClosed reports whether ch is closed now.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// proxy forwards TCP to a target; Cut drops every connection and refuses
// new ones until Restore, which lets a test expire a client's session
// without touching the server.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	down  bool
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func newProxy(t testing.TB, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// Cut closes every proxied connection and refuses new ones.
func (p *proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]struct{}{}
}

// Restore lets connections through again.
func (p *proxy) Restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}
