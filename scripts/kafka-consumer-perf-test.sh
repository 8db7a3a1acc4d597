#!/usr/bin/env bash
# kbroker's kafka-consumer-perf-test.sh: consumes a topic from the start and
# prints the throughput line of Apache Kafka 3.9's kafka-consumer-perf-test.sh
# (partitions are assigned directly: consumer groups come with issue #4).
#
#   scripts/kafka-consumer-perf-test.sh --bootstrap-server localhost:9092 --topic t --messages 1000000
#
# Works from any directory. It builds tools/kafka-consumer-perf-test from this
# checkout (Go's build cache makes that quick when nothing changed) into a
# per-user cache directory, then runs it with all arguments (and stdin).
# KBROKER_TOOLS_BIN overrides the directory the binary is built into.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="${KBROKER_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kbroker/bin}"
mkdir -p "$bindir"
bin="$bindir/kafka-consumer-perf-test"

(cd "$repo" && go build -o "$bin.tmp.$$" ./tools/kafka-consumer-perf-test) || { rm -f "$bin.tmp.$$"; exit 1; }
mv -f "$bin.tmp.$$" "$bin"
exec "$bin" "$@"
