#!/usr/bin/env bash
# Build Debian "-slim" base images from packages (debootstrap) and push them to
# the local registry as $REGISTRY/library/debian:<release>-slim. Writes
# $WORLD/bases.json mapping each release to a digest-pinned reference.
# Usage: bases.sh [release...]   (default: bookworm trixie)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

releases=("$@")
((${#releases[@]})) || releases=(bookworm trixie)
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# Same trimming as the official -slim images (debuerreotype's slimify list).
slim_excludes=(/usr/share/doc/'*' /usr/share/groff/'*' /usr/share/info/'*' /usr/share/linda/'*'
  /usr/share/lintian/overrides/'*' /usr/share/locale/'*' /usr/share/man/'*')
slim_includes=(/usr/share/doc/'*'/copyright)

make_rootfs() {
  local release=$1 dir=$2 rootfs=$2/rootfs
  rm -rf "$dir" && mkdir -p "$dir"
  log "$release: debootstrap --variant=minbase"
  debootstrap --variant=minbase --keyring="$keyring" "$release" "$rootfs" "$mirror" \
    >"$dir/debootstrap.log" 2>&1 || { tail -20 "$dir/debootstrap.log"; die "$release: debootstrap failed"; }

  # debootstrap writes only the main suite to sources.list; the official images
  # use deb822 with -updates and -security too, without which packages lag
  # behind the archive's current versions.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $release $release-updates
Components: main
Signed-By: $keyring

Types: deb
URIs: $security
Suites: $release-security
Components: main
Signed-By: $keyring
SRC

  # Keep later package installs slim, like the official images do.
  { printf 'path-exclude %s\n' "${slim_excludes[@]}"; printf 'path-include %s\n' "${slim_includes[@]}"; } \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/docker"
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
CONF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  # Package scripts must not start services inside image builds.
  printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d" && chmod 755 "$rootfs/usr/sbin/policy-rc.d"

  # Bring in current -updates and -security packages.
  log "$release: applying updates"
  chroot "$rootfs" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq dist-upgrade' \
    >>"$dir/debootstrap.log" 2>&1 || { tail -20 "$dir/debootstrap.log"; die "$release: update failed"; }

  # Never delete through a mount left behind in the rootfs.
  ! grep -q " $rootfs/" /proc/mounts || die "$release: mounts left under $rootfs"
  # Trim what the exclude list would have kept out, plus lists and caches.
  (cd "$rootfs/usr/share" && find doc ! -type d ! -name copyright -delete && find doc -depth -type d -empty -delete
   rm -rf groff/* info/* linda/* lintian/overrides/* locale/* man/*)
  rm -rf "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/var/cache/apt/* "${rootfs:?}"/var/cache/debconf/*-old \
    "${rootfs:?}"/var/log/* "${rootfs:?}"/tmp/* "${rootfs:?}"/etc/resolv.conf "${rootfs:?}"/dev/*
  touch "$dir/.done"
}

declare -A refs=()
for release in "${releases[@]}"; do
  name="library/debian:$release-slim"
  if registry_has "$name"; then
    log "$release: $REGISTRY/$name already in the registry"
  else
    dir="$WORLD/bases/$release"
    [[ -f $dir/.done ]] || make_rootfs "$release" "$dir"
    log "$release: importing and pushing $REGISTRY/$name"
    tar --numeric-owner -C "$dir/rootfs" -c . | docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' - "$REGISTRY/$name" >/dev/null
    docker push -q "$REGISTRY/$name" >/dev/null
  fi
  refs[$release]="$REGISTRY/$name@$(registry_digest "$name")"
  log "$release: ${refs[$release]}"
done

# Merge into bases.json so a subset run keeps the other releases' entries.
json="$WORLD/bases.json"
[[ -s $json ]] || echo '{}' >"$json"
for release in "${!refs[@]}"; do
  jq --arg k "$release" --arg v "${refs[$release]}" '.[$k] = $v' "$json" >"$json.tmp" && mv "$json.tmp" "$json"
done
jq -S . "$json" >"$json.tmp" && mv "$json.tmp" "$json"
