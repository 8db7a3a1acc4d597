// Package itest is kbroker's integration test suite: real ZooKeeper, real
// kbroker processes on loopback (built from ./cmd/kbroker by the
// internal/testcluster harness, with the race detector when the test binary
// has it) and real clients: sarama, franz-go (kgo, kadm, kmsg), kcat
// (librdkafka) and raw TCP connections.
//
// The package holds tests only; this file exists so that the directory is a
// package with documentation. Every test starts its own cluster in its own
// ZooKeeper chroot (subtests share it where that is safe) and asserts on
// what a client, a znode or a file actually contains. Synchronisation is
// by polling with generous deadlines, never by sleeping, and nothing is
// judged by how long it took.
//
// What is covered:
//
//   - round trips with sarama (sync and async producers, every codec, old and
//     new protocol versions, keys, headers, CreateTime and LogAppendTime
//     timestamps), with franz-go (acks all/1/0, several partitions, every
//     codec) and with kcat (-L, -P, -C);
//   - metadata seen identically from every broker, and equal to ZooKeeper;
//   - the exact JSON and modes of the znodes Kafka 3.9 writes;
//   - controller failover after kill -9, with no acknowledged record lost;
//   - malformed input on the wire (connections are closed, the broker and
//     its other connections carry on), the ApiVersions fallback, and a fuzz
//     target over the request path;
//   - the advertised ApiVersions table against Kafka 3.9's ZooKeeper table;
//   - topic administration with kadm and NOT_CONTROLLER from other brokers;
//   - consumer groups with franz-go, sarama, kcat -G and kafka-python;
//   - replication: ISR shrink and expand seen in the state znodes, an ISR
//     change across a controller failover, OffsetForLeaderEpoch,
//     controlled shutdown, unclean leader election, follower truncation
//     (torn tail, divergent tail of a deposed leader), the kafka-topics
//     reports, and the no-loss test (noloss_test.go): acks=all producers
//     and consumers while brokers are kill -9'd in a seeded loop; run it
//     longer with -noloss.kills N or -noloss.duration D, and replay a run
//     with -noloss.seed S;
//   - idempotent producers: InitProducerId, sarama's idempotent producer
//     through proxies that cut its connections around Produce requests
//     (every retry of a written batch answered with its original offset),
//     duplicates detected across restarts, DescribeProducers;
//   - transactions: the coordinator (fencing, epoch bumps, failover after
//     kill -9 mid-transaction and mid-commit/abort, timeout abort, id
//     expiry), the partition side (LSO, read_committed, .txnindex bytes),
//     transactional offset commits and franz-go's GroupTransactSession,
//     also while brokers (transaction and group coordinators, leaders) are
//     kill -9'd in a seeded loop with the output read back exactly once
//     (eos_kill_test.go, -eos.seed, -eos.kills),
//     sarama's transactional producer, the leaders' verification of
//     transactional produces and offset commits with the coordinator
//     (KIP-890), and kafka-transactions (describe-producers, abort,
//     find-hanging).
//
// Run it with `go test -race ./internal/itest` (ZooKeeper and kcat from the
// OS packages must be installed; scripts/test.sh installs them).
package itest
