package testcluster

// scripts/quickstart.sh, run for real (real ZooKeeper, the real script)
// with the fake broker standing in for kbroker through KBROKER_BIN.

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// consecutiveFreePorts finds n consecutive free ports on 127.0.0.1.
func consecutiveFreePorts(t *testing.T, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		base, err := FreePorts(1)
		if err != nil {
			t.Fatal(err)
		}
		ok := true
		for i := 1; i < n && ok; i++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base[0]+i))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			for i := 1; i < n; i++ {
				handedOut.Store(base[0]+i, struct{}{})
			}
			return base[0]
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

type quickstart struct {
	t      *testing.T
	script string
	env    []string
	data   string
}

func newQuickstart(t *testing.T) *quickstart {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	zkPorts, err := FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	q := &quickstart{t: t, script: filepath.Join(root, "scripts", "quickstart.sh"), data: filepath.Join(t.TempDir(), "data")}
	q.env = append(os.Environ(),
		"KBROKER_DATA="+q.data,
		"KBROKER_ZK_PORT="+strconv.Itoa(zkPorts[0]),
		"KBROKER_PORT="+strconv.Itoa(consecutiveFreePorts(t, 3)),
		"KBROKER_BIN="+exe,
		"KBROKER_WAIT=60",
		"KBROKER_STOP_TIMEOUT=20",
		fakeEnv+"=1",
		"GORACE=atexit_sleep_ms=50",
	)
	// Whatever happens, leave no process behind.
	t.Cleanup(func() {
		if out, err := q.run("stop"); err != nil {
			t.Errorf("quickstart stop at cleanup: %v\n%s", err, out)
		}
	})
	return q
}

func (q *quickstart) run(args ...string) (string, error) {
	cmd := exec.Command("bash", append([]string{q.script}, args...)...)
	cmd.Env = q.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (q *quickstart) envValue(name string) string {
	for _, kv := range q.env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

func (q *quickstart) pid(name string) int {
	b, err := os.ReadFile(filepath.Join(q.data, "run", name+".pid"))
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

func alive(pid int) bool {
	return pid > 0 && procState(pid) != 0 && procState(pid) != 'Z'
}

func TestQuickstartStartStatusStop(t *testing.T) {
	q := newQuickstart(t)
	out, err := q.run("start", "--override", "num.partitions=3")
	if err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	port, _ := strconv.Atoi(q.envValue("KBROKER_PORT"))
	bootstrap := fmt.Sprintf("127.0.0.1:%d,127.0.0.1:%d,127.0.0.1:%d", port, port+1, port+2)
	if !strings.Contains(out, "bootstrap servers  "+bootstrap) || !strings.Contains(out, "scripts/quickstart.sh stop") {
		t.Fatalf("start output lacks the bootstrap servers %s or how to stop:\n%s", bootstrap, out)
	}

	// What the script started is what ZooKeeper and the files show.
	zkAddr := "127.0.0.1:" + q.envValue("KBROKER_ZK_PORT")
	zc := Dial(t, zkAddr)
	ids, err := zc.Children("/brokers/ids")
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, []string{"1", "2", "3"}) {
		t.Fatalf("/brokers/ids = %v, %v", ids, err)
	}
	for id := 1; id <= 3; id++ {
		var reg Registration
		if _, err := zc.GetJSON("/brokers/ids/"+strconv.Itoa(id), &reg); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("PLAINTEXT://127.0.0.1:%d", port+id-1)
		if len(reg.Endpoints) != 1 || reg.Endpoints[0] != want {
			t.Errorf("broker %d endpoints %v, want %s", id, reg.Endpoints, want)
		}
		props, err := os.ReadFile(filepath.Join(q.data, "config", fmt.Sprintf("broker-%d.properties", id)))
		if err != nil || !strings.Contains(string(props), "zookeeper.connect="+zkAddr+"\n") ||
			!strings.Contains(string(props), fmt.Sprintf("log.dirs=%s/broker-%d\n", q.data, id)) {
			t.Errorf("broker-%d.properties = %q, %v", id, props, err)
		}
		if _, err := os.Stat(filepath.Join(q.data, fmt.Sprintf("broker-%d", id), "meta.properties")); err != nil {
			t.Errorf("broker %d log dir: %v", id, err)
		}
		pid := q.pid(fmt.Sprintf("broker-%d", id))
		cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if !strings.Contains(string(cmdline), "num.partitions=3") {
			t.Errorf("broker %d (pid %d) did not get the --override: %q", id, pid, cmdline)
		}
		environ, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
		if strings.Contains(string(environ), "KBROKER_DATA=") {
			t.Errorf("broker %d inherited the script's KBROKER_DATA", id)
		}
	}

	out, err = q.run("start")
	if err == nil || !strings.Contains(out, "already running") {
		t.Fatalf("second start: %v\n%s", err, out)
	}
	out, err = q.run("status")
	if err != nil || strings.Count(out, " running ") != 4 || !strings.Contains(out, "registered broker ids: 1 2 3") {
		t.Fatalf("status: %v\n%s", err, out)
	}

	pids := []int{q.pid("zookeeper"), q.pid("broker-1"), q.pid("broker-2"), q.pid("broker-3")}
	out, err = q.run("stop")
	if err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("pid %d still alive after stop:\n%s", pid, out)
		}
	}
	if m, _ := filepath.Glob(filepath.Join(q.data, "run", "*.pid")); len(m) != 0 {
		t.Errorf("pid files left: %v", m)
	}
	logs, _ := os.ReadFile(filepath.Join(q.data, "logs", "broker-2.log"))
	if !strings.Contains(string(logs), `"message":"shut down"`) {
		t.Errorf("broker 2 was not shut down with SIGTERM; log:\n%s", logs)
	}
	out, err = q.run("status")
	if err == nil || !strings.Contains(out, "zookeeper  stopped") {
		t.Fatalf("status after stop: %v\n%s", err, out)
	}
	out, err = q.run("stop")
	if err != nil || !strings.Contains(out, "nothing running") {
		t.Fatalf("second stop: %v\n%s", err, out)
	}
}

func TestQuickstartBrokerFailsToStart(t *testing.T) {
	q := newQuickstart(t)
	out, err := q.run("start", "--override", "fake.mode=exit")
	if err == nil || !strings.Contains(out, "exited") || !strings.Contains(out, "fake broker told to exit") {
		t.Fatalf("start with failing brokers: %v\n%s", err, out)
	}
	// It cleaned up after itself: nothing runs, the next start may proceed.
	if m, _ := filepath.Glob(filepath.Join(q.data, "run", "*.pid")); len(m) != 0 {
		t.Errorf("pid files left: %v", m)
	}
	out, err = q.run("status")
	if err == nil || strings.Contains(out, " running ") {
		t.Fatalf("status after a failed start: %v\n%s", err, out)
	}
}

func TestQuickstartPortInUse(t *testing.T) {
	q := newQuickstart(t)
	l, err := net.Listen("tcp", "127.0.0.1:"+q.envValue("KBROKER_PORT"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	out, err := q.run("start")
	if err == nil || !strings.Contains(out, "port "+q.envValue("KBROKER_PORT")+" on 127.0.0.1 is in use") {
		t.Fatalf("start with a busy port: %v\n%s", err, out)
	}
}
