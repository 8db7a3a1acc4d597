# syntax=docker/dockerfile:1
#
# kbroker image. Build stage: Go compiles the broker and every tool; runtime
# stage: Debian slim with the binaries, the entrypoint and a base
# server.properties. Used by docker-compose.yml; on its own:
#
#   docker build -t kbroker .
#   docker run --rm -e KBROKER_ZOOKEEPER_CONNECT=zk:2181 -e KBROKER_BROKER_ID=1 kbroker
#
# Configuration: /etc/kbroker/server.properties, then KBROKER_<NAME>
# environment variables (setting <name>, lower case, '_' -> '.', read by
# kbroker itself), then --override arguments given to the container
# (docker/entrypoint.sh). The tools are on PATH under Kafka's script names
# (kafka-topics.sh, kafka-console-producer.sh, ...).

FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
# The patched kmsg (go.mod replaces the module with this directory).
COPY third_party/ third_party/
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/kbroker ./cmd/kbroker \
 && mkdir -p /out/tools \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tools/ ./tools/...

FROM debian:bookworm-slim AS runtime
RUN groupadd --system --gid 1000 kbroker \
 && useradd --system --uid 1000 --gid kbroker --home-dir /var/lib/kbroker --shell /usr/sbin/nologin kbroker \
 && mkdir -p /var/lib/kbroker/data /etc/kbroker /opt/kbroker/bin \
 && chown -R kbroker:kbroker /var/lib/kbroker
COPY --from=build /out/kbroker /usr/local/bin/kbroker
COPY --from=build /out/tools/ /opt/kbroker/bin/
# Kafka's script names for the tools: kafka-topics.sh -> /opt/kbroker/bin/kafka-topics.
RUN for f in /opt/kbroker/bin/kafka-*; do [ -e "$f" ] && ln -s "$f" "/usr/local/bin/$(basename "$f").sh"; done; true
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/kbroker-entrypoint
COPY docker/server.properties /etc/kbroker/server.properties
USER kbroker
WORKDIR /var/lib/kbroker
VOLUME ["/var/lib/kbroker/data"]
EXPOSE 9092
# SIGTERM is kbroker's orderly shutdown; give it time (docker stop -t, stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/kbroker-entrypoint"]
CMD []
