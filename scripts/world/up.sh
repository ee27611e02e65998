#!/usr/bin/env bash
# Make the whole local world; every step skips what is already in place.
# Usage: up.sh [step...]   steps: docker emulation bases tools dagger pgdg kube (default: all, in
# order; dagger only when scripts/world/dagger.sh exists).
#
# kube: Kubernetes and the CloudNativePG operator (kube.sh). Its build, long on a fresh machine
# and nothing when cached, starts first and runs beside the other steps; the cluster starts last,
# as it pushes its images to the registry. With PG_IMAGES_KUBE=later (the test command), a build
# still under way is left running and whoever first needs the cluster runs `kube.sh up`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"

steps=("$@")
((${#steps[@]})) || steps=(docker emulation bases tools dagger pgdg kube)
start=$SECONDS
kube_build=
if [[ " ${steps[*]} " == *" kube "* ]]; then
  mkdir -p "$WORLD/kube"
  log "building Kubernetes and CloudNativePG in the background (log: $WORLD/kube/build.log)"
  bash "$here/kube.sh" build >"$WORLD/kube/build.log" 2>&1 &
  kube_build=$!
fi
for step in "${steps[@]}"; do
  case $step in
    docker | emulation | bases | tools | pgdg) "$here/$step.sh" ;;
    dagger) if [[ -f $here/dagger.sh ]]; then bash "$here/dagger.sh"; fi ;;
    kube)
      if [[ ${PG_IMAGES_KUBE:-} == later ]] && kill -0 "$kube_build" 2>/dev/null; then
        log "Kubernetes still building (log: $WORLD/kube/build.log): the cluster starts when first needed (kube.sh up)"
        continue
      fi
      wait "$kube_build" || { tail -20 "$WORLD/kube/build.log"; die "kube.sh build failed"; }
      log "Kubernetes and CloudNativePG built ($(grep -c 'already built' "$WORLD/kube/build.log") of them cached)"
      bash "$here/kube.sh" start
      ;;
    *) die "unknown step: $step" ;;
  esac
done
log "world up in $((SECONDS - start))s (source $here/env.sh to use it)"
