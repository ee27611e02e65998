#!/usr/bin/env bash
# Make the whole local world; every step skips what is already in place.
# Usage: up.sh [step...]   steps: docker emulation bases tools dagger pgdg (default: all, in order;
# dagger only when scripts/world/dagger.sh exists).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"

steps=("$@")
((${#steps[@]})) || steps=(docker emulation bases tools dagger pgdg)
start=$SECONDS
for step in "${steps[@]}"; do
  case $step in
    docker | emulation | bases | tools | pgdg) "$here/$step.sh" ;;
    dagger) if [[ -f $here/dagger.sh ]]; then bash "$here/dagger.sh"; fi ;;
    *) die "unknown step: $step" ;;
  esac
done
log "world up in $((SECONDS - start))s (source $here/env.sh to use it)"
