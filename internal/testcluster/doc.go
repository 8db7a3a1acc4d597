// Package testcluster is the integration-test harness: it runs a real
// ZooKeeper (the Debian `zookeeper` package's QuorumPeerMain on a free
// loopback port) and kbroker brokers, either as separate processes of the
// binary built from ./cmd/kbroker (so a test can kill -9 them) or in-process
// through InProcessFactory, each test in its own ZooKeeper chroot.
//
// It is test support: only _test.go files import it, and it may import
// anything (including the raw github.com/go-zookeeper/zk client, which it
// uses to poll registrations and read znodes for assertions).
//
// # Pieces
//
//   - ZooKeeper: StartZooKeeper(t) runs a dedicated server stopped at test
//     cleanup; SharedZooKeeper(t) one server per test binary (start it
//     lazily; call Main from TestMain to stop it at exit); Chroot(t) hands a
//     test a fresh "127.0.0.1:port/kbroker-test-<random>" connect string.
//   - Process: a child process with its output captured to a file
//     (printed when the test fails), SIGTERM stop with a deadline, SIGKILL,
//     SIGSTOP/SIGCONT and restart. Works with any command.
//   - Broker: one broker with its server.properties in a temp directory,
//     started as a process (StartProcess, StartBroker) or in-process, ready
//     when its /brokers/ids/<id> znode is (re)created and every listener
//     accepts TCP connections.
//   - Cluster: NewCluster(t, n, props, options...) starts n brokers on
//     free ports sharing one chroot; BootstrapAddrs, Broker(i),
//     WaitForController.
//   - ZKClient: a chroot-aware ZooKeeper client for znode assertions.
//
// # The harness's own tests
//
// They need no broker: a fake broker (fakebroker_test.go: the test binary
// re-executed, registering /brokers/ids/<id> and contending for
// /controller like kbroker) stands in for it, as a process and in-process.
// They also run scripts/quickstart.sh for real (ZooKeeper included) with
// the fake as KBROKER_BIN.
//
// # Environment
//
//   - KBROKER_TEST_BINARY: use this kbroker binary instead of building
//     ./cmd/kbroker.
//   - KBROKER_TEST_RACE=0|1: build the broker without/with the race
//     detector (default: like the test binary).
//   - KBROKER_TEST_JAVA, ZOOKEEPER_HOME, KBROKER_TEST_ZK_CLASSPATH: where
//     java and ZooKeeper's classes are (defaults: $JAVA_HOME/bin/java or
//     java on PATH; /etc/zookeeper/conf:/usr/share/java/zookeeper.jar).
//   - KBROKER_TEST_LOG_LINES: how many trailing log lines of a child process
//     to print when a test fails (default 200, 0 = all).
//
// Broker processes do not inherit the test's KBROKER_* environment
// variables (the broker reads its own KBROKER_* overrides); pass
// BrokerOptions.Env to set some.
//
// # Concurrency
//
// ZooKeeper, Process, Broker and Cluster methods may be called from any
// goroutine, but the methods that fail the test (everything taking no error
// return) must be called from the test's goroutine, as with t.Fatal.
// InProcessFactory is a package variable: set it once, in TestMain or init.
//
// Only Linux is supported (children get PR_SET_PDEATHSIG so that they die
// with the test binary even if cleanup never runs).
package testcluster
