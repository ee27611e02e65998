#!/usr/bin/env bash
# Build syft, crane, cosign and regctl from the Go module proxy, wrap each in an image based on
# the local Debian slim image, push them to the local registry and write
# $WORLD/tools.json with digest-pinned references; buildx (a reader for the tests, from Debian)
# stays a binary in $WORLD/bin. Needs docker.sh and bases.sh (bookworm) first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SYFT_VERSION=v1.57.0
COSIGN_VERSION=v2.6.5
REGCTL_VERSION=v0.11.7
base="$REGISTRY/library/debian:bookworm-slim"
registry_has library/debian:bookworm-slim || die "$base missing: run bases.sh first"

go_tool syft github.com/anchore/syft/cmd/syft "$SYFT_VERSION" "-X main.version=${SYFT_VERSION#v}"
go_tool crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
# Its go.mod has no replace directives, so `go install …@version` takes it as released.
go_tool cosign github.com/sigstore/cosign/v2/cmd/cosign "$COSIGN_VERSION" \
  "-X sigs.k8s.io/release-utils/version.gitVersion=$COSIGN_VERSION"

# Normalises image times for reproducible digests (`regctl image mod --time … --reproducible`).
go_tool regctl github.com/regclient/regclient/cmd/regctl "$REGCTL_VERSION" \
  "-X github.com/regclient/regclient/internal/version.vcsTag=$REGCTL_VERSION"

# A reader of the SBOM and provenance in an image index that pg-images did not write: the e2e
# tests run `buildx imagetools inspect --format '{{ json .SBOM }}'` as CloudNativePG's users do
# (standalone, no Docker CLI needed). Debian trixie's docker-buildx (a static binary, its
# signature checked by apt in the trixie base): seconds, where a build from the module proxy
# takes 25 minutes on a fresh machine.
if [[ -x $WORLD/bin/buildx ]] && "$WORLD/bin/buildx" version 2>/dev/null | grep -q '+ds'; then   # Debian's version
  log "buildx already installed ($("$WORLD/bin/buildx" version | cut -d' ' -f2))"
else
  trixie="$REGISTRY/library/debian:trixie-slim"
  registry_has library/debian:trixie-slim || die "$trixie missing: run bases.sh first"
  log "installing buildx from Debian trixie's docker-buildx"
  docker run --rm --network host -v "$WORLD/bin:/out" "$trixie" sh -ec '
    apt-get update -qq && cd /tmp && apt-get download -qq docker-buildx
    dpkg-deb -x docker-buildx_*.deb pkg && install -m 755 pkg/usr/libexec/docker/cli-plugins/docker-buildx /out/buildx' >/dev/null
fi

# image <repo:tag> <binary> <Dockerfile lines...>: build from a temp context
# holding only the binary, and push; skipped when the registry has the tag.
image() {
  local ref=$1 bin=$2 ctx; shift 2
  if registry_has "$ref"; then
    log "$REGISTRY/$ref already in the registry"
    return
  fi
  ctx=$(mktemp -d)
  cp "$WORLD/bin/$bin" "$ctx/"
  printf '%s\n' "FROM $base" "$@" >"$ctx/Dockerfile"
  log "building and pushing $REGISTRY/$ref"
  # Debian's client (same version as the daemon) builds with the classic builder
  # without a deprecation notice; nothing here needs BuildKit.
  DOCKER_BUILDKIT=0 /usr/bin/docker build -q --network host -t "$REGISTRY/$ref" "$ctx" >/dev/null
  rm -rf "$ctx"
  docker push -q "$REGISTRY/$ref" >/dev/null
}

# Like anchore/syft: the binary at /syft as the entrypoint (plus a shell here).
syft_ref=anchore/syft:$SYFT_VERSION
image "$syft_ref" syft 'COPY syft /syft' 'ENTRYPOINT ["/syft"]'

# Like go-containerregistry/crane:debug: crane plus a shell; /ko-app/crane is
# where the official image keeps it.
crane_ref=go-containerregistry/crane:$CRANE_VERSION-debug
image "$crane_ref" crane 'COPY crane /usr/local/bin/crane' \
  'RUN mkdir /ko-app && ln -s /usr/local/bin/crane /ko-app/crane' 'ENTRYPOINT ["/usr/local/bin/crane"]'

# Like gcr.io/projectsigstore/cosign (the binary at /ko-app/cosign, where the pipeline takes it
# from), plus a shell for trying it by hand.
cosign_ref=sigstore/cosign:$COSIGN_VERSION-debug
image "$cosign_ref" cosign 'COPY cosign /usr/local/bin/cosign' \
  'RUN mkdir /ko-app && ln -s /usr/local/bin/cosign /ko-app/cosign' 'ENTRYPOINT ["/usr/local/bin/cosign"]'

# Like ghcr.io/regclient/regctl: the binary at /regctl, where the pipeline takes it from.
regctl_ref=regclient/regctl:$REGCTL_VERSION
image "$regctl_ref" regctl 'COPY regctl /regctl' 'ENTRYPOINT ["/regctl"]'

# The throwaway registry the pipeline starts inside the engine when no registry is given: Debian's
# registry binary, listening on all addresses of the service's own network namespace.
registry_ref=library/registry:2.8.2
install -m 755 /usr/bin/docker-registry "$WORLD/bin/docker-registry"
image "$registry_ref" docker-registry 'COPY docker-registry /usr/local/bin/registry' \
  "RUN mkdir -p /etc/docker/registry && printf 'version: 0.1\\nstorage: {filesystem: {rootdirectory: /var/lib/registry}, delete: {enabled: true}}\\nhttp: {addr: \":5000\"}\\n' >/etc/docker/registry/config.yml" \
  'EXPOSE 5000' 'ENTRYPOINT ["/usr/local/bin/registry", "serve", "/etc/docker/registry/config.yml"]'

jq -nS --arg syft "$REGISTRY/$syft_ref@$(registry_digest "$syft_ref")" \
  --arg crane "$REGISTRY/$crane_ref@$(registry_digest "$crane_ref")" \
  --arg cosign "$REGISTRY/$cosign_ref@$(registry_digest "$cosign_ref")" \
  --arg registry "$REGISTRY/$registry_ref@$(registry_digest "$registry_ref")" \
  --arg regctl "$REGISTRY/$regctl_ref@$(registry_digest "$regctl_ref")" \
  '{syft: $syft, crane: $crane, cosign: $cosign, registry: $registry, regctl: $regctl}' >"$WORLD/tools.json"
log "tools: $(jq -c . "$WORLD/tools.json")"
