#!/usr/bin/env bash
# The project's test command (README): installs what the tests need when it
# is missing, then checks formatting, vets, and runs every test with the race
# detector. Extra arguments are passed to `go test` (e.g. -run TestRecover).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v zkServer.sh >/dev/null 2>&1 || [ -x /usr/share/zookeeper/bin/zkServer.sh ] || need+=(zookeeper)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
/usr/bin/python3 -c 'import kafka' >/dev/null 2>&1 || need+=(python3-kafka)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing ${need[*]} from the OS packages"
  if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -race -count=1 "$@" ./...
