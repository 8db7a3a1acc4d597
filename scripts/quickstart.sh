#!/usr/bin/env bash
# Start a local kbroker cluster: one ZooKeeper and three brokers on this
# machine, everything under one data directory.
#
#   scripts/quickstart.sh [start] [--override key=value]...   start (the default)
#   scripts/quickstart.sh status                              what runs, what is registered
#   scripts/quickstart.sh stop                                stop the brokers (SIGTERM), then ZooKeeper
#
# On a fresh Debian machine `start` installs ZooKeeper (and with it Java)
# from the OS packages when they are missing (with sudo when not root),
# builds kbroker with Go (1.26, which must be installed), starts ZooKeeper
# and brokers 1, 2, 3, waits until the three are registered in ZooKeeper
# and prints how to use them. --override arguments go to every broker.
#
# Environment (give the same values to start, status and stop):
#   KBROKER_DATA          data directory (default ./kbroker-data)
#   KBROKER_ZK_PORT       ZooKeeper client port (default 2181)
#   KBROKER_PORT          first broker port; the brokers use it and the next
#                         two (default 9092: 9092, 9093, 9094)
#   KBROKER_BIN           use this kbroker binary instead of building one
#   KBROKER_WAIT          seconds to wait for ZooKeeper and the brokers (default 60)
#   KBROKER_STOP_TIMEOUT  seconds a broker gets to shut down before SIGKILL (default 60)
# These variables are not passed on to the brokers.
#
# Layout of the data directory:
#   bin/kbroker                      the broker binary built from this checkout
#   config/zoo.cfg, config/broker-N.properties   (rewritten at every start)
#   zookeeper/                       ZooKeeper's data
#   broker-N/                        broker N's log.dirs
#   logs/zookeeper.log, logs/broker-N.log
#   run/zookeeper.pid, run/broker-N.pid
#
# Registration is checked with ZooKeeper's "dump" four-letter command over
# bash's /dev/tcp, which lists every session's ephemeral znodes
# (/brokers/ids/N among them) without starting a JVM client.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${KBROKER_DATA:-./kbroker-data}"
zk_port="${KBROKER_ZK_PORT:-2181}"
first_port="${KBROKER_PORT:-9092}"
wait_s="${KBROKER_WAIT:-60}"
stop_s="${KBROKER_STOP_TIMEOUT:-60}"
host=127.0.0.1
ids=(1 2 3)

die() { echo "quickstart: $*" >&2; exit 1; }
say() { echo "quickstart: $*"; }

for v in "$zk_port" "$first_port" "$wait_s" "$stop_s"; do
  [[ "$v" =~ ^[0-9]+$ ]] || die "not a number: $v (check KBROKER_ZK_PORT, KBROKER_PORT, KBROKER_WAIT, KBROKER_STOP_TIMEOUT)"
done

broker_port() { echo $((first_port + $1 - 1)); }
bootstrap() {
  local out="" id
  for id in "${ids[@]}"; do out+="${out:+,}$host:$(broker_port "$id")"; done
  echo "$out"
}

# pid_of NAME MARKER: the pid in run/NAME.pid when that process is alive and
# its command line contains MARKER (so a recycled pid is not mistaken for
# ours); nothing otherwise.
pid_of() {
  local f="$data/run/$1.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 0
  echo "$pid"
}
zk_pid() { pid_of zookeeper "$data/config/zoo.cfg"; }
broker_pid() { pid_of "broker-$1" "$data/config/broker-$1.properties"; }

# fourlw CMD: ZooKeeper's answer to a four-letter-word command.
# shellcheck disable=SC2016 # the inner bash expands its own arguments
fourlw() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf %s "$2" >&3 && cat <&3' "$host" "$zk_port" "$1" 2>/dev/null || true
}
# shellcheck disable=SC2016
port_in_use() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$1" 2>/dev/null; }
registered() { fourlw dump | sed -n 's|^[[:space:]]*/brokers/ids/\([0-9][0-9]*\)[[:space:]]*$|\1|p' | sort -un | tr '\n' ' '; }

