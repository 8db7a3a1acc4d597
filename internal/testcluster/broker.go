package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

// Default deadlines for brokers.
const (
	DefaultReadyTimeout = 60 * time.Second
	DefaultStopTimeout  = 30 * time.Second
)

// BrokerOptions say how a broker runs. The zero value runs the kbroker
// binary built from ./cmd/kbroker as a process.
type BrokerOptions struct {
	// Binary is the executable; "" builds ./cmd/kbroker (BuildBinary).
	// It is run as `Binary server.properties Args...`.
	Binary string
	Args   []string
	// Env is added to the child's environment, which otherwise is the test
	// process's minus every KBROKER_* variable.
	Env []string
	// InProcess runs the broker inside the test binary via InProcessFactory.
	InProcess bool
	// Name labels logs and errors; default "broker-<id>", or
	// "broker@<first listener port>" when the id is generated.
	Name string
	// ReadyTimeout bounds every start (default DefaultReadyTimeout) and
	// StopTimeout every SIGTERM stop (default DefaultStopTimeout).
	ReadyTimeout time.Duration
	StopTimeout  time.Duration
}

// Broker is one kbroker, as a child process or in-process. A started broker
// is ready: its /brokers/ids/<id> znode has been created by this start and
// each of its listeners accepts TCP connections.
type Broker struct {
	t         testing.TB
	name      string
	dir       string
	propsPath string
	logPath   string
	opts      BrokerOptions
	connect   string

	mu        sync.Mutex
	props     map[string]string
	listeners []Listener
	id        int32 // -1 until known
	proc      *Process
	handle    BrokerHandle // in-process: the running instance, nil when stopped
	handleLog *os.File
	zkc       *ZKClient
	regCzxid  int64 // creation zxid of the registration seen when last ready
}

// StartProcess starts a kbroker process (the binary from BuildBinary) with
// props as its server.properties and waits until it is ready. Defaults
// filled in when props lack them: zookeeper.connect = a fresh chroot on the
// shared ZooKeeper, listeners = PLAINTEXT://127.0.0.1:<free port>,
// log.dirs = <temp dir>/data. Listener ports 0 are replaced by free ports
// (in listeners and advertised.listeners) so that a restart keeps them.
// Without broker.id the broker's generated id is learnt from the
// registration whose endpoints carry its listener ports.
func StartProcess(t testing.TB, props map[string]string) *Broker {
	t.Helper()
	return StartBroker(t, props, BrokerOptions{})
}

// StartInProcess is StartProcess with an in-process broker (InProcessFactory).
func StartInProcess(t testing.TB, props map[string]string) *Broker {
	t.Helper()
	return StartBroker(t, props, BrokerOptions{InProcess: true})
}

// StartBroker starts a broker as opts say and waits until it is ready.
// The broker is stopped at test cleanup (SIGTERM; a non-zero exit status
// then fails the test) and its log is printed when the test failed.
func StartBroker(t testing.TB, props map[string]string, opts BrokerOptions) *Broker {
	t.Helper()
	b, err := newBroker(t, props, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.startAndWait(); err != nil {
		t.Fatal(err)
	}
	return b
}

func newBroker(t testing.TB, in map[string]string, opts BrokerOptions) (*Broker, error) {
	t.Helper()
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = DefaultReadyTimeout
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = DefaultStopTimeout
	}
	b := &Broker{t: t, opts: opts, props: map[string]string{}, id: -1, dir: t.TempDir()}
	for k, v := range in {
		b.props[k] = v
	}
	if b.props["zookeeper.connect"] == "" {
		b.props["zookeeper.connect"] = Chroot(t)
	}
	b.connect = b.props["zookeeper.connect"]
	if b.props["listeners"] == "" {
		b.props["listeners"] = "PLAINTEXT://127.0.0.1:0"
	}
	if err := b.assignPorts(); err != nil {
		return nil, err
	}
	if b.props["log.dirs"] == "" && b.props["log.dir"] == "" {
		b.props["log.dirs"] = filepath.Join(b.dir, "data")
	}
	if s, ok := b.props["broker.id"]; ok {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("testcluster: broker.id %q: %v", s, err)
		}
		if id >= 0 {
			b.id = int32(id)
		}
	}
	b.name = opts.Name
	if b.name == "" && b.id >= 0 {
		b.name = fmt.Sprintf("broker-%d", b.id)
	} else if b.name == "" {
		b.name = fmt.Sprintf("broker@%d", b.listeners[0].Port) // id generated: known once registered
	}
	b.propsPath = filepath.Join(b.dir, "server.properties")
	b.logPath = filepath.Join(b.dir, "broker.log")
	if err := WriteProperties(b.propsPath, b.props); err != nil {
		return nil, err
	}
	if !opts.InProcess {
		bin := opts.Binary
		if bin == "" {
			bin = BuildBinary(t)
		}
		b.proc = NewProcess(b.name, Command{
			Path:    bin,
			Args:    append([]string{b.propsPath}, opts.Args...),
			Env:     append(brokerEnv(), opts.Env...),
			BaseEnv: true,
			Dir:     b.dir,
		}, b.logPath)
	}
	t.Cleanup(b.cleanup)
	return b, nil
}

