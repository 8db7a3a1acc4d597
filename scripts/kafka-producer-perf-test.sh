#!/usr/bin/env bash
# kbroker's kafka-producer-perf-test.sh: produces records as fast as asked and
# prints throughput and latency lines as Apache Kafka 3.9's
# kafka-producer-perf-test.sh does.
#
#   scripts/kafka-producer-perf-test.sh --topic t --num-records 1000000 --record-size 100 \
#     --throughput -1 --producer-props bootstrap.servers=localhost:9092 acks=1
#
# Works from any directory. It builds tools/kafka-producer-perf-test from this
# checkout (Go's build cache makes that quick when nothing changed) into a
# per-user cache directory, then runs it with all arguments (and stdin).
# KBROKER_TOOLS_BIN overrides the directory the binary is built into.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="${KBROKER_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kbroker/bin}"
mkdir -p "$bindir"
bin="$bindir/kafka-producer-perf-test"

(cd "$repo" && go build -o "$bin.tmp.$$" ./tools/kafka-producer-perf-test) || { rm -f "$bin.tmp.$$"; exit 1; }
mv -f "$bin.tmp.$$" "$bin"
exec "$bin" "$@"
