package testcluster

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// waitLog polls the process's log until it contains s.
func waitLog(t *testing.T, p *Process, s string) {
	t.Helper()
	waitLogCount(t, p, s, 1)
}

// waitLogCount polls the process's log until it contains s n times.
func waitLogCount(t *testing.T, p *Process, s string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for strings.Count(p.Log(), s) < n {
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %q never logged; log:\n%s", p.Name(), s, p.Log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

const trapScript = `trap 'echo got-term; exit 0' TERM; echo RE""ADY; while :; do sleep 0.05; done`

func TestProcessStopKillRestart(t *testing.T) {
	p := StartCommand(t, "sh", Command{Path: "/bin/sh", Args: []string{"-c", trapScript}})
	waitLog(t, p, "READY")
	if !p.Running() || p.PID() == 0 || p.ExitCode() != -1 {
		t.Fatalf("running=%v pid=%d exit=%d", p.Running(), p.PID(), p.ExitCode())
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if p.Running() || p.ExitError() != nil || p.ExitCode() != 0 {
		t.Fatalf("after SIGTERM: running=%v err=%v code=%d", p.Running(), p.ExitError(), p.ExitCode())
	}
	if !strings.Contains(p.Log(), "got-term") {
		t.Fatalf("trap did not run; log:\n%s", p.Log())
	}
	if err := p.Stop(time.Second); err == nil {
		t.Fatal("Stop of a stopped process succeeded")
	}

	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err == nil {
		t.Fatal("second Start of a running process succeeded")
	}
	waitLogCount(t, p, "READY", 2)
	if !strings.Contains(p.Log(), "got-term\n=== start 2: /bin/sh -c") {
		t.Fatalf("no start header between the runs; log:\n%s", p.Log())
	}
	p.Kill9()
	if p.Running() || p.ExitCode() != -1 || p.ExitError() == nil {
		t.Fatalf("after SIGKILL: running=%v code=%d err=%v", p.Running(), p.ExitCode(), p.ExitError())
	}
	if !strings.Contains(p.ExitError().Error(), "killed") {
		t.Fatalf("exit error %v", p.ExitError())
	}
}

func TestProcessStopTimeoutKills(t *testing.T) {
	p := StartCommand(t, "stubborn", Command{Path: "/bin/sh", Args: []string{"-c", `trap '' TERM; echo RE""ADY; while :; do sleep 0.05; done`}})
	waitLog(t, p, "READY")
	err := p.Stop(300 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "SIGKILL") {
		t.Fatalf("Stop of a process ignoring SIGTERM: %v", err)
	}
	if p.Running() {
		t.Fatal("still running")
	}
}

func TestProcessExitStatusAndPause(t *testing.T) {
	p := StartCommand(t, "exit3", Command{Path: "/bin/sh", Args: []string{"-c", "echo bye >&2; exit 3"}})
	if err := p.Wait(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	if p.ExitCode() != 3 || !strings.Contains(p.Log(), "bye") {
		t.Fatalf("exit code %d, log %q", p.ExitCode(), p.Log())
	}

	q := StartCommand(t, "pausable", Command{Path: "/bin/sh", Args: []string{"-c", trapScript}, Env: []string{"EXTRA_VAR=x"}})
	waitLog(t, q, "READY")
	if err := q.Pause(); err != nil {
		t.Fatal(err)
	}
	waitState(t, q.PID(), 'T')
	if err := q.Resume(); err != nil {
		t.Fatal(err)
	}
	// A paused process is resumed by Stop so that it can handle SIGTERM.
	if err := q.Pause(); err != nil {
		t.Fatal(err)
	}
	if err := q.Stop(10 * time.Second); err != nil || q.ExitCode() != 0 {
		t.Fatalf("Stop of a paused process: %v, code %d", err, q.ExitCode())
	}
}

// waitState polls /proc/<pid>/stat until the process is in the given state.
func waitState(t *testing.T, pid int, state byte) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s := procState(pid)
		if s == state {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d in state %q, want %q", pid, s, state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// procState is the state letter in /proc/<pid>/stat (R, S, T, Z, ...).
func procState(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return 0
	}
	return s[i+2]
}
