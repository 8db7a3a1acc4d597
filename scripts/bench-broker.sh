#!/usr/bin/env bash
# Compares kbroker with franz-go's kfake on this machine, in one go: builds
# kbroker, the perf tools, the kfake server and the driver; starts a real
# ZooKeeper (the Debian zookeeper package), ONE kbroker and a kfake server
# with a data directory, each on a free port with its data in a temporary
# directory; then runs tools/bench-broker, which creates the topics (1 and 16
# partitions), runs kafka-producer-perf-test (acks=1, 100 B and 1 KiB
# records) and kafka-consumer-perf-test against both, measures each broker
# process's CPU time from /proc/<pid>/stat and prints a table of records/s,
# broker CPU seconds per million records and the kbroker/kfake ratios
# (targets: throughput ratio >= 1.0, CPU ratio <= 1.0; reported, not
# judged). Everything it started is stopped on exit, also on Ctrl-C.
#
#   scripts/bench-broker.sh [bench-broker flags...]
#
# Every case runs 3 times against each broker (-rounds) and the table shows
# medians. Arguments go to the driver (e.g. -rounds 5, -partitions 16,
# -acks all). Environment:
#   BENCH_RECORDS_100  records per run with 100-byte values (default 2000000)
#   BENCH_RECORDS_1K   records per run with 1 KiB values (default 500000)
#   BENCH_DIR          working directory (default: a new one under $TMPDIR or /tmp)
#   BENCH_KEEP=1       keep the working directory (logs, data) afterwards
#   BENCH_WAIT         seconds to wait for a server to start (default 60)
#   BENCH_KBROKER_PROPS  extra kbroker settings, one key=value per line
#                      (e.g. "socket.receive.buffer.bytes=-1"); default none
# With the defaults the whole run takes about three minutes on 2 cores and
# writes about 8.5 GB (1.4 GB per broker and round) to the working
# directory, which is removed at the end.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
records_100="${BENCH_RECORDS_100:-2000000}"
records_1k="${BENCH_RECORDS_1K:-500000}"
wait_s="${BENCH_WAIT:-60}"
host=127.0.0.1

die() { echo "bench-broker: $*" >&2; exit 1; }
say() { echo "bench-broker: $*" >&2; }

for v in "$records_100" "$records_1k" "$wait_s"; do
  [[ "$v" =~ ^[0-9]+$ ]] || die "not a number: $v (check BENCH_RECORDS_100, BENCH_RECORDS_1K, BENCH_WAIT)"
done
command -v go >/dev/null 2>&1 || die "Go is needed to build kbroker and the tools"
command -v java >/dev/null 2>&1 || die "java not found: install ZooKeeper from the OS packages (apt-get install zookeeper)"
[ -f /usr/share/java/zookeeper.jar ] || die "/usr/share/java/zookeeper.jar is missing: apt-get install zookeeper"
[ -r /proc/self/stat ] || die "/proc is needed to measure CPU time"

if [ -n "${BENCH_DIR:-}" ]; then
  work="$BENCH_DIR"
  mkdir -p "$work"
  [ -z "$(ls -A "$work")" ] || die "BENCH_DIR=$work is not empty"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/bench-broker.XXXXXX")"
fi
work="$(cd "$work" && pwd)"
mkdir -p "$work"/{bin,zookeeper,kbroker,kfake,logs}

zk_pid=""
kb_pid=""
kf_pid=""
drv_pid=""

# stop_pid NAME PID SECONDS: SIGTERM, wait, SIGKILL when it takes too long.
# shellcheck disable=SC2317 # called from the EXIT trap
stop_pid() {
  local name="$1" pid="$2" t="$3" i
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < t * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  say "$name (pid $pid) did not stop within ${t}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  stop_pid bench-broker "$drv_pid" 15
  # kbroker before ZooKeeper: it closes its session in an orderly shutdown.
  stop_pid kbroker "$kb_pid" 60
  stop_pid "kfake server" "$kf_pid" 30
  stop_pid zookeeper "$zk_pid" 15
  if [ "${BENCH_KEEP:-0}" = 1 ]; then
    say "kept $work (logs in $work/logs)"
  else
    rm -rf "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# show_log FILE: the last lines of a server's log, on stderr.
show_log() {
  [ -f "$1" ] || return 0
  echo "--- last lines of $1:" >&2
  tail -n 30 "$1" >&2
}

# fourlw CMD: ZooKeeper's answer to a four-letter-word command.
# shellcheck disable=SC2016,SC2317 # the inner bash expands its own arguments; called through wait_for
fourlw() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf %s "$2" >&3 && cat <&3' "$host" "$zk_port" "$1" 2>/dev/null || true
}
# shellcheck disable=SC2016,SC2317
listening() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$1" 2>/dev/null; }