// brokerEnv is the test's environment without KBROKER_* variables, which
// the broker would read as configuration overrides. A race-detector build
// sleeps 1 s at exit by default; GORACE shortens that unless the test's
// environment sets GORACE. (A race found in the broker makes it exit with
// status 66, so Stop reports it.)
func brokerEnv() []string {
	var env []string
	gorace := false
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "GORACE=") {
			gorace = true
		}
		if !strings.HasPrefix(kv, "KBROKER_") {
			env = append(env, kv)
		}
	}
	if !gorace {
		env = append(env, "GORACE=atexit_sleep_ms=50")
	}
	return env
}

// assignPorts replaces port 0 in listeners with free ports, and port 0 in
// advertised.listeners with the port of the listener of the same name.
func (b *Broker) assignPorts() error {
	ls, err := ParseListeners(b.props["listeners"])
	if err != nil {
		return fmt.Errorf("testcluster: %w", err)
	}
	zero := 0
	for _, l := range ls {
		if l.Port == 0 {
			zero++
		}
	}
	ports, err := FreePorts(zero)
	if err != nil {
		return err
	}
	for i := range ls {
		if ls[i].Port == 0 {
			ls[i].Port, ports = ports[0], ports[1:]
		}
	}
	b.listeners = ls
	b.props["listeners"] = FormatListeners(ls)
	if adv := b.props["advertised.listeners"]; adv != "" {
		as, err := ParseListeners(adv)
		if err != nil {
			return fmt.Errorf("testcluster: advertised.listeners: %w", err)
		}
		for i := range as {
			if as[i].Port != 0 {
				continue
			}
			for _, l := range ls {
				if l.Name == as[i].Name {
					as[i].Port = l.Port
				}
			}
		}
		b.props["advertised.listeners"] = FormatListeners(as)
	}
	return nil
}

func (b *Broker) cleanup() {
	if b.Running() {
		if err := b.Stop(); err != nil {
			b.t.Errorf("%s: stop at cleanup: %v", b.name, err)
		}
	}
	if b.t.Failed() {
		b.t.Logf("--- %s log (%s), last lines:\n%s", b.name, b.logPath, tailLines([]byte(b.Log()), logLines()))
	}
	b.mu.Lock()
	if b.zkc != nil {
		b.zkc.Close()
		b.zkc = nil
	}
	b.mu.Unlock()
}

// zk returns the broker's chroot client, dialling it on first use.
func (b *Broker) zk() (*ZKClient, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.zkc == nil {
		c, err := DialTimeout(b.connect, 30*time.Second)
		if err != nil {
			return nil, err
		}
		b.zkc = c
	}
	return b.zkc, nil
}

// startAndWait starts the broker and waits for it to be ready. A
// registration left by this broker's previous run (killed, its session not
// yet expired) must vanish first: Kafka refuses to start while another
// session owns its /brokers/ids/<id>.
func (b *Broker) startAndWait() error {
	zc, err := b.zk()
	if err != nil {
		return fmt.Errorf("%s: %w", b.name, err)
	}
	b.mu.Lock()
	id, old := b.id, b.regCzxid
	b.mu.Unlock()
	if id >= 0 && old != 0 {
		wait := b.sessionTimeout() + 30*time.Second
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		err := zc.WaitFor(ctx, brokerPath(id), func(_ []byte, st *zk.Stat) bool { return st == nil || st.Czxid != old })
		cancel()
		if err != nil {
			return fmt.Errorf("%s: the previous run's registration is still there: %w", b.name, err)
		}
	}
	stale, err := b.registrations(zc)
	if err != nil {
		return fmt.Errorf("%s: %w", b.name, err)
	}
	if err := b.launch(); err != nil {
		return err
	}
	return b.waitReady(zc, stale)
}

