#!/usr/bin/env bash
# kbroker's kafka-consumer-groups.sh: lists, describes and deletes consumer groups and
# resets or deletes their offsets, with the options and output of Apache Kafka
# 3.9's kafka-consumer-groups.sh.
#
#   scripts/kafka-consumer-groups.sh --bootstrap-server localhost:9092 --describe --group orders-app
#
# Works from any directory. It builds tools/kafka-consumer-groups from this
# checkout (Go's build cache makes that quick when nothing changed) into a
# per-user cache directory, then runs it with all arguments (and stdin).
# KBROKER_TOOLS_BIN overrides the directory the binary is built into.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="${KBROKER_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kbroker/bin}"
mkdir -p "$bindir"
bin="$bindir/kafka-consumer-groups"

(cd "$repo" && go build -o "$bin.tmp.$$" ./tools/kafka-consumer-groups) || { rm -f "$bin.tmp.$$"; exit 1; }
mv -f "$bin.tmp.$$" "$bin"
exec "$bin" "$@"
