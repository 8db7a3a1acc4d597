package testcluster

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Command describes a child process.
type Command struct {
	Path string   // executable
	Args []string // arguments after the executable
	// Env is the complete environment when BaseEnv is set, otherwise it is
	// appended to the test process's environment.
	Env     []string
	BaseEnv bool
	Dir     string // working directory; "" = the test's
}

// ErrNotRunning is returned when a process that is not running is asked to stop.
var ErrNotRunning = errors.New("process is not running")

// Process is a child process that can be started again after it exited.
// Its stdout and stderr go, appended, to one log file; every start writes
// a "=== start N ===" header line first.
type Process struct {
	name    string
	command Command
	logPath string

	mu    sync.Mutex
	cmd   *exec.Cmd     // current or last run; nil before the first start
	done  chan struct{} // closed when the current run has exited
	err   error         // the last run's Wait result, valid after done
	runs  int
	pause bool
}

// NewProcess returns a process that is not started yet, logging to logPath.
func NewProcess(name string, c Command, logPath string) *Process {
	return &Process{name: name, command: c, logPath: logPath}
}

// StartCommand starts c as a process named name, logging into the test's
// temp directory. At cleanup a running process gets SIGTERM (SIGKILL after
// 30 s), and when the test failed the tail of its log is printed.
func StartCommand(t testing.TB, name string, c Command) *Process {
	t.Helper()
	p := NewProcess(name, c, filepath.Join(t.TempDir(), sanitize(name)+".log"))
	AddProcessCleanup(t, p, 30*time.Second)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	return p
}

// AddProcessCleanup registers a test cleanup that stops p when it is still
// running and prints its log tail when the test failed.
func AddProcessCleanup(t testing.TB, p *Process, stopTimeout time.Duration) {
	t.Cleanup(func() {
		if p.Running() {
			if err := p.Stop(stopTimeout); err != nil {
				t.Errorf("%s: %v", p.name, err)
			}
		}
		if t.Failed() {
			t.Logf("--- %s log (%s), last lines:\n%s", p.name, p.logPath, p.LogTail(logLines()))
		}
	})
}

func logLines() int {
	if v, err := strconv.Atoi(os.Getenv("KBROKER_TEST_LOG_LINES")); err == nil && v >= 0 {
		return v
	}
	return 200
}

// Name is the name the process was given.
func (p *Process) Name() string { return p.name }

// LogPath is the file that receives the process's output.
func (p *Process) LogPath() string { return p.logPath }

// Start runs the command. It fails if the process is already running.
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done != nil && !closed(p.done) {
		return fmt.Errorf("%s: already running (pid %d)", p.name, p.cmd.Process.Pid)
	}
	f, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	p.runs++
	fmt.Fprintf(f, "=== start %d: %s %s\n", p.runs, p.command.Path, strings.Join(p.command.Args, " "))
	cmd := exec.Command(p.command.Path, p.command.Args...)
	cmd.Dir = p.command.Dir
	if p.command.BaseEnv {
		cmd.Env = append([]string{}, p.command.Env...)
	} else if len(p.command.Env) > 0 {
		cmd.Env = append(os.Environ(), p.command.Env...)
	}
	cmd.Stdout = f
	cmd.Stderr = f
	cmd.SysProcAttr = childAttr()
	if err := spawn(cmd); err != nil {
		f.Close()
		return fmt.Errorf("%s: start %s: %w", p.name, p.command.Path, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.err, p.pause = cmd, done, nil, false
	go func() {
		err := cmd.Wait()
		f.Close()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// Running reports whether the process has been started and not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done != nil && !closed(p.done)
}

// Done is closed when the current run exits (nil before the first start).
func (p *Process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// PID is the current or last run's process id, 0 before the first start.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// ExitError is the last run's result as returned by exec.Cmd.Wait: nil for
// exit status 0, and nil while the process runs or before its first start.
func (p *Process) ExitError() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil || !closed(p.done) {
		return nil
	}
	return p.err
}

// ExitCode is the last run's exit code: -1 while running, never started or
// killed by a signal.
func (p *Process) ExitCode() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil || !closed(p.done) {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Signal sends sig to the running process.
func (p *Process) Signal(sig os.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil || closed(p.done) {
		return fmt.Errorf("%s: %w", p.name, ErrNotRunning)
	}
	return p.cmd.Process.Signal(sig)
}

// Wait waits until the current run exits or timeout passes.
func (p *Process) Wait(timeout time.Duration) error {
	done := p.Done()
	if done == nil {
		return fmt.Errorf("%s: %w", p.name, ErrNotRunning)
	}
	select {
	case <-done:
		return nil
	case <-time.After(timeout):
		return fmt.Errorf("%s (pid %d) still running after %v", p.name, p.PID(), timeout)
	}
}

// Stop sends SIGTERM and waits up to timeout for the process to exit; if it
// does not, it sends SIGKILL and returns an error saying so. It does not
// judge the exit status: see ExitError.
func (p *Process) Stop(timeout time.Duration) error {
	p.resumeIfPaused()
	if err := p.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := p.Wait(timeout); err != nil {
		p.Kill9()
		return fmt.Errorf("%v after SIGTERM; killed with SIGKILL", err)
	}
	return nil
}

// Kill9 sends SIGKILL and waits for the process to be gone. It is a no-op
// when the process is not running.
func (p *Process) Kill9() {
	if p.Signal(syscall.SIGKILL) != nil {
		return
	}
	<-p.Done()
}

// Pause stops the process with SIGSTOP: it keeps its sockets but answers
// nothing, e.g. to let its ZooKeeper session expire.
func (p *Process) Pause() error {
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	p.mu.Lock()
	p.pause = true
	p.mu.Unlock()
	return nil
}

// Resume continues a paused process with SIGCONT.
func (p *Process) Resume() error {
	if err := p.Signal(syscall.SIGCONT); err != nil {
		return err
	}
	p.mu.Lock()
	p.pause = false
	p.mu.Unlock()
	return nil
}

func (p *Process) resumeIfPaused() {
	p.mu.Lock()
	paused := p.pause
	p.mu.Unlock()
	if paused {
		p.Resume()
	}
}

// Log returns everything the process has written so far.
func (p *Process) Log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.logPath, err)
	}
	return string(b)
}

// LogTail returns the last n lines of the log (all of it when n is 0).
func (p *Process) LogTail(n int) string {
	return tailLines([]byte(p.Log()), n)
}

func tailLines(b []byte, n int) string {
	b = bytes.TrimRight(b, "\n")
	if n <= 0 {
		return string(b)
	}
	i := len(b)
	for k := 0; k < n; k++ {
		j := bytes.LastIndexByte(b[:i], '\n')
		if j < 0 {
			return string(b)
		}
		i = j
	}
	return string(b[i+1:])
}

// sanitize makes s usable as a file name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, s)
}
