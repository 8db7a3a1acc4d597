package testcluster

import (
	"fmt"
	"net"
	"sync"
)

// handedOut remembers every port this test binary handed out, so that two
// brokers of one test binary never get the same port even when the kernel
// offers a port again after its listener closed.
var handedOut sync.Map // int -> struct{}

// FreePorts returns n distinct TCP ports that were free on 127.0.0.1 a
// moment ago. (Another process may still take one before it is used; the
// kernel's ephemeral range makes that rare.)
func FreePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100*n {
			return nil, fmt.Errorf("testcluster: no free ports after %d tries", tries)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("testcluster: free port: %w", err)
		}
		ls = append(ls, l) // held until all are chosen: the kernel cannot offer it twice
		port := l.Addr().(*net.TCPAddr).Port
		if _, dup := handedOut.LoadOrStore(port, struct{}{}); dup {
			continue
		}
		ports = append(ports, port)
	}
	return ports, nil
}
