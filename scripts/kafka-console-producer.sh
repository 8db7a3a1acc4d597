#!/usr/bin/env bash
# kbroker's kafka-console-producer.sh: writes one record per stdin line, with the
# options of Apache Kafka 3.9's kafka-console-producer.sh.
#
#   printf 'k1:v1\nk2:v2\n' | scripts/kafka-console-producer.sh --bootstrap-server localhost:9092 --topic orders --property parse.key=true --property key.separator=:
#
# Works from any directory. It builds tools/kafka-console-producer from this
# checkout (Go's build cache makes that quick when nothing changed) into a
# per-user cache directory, then runs it with all arguments (and stdin).
# KBROKER_TOOLS_BIN overrides the directory the binary is built into.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="${KBROKER_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kbroker/bin}"
mkdir -p "$bindir"
bin="$bindir/kafka-console-producer"

(cd "$repo" && go build -o "$bin.tmp.$$" ./tools/kafka-console-producer) || { rm -f "$bin.tmp.$$"; exit 1; }
mv -f "$bin.tmp.$$" "$bin"
exec "$bin" "$@"
