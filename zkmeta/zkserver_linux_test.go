package zkmeta

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the ZooKeeper JVM die with the test binary, even when
// the binary panics or is killed before TestMain can stop it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