# stop_pid NAME PID TIMEOUT: SIGTERM, wait, SIGKILL after TIMEOUT seconds.
stop_pid() {
  local name="$1" pid="$2" t="$3" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < t * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { say "stopped $name (pid $pid)"; return 0; }
    sleep 0.1
  done
  say "$name (pid $pid) did not stop within ${t}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
  [ -d "$data" ] || { say "nothing running (no $data)"; return 0; }
  data="$(cd "$data" && pwd)"
  local any=0 id pid pids=()
  # Brokers first, all at once (they need ZooKeeper for an orderly shutdown).
  for id in "${ids[@]}"; do
    pid="$(broker_pid "$id")"
    if [ -n "$pid" ]; then
      any=1
      stop_pid "broker $id" "$pid" "$stop_s" &
      pids+=($!)
    fi
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  pid="$(zk_pid)"
  if [ -n "$pid" ]; then
    any=1
    stop_pid zookeeper "$pid" 15
  fi
  rm -f "$data"/run/*.pid
  [ "$any" = 1 ] || say "nothing running in $data"
}

cmd_status() {
  [ -d "$data" ] || { say "not started (no $data)"; return 3; }
  data="$(cd "$data" && pwd)"
  local pid id down=0
  pid="$(zk_pid)"
  if [ -n "$pid" ]; then
    echo "zookeeper  running  pid $pid  $host:$zk_port"
  else
    echo "zookeeper  stopped"
    down=1
  fi
  for id in "${ids[@]}"; do
    pid="$(broker_pid "$id")"
    if [ -n "$pid" ]; then
      echo "broker $id   running  pid $pid  $host:$(broker_port "$id")"
    else
      echo "broker $id   stopped"
      down=1
    fi
  done
  [ -z "$(zk_pid)" ] || echo "registered broker ids: $(registered)"
  echo "data: $data"
  return $((down * 3))
}

# need_packages: install ZooKeeper (and a JRE) from the OS packages.
need_packages() {
  local pkgs=()
  [ -f /usr/share/java/zookeeper.jar ] || pkgs+=(zookeeper)
  command -v java >/dev/null 2>&1 || pkgs+=(default-jre-headless)
  [ ${#pkgs[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing ${pkgs[*]}; install ZooKeeper and Java (this script knows apt-get only)"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "missing ${pkgs[*]}: run as root or install sudo"
    sudo=(sudo)
  fi
  say "installing ${pkgs[*]} from the OS packages"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${pkgs[@]}" >/dev/null
  [ -f /usr/share/java/zookeeper.jar ] || die "the zookeeper package did not provide /usr/share/java/zookeeper.jar"
  command -v java >/dev/null 2>&1 || die "no java after installing ${pkgs[*]}"
}

# launch NAME LOG CMD...: start a daemon, record its pid.
launch() {
  local name="$1" log="$2"
  shift 2
  echo "=== $(date '+%F %T') $*" >>"$log"
  nohup "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$data/run/$name.pid"
}

# failed MSG LOG: report, show the log's tail, stop what was started.
failed() {
  echo "quickstart: $1" >&2
  if [ -f "$2" ]; then
    echo "--- last lines of $2:" >&2
    tail -n 30 "$2" >&2
  fi
  cmd_stop >&2 || true
  exit 1
}

cmd_start() {
  local overrides=() id
  while [ $# -gt 0 ]; do
    case "$1" in
      --override)
        [ $# -ge 2 ] || die "--override needs key=value"
        overrides+=(--override "$2"); shift 2 ;;
      --override=*) overrides+=(--override "${1#--override=}"); shift ;;
      *) die "unknown argument: $1 (usage: scripts/quickstart.sh [start [--override key=value]...|stop|status])" ;;
    esac
  done

  mkdir -p "$data"
  data="$(cd "$data" && pwd)"
  mkdir -p "$data"/{bin,config,zookeeper,logs,run}

  local running=()
  [ -z "$(zk_pid)" ] || running+=(zookeeper)
  for id in "${ids[@]}"; do [ -z "$(broker_pid "$id")" ] || running+=("broker-$id"); done
  if [ ${#running[@]} -gt 0 ]; then
    die "already running in $data: ${running[*]} (scripts/quickstart.sh status; stop with scripts/quickstart.sh stop)"
  fi
  rm -f "$data"/run/*.pid
  for p in "$zk_port" $(for id in "${ids[@]}"; do broker_port "$id"; done); do
    if port_in_use "$p"; then
      die "port $p on $host is in use by another program (set KBROKER_ZK_PORT / KBROKER_PORT to use others)"
    fi
  done

  need_packages

  local bin
  if [ -n "${KBROKER_BIN:-}" ]; then
    bin="$KBROKER_BIN"
    [ -x "$bin" ] || die "KBROKER_BIN=$bin is not an executable"
  else
    command -v go >/dev/null 2>&1 || die "Go is needed to build kbroker (Go 1.26: https://go.dev/dl/)"
    say "building kbroker"
    bin="$data/bin/kbroker"
    (cd "$repo" && go build -o "$bin.tmp" ./cmd/kbroker) || { rm -f "$bin.tmp"; die "go build ./cmd/kbroker failed"; }
    mv -f "$bin.tmp" "$bin"
  fi

  # ZooKeeper, standalone.
  cat >"$data/config/zoo.cfg" <<EOF
# written by scripts/quickstart.sh
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$data/zookeeper
clientPort=$zk_port
clientPortAddress=$host
maxClientCnxns=0
admin.enableServer=false
4lw.commands.whitelist=srvr,ruok,stat,mntr,conf,cons,dump,wchs
EOF
  local cp="/etc/zookeeper/conf:/usr/share/java/zookeeper.jar" logopts=()
  if [ -f /usr/share/java/slf4j-log4j12.jar ] && [ -f /usr/share/java/log4j-1.2.jar ]; then
    cp+=":/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"
    logopts=("-Dzookeeper.root.logger=INFO,CONSOLE" "-Dzookeeper.log.dir=$data/logs")
  fi
  say "starting ZooKeeper on $host:$zk_port"
  launch zookeeper "$data/logs/zookeeper.log" \
    java -Xms64m -Xmx512m "${logopts[@]}" -cp "$cp" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$data/config/zoo.cfg"
  local deadline=$((SECONDS + wait_s))
  until fourlw srvr | grep -q '^Mode: '; do
    [ -n "$(zk_pid)" ] || failed "ZooKeeper exited" "$data/logs/zookeeper.log"
    [ $SECONDS -lt $deadline ] || failed "ZooKeeper not serving after ${wait_s}s" "$data/logs/zookeeper.log"
    sleep 0.2
  done

  # The brokers.
  for id in "${ids[@]}"; do
    mkdir -p "$data/broker-$id"
    cat >"$data/config/broker-$id.properties" <<EOF
# written by scripts/quickstart.sh (rewritten at every start: use --override)
broker.id=$id
listeners=PLAINTEXT://$host:$(broker_port "$id")
log.dirs=$data/broker-$id
zookeeper.connect=$host:$zk_port
EOF
    say "starting broker $id on $host:$(broker_port "$id")"
    launch "broker-$id" "$data/logs/broker-$id.log" \
      env -u KBROKER_DATA -u KBROKER_ZK_PORT -u KBROKER_PORT -u KBROKER_BIN -u KBROKER_WAIT -u KBROKER_STOP_TIMEOUT \
      "$bin" "$data/config/broker-$id.properties" "${overrides[@]}"
  done

  local want="${ids[*]} " got
  deadline=$((SECONDS + wait_s))
  while :; do
    got="$(registered)"
    [ "$got" = "$want" ] && break
    for id in "${ids[@]}"; do
      [ -n "$(broker_pid "$id")" ] || failed "broker $id exited" "$data/logs/broker-$id.log"
    done
    [ $SECONDS -lt $deadline ] || failed "brokers not all registered after ${wait_s}s (registered: ${got:-none})" "$data/logs/broker-1.log"
    sleep 0.2
  done
  for id in "${ids[@]}"; do
    until port_in_use "$(broker_port "$id")"; do
      [ -n "$(broker_pid "$id")" ] || failed "broker $id exited" "$data/logs/broker-$id.log"
      [ $SECONDS -lt $deadline ] || failed "broker $id not listening after ${wait_s}s" "$data/logs/broker-$id.log"
      sleep 0.2
    done
  done

  local bs b1
  bs="$(bootstrap)"
  b1="$host:$first_port"
  cat <<EOF

kbroker is running: ZooKeeper on $host:$zk_port, brokers ${ids[*]} registered.

  bootstrap servers  $bs
  data and logs      $data  (logs/broker-N.log, logs/zookeeper.log)

Try:
  scripts/kafka-topics.sh --bootstrap-server $b1 --create --topic demo --partitions 3 --replication-factor 3
  scripts/kafka-topics.sh --bootstrap-server $b1 --describe --topic demo
  echo hello | kcat -P -b $b1 -t demo
  kcat -C -b $b1 -t demo -e
  scripts/kafka-console-consumer.sh --bootstrap-server $b1 --topic demo --from-beginning
  kcat -L -b $b1
  /usr/share/zookeeper/bin/zkCli.sh -server $host:$zk_port ls /brokers/ids

Status: scripts/quickstart.sh status
Stop:   scripts/quickstart.sh stop
EOF
  if [ -n "${KBROKER_DATA:-}" ] || [ "$zk_port" != 2181 ] || [ "$first_port" != 9092 ]; then
    echo "(with the same KBROKER_DATA, KBROKER_ZK_PORT and KBROKER_PORT in the environment)"
  fi
}

cmd="${1:-start}"
case "$cmd" in
  start) shift || true; cmd_start "$@" ;;
  --override*) cmd_start "$@" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  -h|--help|help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
  *) die "unknown command $cmd (start, stop, status)" ;;
esac
