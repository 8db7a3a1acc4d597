package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// cpuTicks reads a process's user and system CPU time, in clock ticks, from
// the text of /proc/<pid>/stat: fields 14 and 15 (utime, stime), counted
// after the command name, which is in parentheses and may itself hold
// spaces and parentheses (hence the last ')').
func cpuTicks(stat []byte) (int64, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
	f := strings.Fields(string(stat[end+1:]))
	// f[0] is field 3 (state), so utime (14) is f[11] and stime (15) f[12].
	if len(f) < 13 {
		return 0, fmt.Errorf("short stat line %q", stat)
	}
	u, err := strconv.ParseInt(f[11], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("utime %q: %w", f[11], err)
	}
	s, err := strconv.ParseInt(f[12], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("stime %q: %w", f[12], err)
	}
	return u + s, nil
}

// procCPU is the CPU time a live process has used so far.
type procCPU struct {
	pid     int
	clkTck  int64
	statDir string // "/proc"
}

func (p procCPU) read() (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("%s/%d/stat", p.statDir, p.pid))
	if err != nil {
		return 0, fmt.Errorf("reading the CPU time of pid %d: %w", p.pid, err)
	}
	ticks, err := cpuTicks(stat)
	if err != nil {
		return 0, fmt.Errorf("pid %d: %w", p.pid, err)
	}
	return time.Duration(ticks) * time.Second / time.Duration(p.clkTck), nil
}

// clockTicks is `getconf CLK_TCK`, the unit of /proc/<pid>/stat's times
// (100 on every Linux in practice, the fallback when getconf is missing).
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err != nil {
		return 100
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil || n <= 0 {
		return 100
	}
	return n
}
