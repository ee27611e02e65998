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

# Earlier builds of the image tests' tags: nothing refers to them (build steps stay cached).
docker image prune -f >/dev/null

registry_up() { curl -fs -o /dev/null "http://$REGISTRY/v2/"; }

# Every test run pushes under a name of its own and leaves it there. Before the registry serves
# again, only the world's own repositories stay (bases, tools, the cluster's images) and the
# blobs nothing else holds go: the disk stays bounded however many runs this world sees.
WORLD_REPOSITORIES=(library anchore go-containerregistry sigstore regclient pg-images-kube)
prune_registry() {
  local repos=$WORLD/registry/data/docker/registry/v2/repositories name dropped=()
  [[ -d $repos ]] || return 0
  for name in "$repos"/*; do
    [[ " ${WORLD_REPOSITORIES[*]} " == *" ${name##*/} "* ]] || { rm -rf "$name"; dropped+=("${name##*/}"); }
  done
  ((${#dropped[@]})) || return 0
  docker-registry garbage-collect --delete-untagged "$WORLD/registry/config.yml" >"$WORLD/registry/gc.log" 2>&1 ||
    { tail -5 "$WORLD/registry/gc.log"; die "registry garbage-collect failed (log: $WORLD/registry/gc.log)"; }
  log "registry: dropped ${#dropped[@]} test runs' repositories and their blobs ($(du -sh "$WORLD/registry/data" | cut -f1) kept)"
}

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
  prune_registry
  log "starting registry on $REGISTRY (log: $WORLD/registry/registry.log)"
  setsid docker-registry serve "$WORLD/registry/config.yml" \
    >"$WORLD/registry/registry.log" 2>&1 </dev/null &
  echo $! >"$WORLD/registry/registry.pid"
  wait_for 30 registry registry_up
fi
