#!/usr/bin/env bash
# kbroker's kafka-broker-api-versions.sh: prints every broker's API versions as
# Apache Kafka 3.9's kafka-broker-api-versions.sh does.
#
#   scripts/kafka-broker-api-versions.sh --bootstrap-server localhost:9092
#
# Works from any directory. It builds tools/kafka-broker-api-versions from this
# checkout (Go's build cache makes that quick when nothing changed) into a
# per-user cache directory, then runs it with all arguments (and stdin).
# KBROKER_TOOLS_BIN overrides the directory the binary is built into.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bindir="${KBROKER_TOOLS_BIN:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/kbroker/bin}"
mkdir -p "$bindir"
bin="$bindir/kafka-broker-api-versions"

(cd "$repo" && go build -o "$bin.tmp.$$" ./tools/kafka-broker-api-versions) || { rm -f "$bin.tmp.$$"; exit 1; }
mv -f "$bin.tmp.$$" "$bin"
exec "$bin" "$@"
