package testcluster

// A fake broker for the harness's own tests: it does what the harness
// watches a real kbroker do (register /brokers/ids/<id> as an ephemeral
// znode, listen on its listeners, contend for /controller, log JSON lines
// to stderr, exit 0 on SIGTERM after closing its session) and nothing else.
// The test binary runs it as a process when KBROKER_TESTCLUSTER_FAKE=1
// (see TestMain); the in-process tests use it as a BrokerHandle.
//
// fake.mode in its properties selects misbehaviour: "exit" (exit 3 at
// once), "noregister" (listen, never register), "fail-on-term" (exit 1 on
// SIGTERM), "hang-on-term" (ignore SIGTERM).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
)

const fakeEnv = "KBROKER_TESTCLUSTER_FAKE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeEnv) == "1" {
		os.Exit(fakeMain(os.Args[1:]))
	}
	os.Exit(Main(m))
}

// fakeOptions run the fake broker as a process.
func fakeOptions(t testing.TB) BrokerOptions {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return BrokerOptions{Binary: exe, Env: []string{fakeEnv + "=1"}}
}

func fakeMain(args []string) int {
	logf := func(level, msg string, kv ...any) {
		fields := map[string]any{"level": level, "message": msg, "time": time.Now().Format(time.RFC3339Nano)}
		for i := 0; i+1 < len(kv); i += 2 {
			fields[fmt.Sprint(kv[i])] = kv[i+1]
		}
		b, _ := json.Marshal(fields)
		fmt.Fprintf(os.Stderr, "%s\n", b)
	}
	if len(args) < 1 {
		logf("error", "usage: fake server.properties [--override k=v]...")
		return 2
	}
	f, err := os.Open(args[0])
	if err != nil {
		logf("error", err.Error())
		return 2
	}
	props, err := ReadProperties(f)
	f.Close()
	if err != nil {
		logf("error", err.Error())
		return 2
	}
	for i := 1; i < len(args); i++ {
		if args[i] == "--override" && i+1 < len(args) {
			k, v, _ := strings.Cut(args[i+1], "=")
			props[k] = v
			i++
		}
	}
	mode := props["fake.mode"]
	if mode == "exit" {
		logf("error", "fake broker told to exit")
		return 3
	}
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	fb, err := startFake(props, os.Stderr)
	if err != nil {
		logf("error", "startup failed", "error", err.Error())
		return 1
	}
	for range term {
		switch mode {
		case "hang-on-term":
			logf("info", "ignoring SIGTERM")
			continue
		case "fail-on-term":
			fb.stop()
			return 1
		}
		fb.stop()
		logf("info", "shut down")
		return 0
	}
	return 0
}

type fakeBroker struct {
	id   int32
	zc   *ZKClient
	ls   []net.Listener
	log  io.Writer
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func startFake(props map[string]string, log io.Writer) (_ *fakeBroker, err error) {
	session := 6 * time.Second
	if ms, err := strconv.Atoi(props["zookeeper.session.timeout.ms"]); err == nil {
		session = time.Duration(ms) * time.Millisecond
	}
	zc, err := DialSession(props["zookeeper.connect"], session, 30*time.Second)
	if err != nil {
		return nil, err
	}
	fb := &fakeBroker{zc: zc, log: log, quit: make(chan struct{})}
	defer func() {
		if err != nil {
			fb.stop()
		}
	}()
	listeners, err := ParseListeners(props["listeners"])
	if err != nil {
		return nil, err
	}
	for _, l := range listeners {
		ln, err := net.Listen("tcp", net.JoinHostPort(l.Host, strconv.Itoa(l.Port)))
		if err != nil {
			return nil, err
		}
		fb.ls = append(fb.ls, ln)
		fb.wg.Add(1)
		go func() {
			defer fb.wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
	}
	if s, ok := props["broker.id"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, err
		}
		fb.id = int32(n)
	} else { // generated, as from /brokers/seqid
		if err := zc.Create("/brokers/seqid", nil, false); err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return nil, err
		}
		st, err := zc.Conn().Set(zc.Path("/brokers/seqid"), nil, -1)
		if err != nil {
			return nil, err
		}
		fb.id = 1000 + st.Version
	}
	if dirs := props["log.dirs"]; dirs != "" {
		dir := strings.Split(dirs, ",")[0]
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		meta := fmt.Sprintf("version=0\nbroker.id=%d\n", fb.id)
		if err := os.WriteFile(filepath.Join(dir, "meta.properties"), []byte(meta), 0o644); err != nil {
			return nil, err
		}
	}
	if props["fake.mode"] == "noregister" {
		return fb, nil
	}
	var eps []string
	for _, l := range listeners {
		eps = append(eps, l.String())
	}
	reg, _ := json.Marshal(map[string]any{
		"version": 5, "host": listeners[0].Host, "port": listeners[0].Port, "jmx_port": -1,
		"timestamp": strconv.FormatInt(time.Now().UnixMilli(), 10), "endpoints": eps, "features": map[string]any{},
	})
	if err := zc.Create(brokerPath(fb.id), reg, true); err != nil {
		return nil, fmt.Errorf("register broker %d: %w", fb.id, err)
	}
	fmt.Fprintf(log, `{"level":"info","message":"registered","broker":%d}`+"\n", fb.id)
	fb.wg.Add(1)
	go fb.contendForController()
	return fb, nil
}

// contendForController creates /controller when it is absent and bumps
// /controller_epoch when it wins, until stopped.
func (fb *fakeBroker) contendForController() {
	defer fb.wg.Done()
	for {
		data, _ := json.Marshal(Controller{Version: 1, BrokerID: fb.id, Timestamp: strconv.FormatInt(time.Now().UnixMilli(), 10)})
		err := fb.zc.Create("/controller", data, true)
		if err == nil {
			epoch := 1
			if old, _, err := fb.zc.Get("/controller_epoch"); err == nil {
				n, _ := strconv.Atoi(string(old))
				epoch = n + 1
				fb.zc.Set("/controller_epoch", []byte(strconv.Itoa(epoch)))
			} else {
				fb.zc.Create("/controller_epoch", []byte("1"), false)
			}
			fmt.Fprintf(fb.log, `{"level":"info","message":"controller","broker":%d,"epoch":%d}`+"\n", fb.id, epoch)
		}
		ok, _, ch, err := fb.zc.Conn().ExistsW(fb.zc.Path("/controller"))
		if err != nil {
			select {
			case <-fb.quit:
				return
			case <-time.After(50 * time.Millisecond):
				continue
			}
		}
		if !ok {
			continue
		}
		select {
		case <-fb.quit:
			return
		case <-ch:
		}
	}
}

func (fb *fakeBroker) stop() {
	fb.once.Do(func() {
		close(fb.quit)
		for _, l := range fb.ls {
			l.Close()
		}
		fb.zc.Close() // session closed: the ephemeral znodes go at once
		fb.wg.Wait()
	})
}

// fakeHandle is the fake broker as an in-process BrokerHandle.
type fakeHandle struct {
	cfg InProcessConfig
	fb  *fakeBroker
}

func fakeFactory(cfg InProcessConfig) (BrokerHandle, error) { return &fakeHandle{cfg: cfg}, nil }

func (h *fakeHandle) Start() error {
	fb, err := startFake(h.cfg.Props, h.cfg.Log)
	h.fb = fb
	return err
}
func (h *fakeHandle) Stop() error { h.fb.stop(); return nil }
func (h *fakeHandle) Kill() error { h.fb.stop(); return nil }
func (h *fakeHandle) Addr() string {
	return h.fb.ls[0].Addr().String()
}
