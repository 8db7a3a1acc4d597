#!/usr/bin/env bash
# Measures kbroker's append speed against raw sequential buffered writes on
# the same disk in the same run and prints the ratio (target: >= 0.85 for
# 1 MiB batches). Arguments go to the tool: -dir DIR (the disk to measure),
# -total-mib N, -rounds N.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./tools/bench-storage "$@"