func brokerPath(id int32) string { return "/brokers/ids/" + strconv.Itoa(int(id)) }

func (b *Broker) sessionTimeout() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if ms, err := strconv.Atoi(b.props["zookeeper.session.timeout.ms"]); err == nil && ms > 0 {
		return time.Duration(ms) * time.Millisecond
	}
	return 18 * time.Second // Kafka's default
}

// registrations returns the czxid of every current /brokers/ids child.
func (b *Broker) registrations(zc *ZKClient) (map[int64]bool, error) {
	out := map[int64]bool{}
	kids, err := zc.Children("/brokers/ids")
	if errors.Is(err, zk.ErrNoNode) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, k := range kids {
		ok, st, err := zc.Exists("/brokers/ids/" + k)
		if err != nil {
			return nil, err
		}
		if ok {
			out[st.Czxid] = true
		}
	}
	return out, nil
}

func (b *Broker) launch() error {
	if b.proc != nil {
		return b.proc.Start()
	}
	if InProcessFactory == nil {
		return fmt.Errorf("%s: in-process broker asked for but testcluster.InProcessFactory is nil", b.name)
	}
	f, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	b.mu.Lock()
	props := make(map[string]string, len(b.props))
	for k, v := range b.props {
		props[k] = v
	}
	b.mu.Unlock()
	h, err := InProcessFactory(InProcessConfig{Props: props, PropsPath: b.propsPath, Log: f})
	if err == nil {
		err = h.Start()
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("%s: in-process start: %w", b.name, err)
	}
	b.mu.Lock()
	b.handle, b.handleLog = h, f
	b.mu.Unlock()
	return nil
}

// waitReady polls until a registration not in stale exists for this broker
// and every listener accepts connections.
func (b *Broker) waitReady(zc *ZKClient, stale map[int64]bool) error {
	deadline := time.Now().Add(b.opts.ReadyTimeout)
	var why string
	for {
		if b.proc != nil && !b.proc.Running() {
			return fmt.Errorf("%s exited before it was ready (%v); log:\n%s",
				b.name, b.proc.ExitError(), b.proc.LogTail(logLines()))
		}
		czxid, id, err := b.findRegistration(zc, stale)
		switch {
		case err != nil:
			why = err.Error()
		case czxid == 0:
			why = "not registered in ZooKeeper under " + zc.Path("/brokers/ids")
		default:
			if err := b.dialListeners(); err != nil {
				why = err.Error()
				break
			}
			b.mu.Lock()
			b.id, b.regCzxid = id, czxid
			b.mu.Unlock()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %s; log:\n%s",
				b.name, b.opts.ReadyTimeout, why, tailLines([]byte(b.Log()), logLines()))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// findRegistration returns the czxid and id of this run's registration, 0
// when there is none yet.
func (b *Broker) findRegistration(zc *ZKClient, stale map[int64]bool) (int64, int32, error) {
	b.mu.Lock()
	id := b.id
	b.mu.Unlock()
	if id >= 0 {
		ok, st, err := zc.Exists(brokerPath(id))
		if err != nil || !ok || stale[st.Czxid] {
			return 0, 0, err
		}
		return st.Czxid, id, nil
	}
	kids, err := zc.Children("/brokers/ids")
	if errors.Is(err, zk.ErrNoNode) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	for _, k := range kids {
		var reg Registration
		st, err := zc.GetJSON("/brokers/ids/"+k, &reg)
		if errors.Is(err, zk.ErrNoNode) || (err == nil && stale[st.Czxid]) {
			continue
		}
		if err != nil {
			return 0, 0, err
		}
		if !b.ownsEndpoints(reg.Endpoints) {
			continue
		}
		n, err := strconv.ParseInt(k, 10, 32)
		if err != nil {
			continue
		}
		return st.Czxid, int32(n), nil
	}
	return 0, 0, nil
}

// ownsEndpoints reports whether a registration's endpoints use one of this
// broker's listener ports (ports are unique per test binary).
func (b *Broker) ownsEndpoints(eps []string) bool {
	ls, err := ParseListeners(strings.Join(eps, ","))
	if err != nil {
		return false
	}
	for _, e := range ls {
		for _, l := range b.listeners {
			if e.Port == l.Port {
				return true
			}
		}
	}
	return false
}

func (b *Broker) dialListeners() error {
	for _, l := range b.listeners {
		c, err := net.DialTimeout("tcp", l.DialAddr(), time.Second)
		if err != nil {
			return fmt.Errorf("listener %s: %v", l, err)
		}
		c.Close()
	}
	return nil
}

// ID is the broker id (from broker.id or, when generated, from its
// registration).
func (b *Broker) ID() int32 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.id
}

// Name labels the broker in logs and errors.
func (b *Broker) Name() string { return b.name }

// Addr is the address a client dials: the PLAINTEXT listener's, or the
// first listener's when none is named PLAINTEXT.
func (b *Broker) Addr() string {
	for _, l := range b.listeners {
		if l.Name == "PLAINTEXT" {
			return l.DialAddr()
		}
	}
	return b.listeners[0].DialAddr()
}

// ListenerAddr is the dial address of the named listener ("" if none).
func (b *Broker) ListenerAddr(name string) string {
	for _, l := range b.listeners {
		if strings.EqualFold(l.Name, name) {
			return l.DialAddr()
		}
	}
	return ""
}

// Listeners are the broker's listeners with their ports.
func (b *Broker) Listeners() []Listener { return append([]Listener(nil), b.listeners...) }

// ZKConnect is the broker's zookeeper.connect (with its chroot).
func (b *Broker) ZKConnect() string { return b.connect }

// Props returns a copy of the broker's properties.
func (b *Broker) Props() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]string, len(b.props))
	for k, v := range b.props {
		out[k] = v
	}
	return out
}

