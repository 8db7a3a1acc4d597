// Command bench-broker compares kbroker with franz-go's kfake, both running
// as separate processes on this machine, using kbroker's Kafka-style perf
// tools as the load. scripts/bench-broker.sh starts ZooKeeper, one kbroker
// and a kfake server (tools/bench-kfake-server) and then runs this program;
// it can also be pointed at brokers started by hand:
//
//	bench-broker -kbroker HOST:PORT -kbroker-pid PID -kfake HOST:PORT -kfake-pid PID
//	    [-bin DIR] [-records-100 N] [-records-1k N] [-partitions 1,16] [-acks 1] [-rounds 3]
//	bench-broker -free-ports N
//
// The cases are P in -partitions times values of 100 bytes (-records-100
// records) and 1 KiB (-records-1k records). For each broker it creates one
// topic per case and round (bench-p<P>-<S>B-r<R>, P partitions, replication
// factor 1; the topics must not exist yet) and waits until every partition
// has a leader. In each round, for each case, kafka-producer-perf-test
// (unlimited rate, the given acks) and then kafka-consumer-perf-test
// (every record, from the start of each partition) run once against each
// broker, as separate processes found in -bin; which broker goes first
// alternates from case to case and round to round. Before each run the
// driver calls sync(2), so that the page-cache writeback left by one run
// is not paid for by the next. The table shows the
// median over the rounds of each figure (and the ratios of the medians),
// which keeps one disturbed run on a shared machine from deciding it.
//
// Around each run the broker's CPU time (utime+stime of /proc/<pid>/stat,
// in units of `getconf CLK_TCK`) is read, so the table shows broker CPU
// seconds per million records besides records per second. Throughput comes
// from the tools' own lines (the producer's total line; the consumer's
// nMsg.sec). On a small machine the broker and the perf client compete for
// the same cores, which is why CPU per record of the broker process is the
// figure to watch. A line per run (throughput, broker and client CPU, wall
// time, latencies) is printed as it finishes, then the table:
//
//	producer (acks=1)  kbroker rec/s  kfake rec/s  ratio  kbroker CPU s/M  kfake CPU s/M  CPU ratio
//	consumer           ...
//
// with the targets printed above it (throughput ratio >= 1, CPU ratio <= 1);
// it reports, it does not judge. The exit status is 0 when every run
// completed, 1 when one failed (a tool error, fewer records than asked),
// 2 for bad flags, 130 when SIGINT or SIGTERM stopped it (the running perf
// tool is killed).
//
// -free-ports N prints N ports that were free on 127.0.0.1 a moment ago,
// for the script to configure the servers with.
//
// It is a benchmark driver, not a Kafka tool: flags use Go's flag package.
// It talks to the brokers only through kgo/kmsg and runs the perf tools as
// programs.
package main
