#!/usr/bin/env bash
# kbroker's kafka-transactions.sh: lists and describes transactions, describes
# a partition's producers and aborts hanging transactions, with the
# subcommands, options and output of Apache Kafka 3.9's kafka-transactions.sh.
#
#   scripts/kafka-transactions.sh --bootstrap-server localhost:9092 describe-producers --topic t --partition 0
#
# Works from any directory. It builds tools/kafka-transactions from this
# checkout (Go's build cache makes that quick when nothing changed) into a
# per-user cache directory, then runs it with all arguments (and stdin).
# KBROKER_TOOLS_BIN overrides the directory the binary is built into.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="${KBROKER_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kbroker/bin}"
mkdir -p "$bindir"
bin="$bindir/kafka-transactions"

(cd "$repo" && go build -o "$bin.tmp.$$" ./tools/kafka-transactions) || { rm -f "$bin.tmp.$$"; exit 1; }
mv -f "$bin.tmp.$$" "$bin"
exec "$bin" "$@"