// SetProps changes properties (an empty value removes one) for the next
// start. listeners and zookeeper.connect cannot change.
func (b *Broker) SetProps(changes map[string]string) {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, v := range changes {
		if k == "listeners" || k == "zookeeper.connect" {
			b.t.Fatalf("%s: SetProps cannot change %s", b.name, k)
		}
		if v == "" {
			delete(b.props, k)
		} else {
			b.props[k] = v
		}
	}
	if err := WriteProperties(b.propsPath, b.props); err != nil {
		b.t.Fatal(err)
	}
}

// Dir is the broker's own temp directory (server.properties, broker.log,
// data/ by default).
func (b *Broker) Dir() string { return b.dir }

// PropsPath is the server.properties file.
func (b *Broker) PropsPath() string { return b.propsPath }

// LogDirs are the broker's log directories (log.dirs, else log.dir).
func (b *Broker) LogDirs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	v := b.props["log.dirs"]
	if v == "" {
		v = b.props["log.dir"]
	}
	var out []string
	for _, d := range strings.Split(v, ",") {
		if d = strings.TrimSpace(d); d != "" {
			out = append(out, d)
		}
	}
	return out
}

// LogDir is the first log directory.
func (b *Broker) LogDir() string { return b.LogDirs()[0] }

// LogPath is the file with the broker's stdout and stderr (its zerolog
// lines), appended over restarts.
func (b *Broker) LogPath() string { return b.logPath }

// Log returns the broker's output so far.
func (b *Broker) Log() string {
	data, err := os.ReadFile(b.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", b.logPath, err)
	}
	return string(data)
}

// Process is the broker's process (nil for an in-process broker).
func (b *Broker) Process() *Process { return b.proc }

// InProcess reports whether the broker runs inside the test binary.
func (b *Broker) InProcess() bool { return b.proc == nil }

