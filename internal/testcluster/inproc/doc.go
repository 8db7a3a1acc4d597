// Package inproc runs kbroker brokers inside the test binary for
// internal/testcluster: importing it (usually as `_`) sets
// testcluster.InProcessFactory. In-process brokers run under the test's
// race detector and share its address space, which makes them fast to start
// and easy to debug; tests that kill -9 a broker use broker processes.
//
// Kill behaves like Stop: the ZooKeeper client cannot drop a session
// without closing it, so an in-process broker cannot really crash. Use a
// broker process for crash tests.
//
// Test support only: imported by _test.go files.
package inproc
