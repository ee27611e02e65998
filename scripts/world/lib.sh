# shellcheck shell=bash
# Shared settings for the scripts that provision the local world: a Docker
# engine, a registry on 127.0.0.1:5000, Debian base images and tool images.
# Sourced, never run.

WORLD="${PG_IMAGES_WORLD:-/var/tmp/pg-images-world}"
REGISTRY=127.0.0.1:5000
WORLD_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export WORLD REGISTRY WORLD_SCRIPTS

# The daemon is Debian's dockerd; its socket lives under $WORLD so it never
# clashes with a system engine.
export DOCKER_HOST="unix://$WORLD/docker/docker.sock"
case ":$PATH:" in *":$WORLD/bin:"*) ;; *) export PATH="$WORLD/bin:$PATH" ;; esac

log() { printf '[world %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# need_packages <package...>: install the Debian packages not yet installed.
need_packages() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  log "installing ${missing[*]}"
  # Refresh the package lists only when an install is due (fresh machines have none). up.sh
  # builds Kubernetes beside the other steps: whoever comes second waits for apt's lock.
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Also needed by bases.sh (to assemble multi-platform images), hence here.
CRANE_VERSION=v0.22.1

# go_tool <name> <package> <version> [ldflags]: install into $WORLD/bin unless
# the binary there was already built from that module version. Go's module and
# build caches stay at their defaults so later runs reuse them.
go_tool() {
  local name=$1 pkg=$2 version=$3 ldflags=${4:-} bin="$WORLD/bin/$1"
  command -v go >/dev/null || die "go not found (the machines provide Go >= 1.26)"
  if [[ -x $bin ]] && go version -m "$bin" 2>/dev/null | grep -qE "^\s+mod\s+\S+\s+$version\s"; then
    log "$name $version already built"
    return
  fi
  log "building $name $version"
  GOBIN="$WORLD/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go install -trimpath -ldflags "-s -w $ldflags" "$pkg@$version"
}

# wait_for <seconds> <description> <command...>: poll until the command succeeds.
wait_for() {
  local timeout=$1 what=$2 i; shift 2
  for ((i = 0; i < timeout * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "timed out after ${timeout}s waiting for $what"
}

# registry_has <repo:tag>: the local registry already holds this tag (an image
# or a multi-platform index).
registry_has() {
  local repo=${1%:*} tag=${1##*:}
  curl -fs -o /dev/null \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
    -H 'Accept: application/vnd.oci.image.index.v1+json' \
    "http://$REGISTRY/v2/$repo/manifests/$tag"
}

# registry_digest <repo:tag>: the manifest digest the registry serves for a tag.
registry_digest() {
  skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$REGISTRY/$1"
}
