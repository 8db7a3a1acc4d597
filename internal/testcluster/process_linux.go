package testcluster

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// childAttr makes the kernel SIGKILL a child when its parent thread dies,
// so no ZooKeeper or broker outlives a crashed or killed test binary.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// PR_SET_PDEATHSIG fires when the *thread* that forked the child exits, and
// the Go runtime may end threads. Children are therefore forked from one
// goroutine locked to its OS thread for the life of the test binary.
var (
	spawnOnce sync.Once
	spawnReqs chan spawnReq
)

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for r := range spawnReqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawnReqs <- spawnReq{cmd, done}
	return <-done
}