# wait_for NAME PID LOG CHECK...: poll CHECK until it succeeds, the process
# exits or BENCH_WAIT seconds pass.
wait_for() {
  local name="$1" pid="$2" log="$3" deadline=$((SECONDS + wait_s))
  shift 3
  until "$@"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      show_log "$log"
      die "$name exited during startup"
    fi
    if [ $SECONDS -ge $deadline ]; then
      show_log "$log"
      die "$name not ready after ${wait_s}s"
    fi
    sleep 0.2
  done
}
# shellcheck disable=SC2317 # called through wait_for
zk_serving() { fourlw srvr | grep -q '^Mode: '; }

say "building into $work/bin"
(
  cd "$repo"
  go build -o "$work/bin/kbroker" ./cmd/kbroker
  for t in kafka-producer-perf-test kafka-consumer-perf-test bench-kfake-server bench-broker; do
    go build -o "$work/bin/$t" "./tools/$t"
  done
) || die "build failed"

mapfile -t ports < <("$work/bin/bench-broker" -free-ports 3)
[ "${#ports[@]}" -eq 3 ] || die "could not find free ports"
zk_port="${ports[0]}" kb_port="${ports[1]}" kf_port="${ports[2]}"

# ZooKeeper, standalone.
cat >"$work/zookeeper/zoo.cfg" <<EOF
tickTime=2000
dataDir=$work/zookeeper/data
clientPort=$zk_port
clientPortAddress=$host
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok
EOF
cp="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"
logopts=()
if [ -f /usr/share/java/slf4j-log4j12.jar ] && [ -f /usr/share/java/log4j-1.2.jar ]; then
  cp+=":/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
  logopts=("-Dzookeeper.root.logger=INFO,CONSOLE" "-Dzookeeper.log.dir=$work/logs")
fi
say "starting ZooKeeper on $host:$zk_port"
java -Xms64m -Xmx256m "${logopts[@]}" -cp "$cp" org.apache.zookeeper.server.quorum.QuorumPeerMain \
  "$work/zookeeper/zoo.cfg" >"$work/logs/zookeeper.log" 2>&1 </dev/null &
zk_pid=$!
wait_for ZooKeeper "$zk_pid" "$work/logs/zookeeper.log" zk_serving

# One kbroker with Kafka's defaults (page cache, no fsync per write).
cat >"$work/kbroker/server.properties" <<EOF
broker.id=1
listeners=PLAINTEXT://$host:$kb_port
log.dirs=$work/kbroker/data
zookeeper.connect=$host:$zk_port/kbroker
offsets.topic.replication.factor=1
${BENCH_KBROKER_PROPS:-}
EOF
say "starting kbroker on $host:$kb_port"
"$work/bin/kbroker" "$work/kbroker/server.properties" >"$work/logs/kbroker.log" 2>&1 </dev/null &
kb_pid=$!
wait_for kbroker "$kb_pid" "$work/logs/kbroker.log" listening "$kb_port"

# kfake with a data directory (segment files through the page cache).
say "starting the kfake server on $host:$kf_port"
"$work/bin/bench-kfake-server" -port "$kf_port" -data-dir "$work/kfake/data" >"$work/logs/kfake.log" 2>&1 </dev/null &
kf_pid=$!
wait_for "kfake server" "$kf_pid" "$work/logs/kfake.log" listening "$kf_port"

# The driver runs in the background so that a signal to this script is
# handled at once (bash runs traps only between commands, and wait is one).
"$work/bin/bench-broker" -kbroker "$host:$kb_port" -kbroker-pid "$kb_pid" \
  -kfake "$host:$kf_port" -kfake-pid "$kf_pid" -bin "$work/bin" \
  -records-100 "$records_100" -records-1k "$records_1k" "$@" </dev/null &
drv_pid=$!
status=0
wait "$drv_pid" || status=$?
drv_pid=""
if [ "$status" -ne 0 ]; then
  show_log "$work/logs/kbroker.log"
  show_log "$work/logs/kfake.log"
fi
exit "$status"