// Running reports whether the broker is running.
func (b *Broker) Running() bool {
	if b.proc != nil {
		return b.proc.Running()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.handle != nil
}

// Stop shuts the broker down in order (SIGTERM) and waits for it. It
// returns an error when it did not exit within the stop timeout (it is
// then killed) or exited with a non-zero status.
func (b *Broker) Stop() error {
	if b.proc != nil {
		if err := b.proc.Stop(b.opts.StopTimeout); err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		if err := b.proc.ExitError(); err != nil {
			return fmt.Errorf("%s: exited with %v after SIGTERM", b.name, err)
		}
		return nil
	}
	h, closeLog := b.takeHandle()
	defer closeLog()
	if h == nil {
		return fmt.Errorf("%s: %w", b.name, ErrNotRunning)
	}
	return h.Stop()
}

// takeHandle detaches the in-process handle; the returned close function
// closes its log file and must be called after the handle stopped (the
// broker logs until then).
func (b *Broker) takeHandle() (BrokerHandle, func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	h, f := b.handle, b.handleLog
	b.handle, b.handleLog = nil, nil
	return h, func() {
		if f != nil {
			f.Close()
		}
	}
}

// Kill9 kills the broker abruptly: SIGKILL for a process, BrokerHandle.Kill
// in-process. Its ZooKeeper registration stays until its session expires.
func (b *Broker) Kill9() {
	b.t.Helper()
	if b.proc != nil {
		if !b.proc.Running() {
			b.t.Fatalf("%s: Kill9: %v", b.name, ErrNotRunning)
		}
		b.proc.Kill9()
		return
	}
	h, closeLog := b.takeHandle()
	defer closeLog()
	if h == nil {
		b.t.Fatalf("%s: Kill9: %v", b.name, ErrNotRunning)
	}
	if err := h.Kill(); err != nil {
		b.t.Fatalf("%s: Kill: %v", b.name, err)
	}
}

// Restart stops the broker if it runs (failing the test if that stop is
// not clean), starts it again with the same properties, ports and data,
// and waits until it is ready. After Kill9 it first waits (up to the
// session timeout + 30 s) for the killed run's registration to expire.
func (b *Broker) Restart() {
	b.t.Helper()
	if b.Running() {
		if err := b.Stop(); err != nil {
			b.t.Fatal(err)
		}
	}
	if err := b.startAndWait(); err != nil {
		b.t.Fatal(err)
	}
}

// Pause freezes the broker process (SIGSTOP), e.g. to let its ZooKeeper
// session expire while it keeps its sockets; Resume continues it.
func (b *Broker) Pause() {
	b.t.Helper()
	if b.proc == nil {
		b.t.Fatalf("%s: Pause is only for broker processes", b.name)
	}
	if err := b.proc.Pause(); err != nil {
		b.t.Fatal(err)
	}
}

// Resume continues a paused broker (SIGCONT).
func (b *Broker) Resume() {
	b.t.Helper()
	if b.proc == nil {
		b.t.Fatalf("%s: Resume is only for broker processes", b.name)
	}
	if err := b.proc.Resume(); err != nil {
		b.t.Fatal(err)
	}
}

// ZK is a client on the broker's chroot (shared with the harness; do not
// close it).
func (b *Broker) ZK() *ZKClient {
	b.t.Helper()
	zc, err := b.zk()
	if err != nil {
		b.t.Fatal(err)
	}
	return zc
}

// Registration reads and decodes the broker's /brokers/ids/<id> znode.
func (b *Broker) Registration() (Registration, *zk.Stat, error) {
	var reg Registration
	zc, err := b.zk()
	if err != nil {
		return reg, nil, err
	}
	st, err := zc.GetJSON(brokerPath(b.ID()), &reg)
	return reg, st, err
}

// InProcessConfig is what an in-process broker is built from.
type InProcessConfig struct {
	Props     map[string]string // the broker's properties, as in PropsPath
	PropsPath string            // its server.properties
	Log       io.Writer         // where its logs go (the broker's LogPath)
}

// BrokerHandle is an in-process broker.
type BrokerHandle interface {
	// Start starts the broker and returns; the harness then waits for its
	// registration and listeners. A handle is started once: every
	// (re)start asks InProcessFactory for a new one.
	Start() error
	// Stop shuts it down in order, as on SIGTERM, and waits for it.
	Stop() error
	// Kill stops it abruptly, as kill -9 would: no orderly shutdown.
	Kill() error
	// Addr is the address of its first listener.
	Addr() string
}

// InProcessFactory builds in-process brokers; nil until a package (the
// broker's tests) sets it, in TestMain or init. It must return a broker
// that is not started yet.
var InProcessFactory func(cfg InProcessConfig) (BrokerHandle, error)
