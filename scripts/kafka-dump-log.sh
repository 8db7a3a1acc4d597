#!/usr/bin/env bash
# kbroker's kafka-dump-log.sh: prints .log, .index, .timeindex, .txnindex and
# .snapshot files the way Apache Kafka 3.9's kafka-dump-log.sh does.
#
#   scripts/kafka-dump-log.sh --files /var/kbroker/foo-0/00000000000000000000.log --print-data-log
#
# Works from any directory (relative --files paths are relative to where it
# is run). It builds tools/kafka-dump-log from this checkout (Go's build
# cache makes that quick when nothing changed) into a per-user cache
# directory, then runs it with all arguments passed through.
# KBROKER_TOOLS_BIN overrides the directory the binary is built into.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="${KBROKER_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kbroker/bin}"
mkdir -p "$bindir"
bin="$bindir/kafka-dump-log"

(cd "$repo" && go build -o "$bin.tmp.$$" ./tools/kafka-dump-log) || { rm -f "$bin.tmp.$$"; exit 1; }
mv -f "$bin.tmp.$$" "$bin"
exec "$bin" "$@"
