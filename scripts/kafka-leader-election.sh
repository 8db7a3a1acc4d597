#!/usr/bin/env bash
# kbroker's kafka-leader-election.sh: moves partition leadership to the preferred
# replicas (or elects leaders uncleanly) with the options and output of Apache
# Kafka 3.9's kafka-leader-election.sh.
#
#   scripts/kafka-leader-election.sh --bootstrap-server localhost:9092 --election-type preferred --all-topic-partitions
#
# Works from any directory. It builds tools/kafka-leader-election from this
# checkout (Go's build cache makes that quick when nothing changed) into a
# per-user cache directory, then runs it with all arguments (and stdin).
# KBROKER_TOOLS_BIN overrides the directory the binary is built into.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="${KBROKER_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kbroker/bin}"
mkdir -p "$bindir"
bin="$bindir/kafka-leader-election"

(cd "$repo" && go build -o "$bin.tmp.$$" ./tools/kafka-leader-election) || { rm -f "$bin.tmp.$$"; exit 1; }
mv -f "$bin.tmp.$$" "$bin"
exec "$bin" "$@"
