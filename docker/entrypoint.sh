#!/usr/bin/env bash
# Entrypoint of the kbroker image.
#
#   kbroker-entrypoint [FILE.properties] [--override key=value]...
#   kbroker-entrypoint COMMAND [ARG]...
#
# Starts `kbroker FILE.properties [--override key=value]...`, FILE being
# /etc/kbroker/server.properties unless the first argument names another
# .properties file. Settings per container come from the environment:
# kbroker itself reads every KBROKER_<NAME> variable as the setting <name>
# (lower case, '_' -> '.'; config package), e.g.
#
#   KBROKER_BROKER_ID=1                      broker.id=1
#   KBROKER_ZOOKEEPER_CONNECT=zk:2181/kafka  zookeeper.connect=zk:2181/kafka
#
# with the precedence file < environment < --override, and refuses to start
# on a KBROKER_ variable that names no setting, naming the variable. The
# entrypoint therefore leaves the environment alone and only execs kbroker,
# which then gets SIGTERM from `docker stop` directly.
#
# A first argument that is neither a .properties file nor an option is run
# as a command instead (`docker run IMAGE kafka-topics.sh --bootstrap-server ...`).
set -euo pipefail

config=/etc/kbroker/server.properties
if [ $# -gt 0 ] && [[ "$1" == *.properties ]]; then
  config="$1"
  shift
fi
if [ $# -gt 0 ] && [[ "$1" != -* ]]; then
  exec "$@"
fi
exec kbroker "$config" "$@"
