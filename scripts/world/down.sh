#!/usr/bin/env bash
# Stop what up.sh started (the Kubernetes cluster, Dagger engine container, registry, dockerd); keep
# the state and caches under $WORLD so the next up.sh is fast.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# stop_pid <name> <pidfile>: SIGTERM, then wait for a clean exit.
stop_pid() {
  local name=$1 pidfile=$2 pid
  [[ -f $pidfile ]] || { log "$name: no pidfile"; return 0; }
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid"
    gone() { ! kill -0 "$pid" 2>/dev/null; }
    wait_for 30 "$name to exit" gone
  fi
  rm -f "$pidfile"
}

# The cluster first: its pods stop cleanly while their node and the registry are still there.
if [[ -d $WORLD/kube/run ]]; then bash "$(dirname "${BASH_SOURCE[0]}")/kube.sh" stop; fi

if docker info >/dev/null 2>&1; then
  # The engine container holds its state in volumes; a clean stop keeps it usable.
  if docker container inspect pg-images-dagger-engine >/dev/null 2>&1; then
    log "stopping container pg-images-dagger-engine"
    docker stop -t 30 pg-images-dagger-engine >/dev/null
  fi
fi
stop_pid "PGDG-shaped repositories' server" "$WORLD/pgdg/http.pid"
source "$(dirname "${BASH_SOURCE[0]}")/pgdg-lib.sh"
if ip -4 addr show dev lo | grep -q "inet $PGDG_ADDR/"; then ip addr del "$PGDG_ADDR/32" dev lo; fi
stop_pid registry "$WORLD/registry/registry.pid"
# dockerd stops its running containers and its containerd itself.
stop_pid dockerd "$WORLD/docker/dockerd.pid"
# dockerd leaves its network-namespace and data-root mounts behind; drop them
# so $WORLD can be deleted (the next start recreates them).
if ! docker info >/dev/null 2>&1; then
  awk -v w="$WORLD/docker/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
fi
