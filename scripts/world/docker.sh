#!/usr/bin/env bash
# Install Debian's Docker engine, registry and image tools, then start dockerd
# and a registry on 127.0.0.1:5000, both with their state under $WORLD.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Packages: engine, registry, rootfs builder, registry client, and helpers.
need_packages docker.io docker-registry debootstrap debian-archive-keyring skopeo jq git curl ca-certificates apache2-utils

mkdir -p "$WORLD"/{docker,registry/data,bin}
pidfile="$WORLD/docker/dockerd.pid"
sock="$WORLD/docker/docker.sock"

docker_up() { /usr/bin/docker info >/dev/null 2>&1; }

if docker_up; then
  log "dockerd already running"
else
  # A stale pidfile makes dockerd refuse to start.
  if [[ -f $pidfile ]] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
  log "starting dockerd (log: $WORLD/docker/dockerd.log)"
  # No bridge, no iptables: containers use --network host and nothing is
  # routed or NATed through this machine.
  setsid dockerd \
    --bridge=none --iptables=false --ip-masq=false \
    --data-root "$WORLD/docker/data" --exec-root "$WORLD/docker/exec" \
    --pidfile "$pidfile" -H "unix://$sock" \
    >"$WORLD/docker/dockerd.log" 2>&1 </dev/null &
  wait_for 60 dockerd docker_up
fi

registry_up() { curl -fs -o /dev/null "http://$REGISTRY/v2/"; }

if registry_up; then
  log "registry already answering on $REGISTRY"
else
  cat >"$WORLD/registry/config.yml" <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $WORLD/registry/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
YAML
  log "starting registry on $REGISTRY (log: $WORLD/registry/registry.log)"
  setsid docker-registry serve "$WORLD/registry/config.yml" \
    >"$WORLD/registry/registry.log" 2>&1 </dev/null &
  echo $! >"$WORLD/registry/registry.pid"
  wait_for 30 registry registry_up
fi
