#!/usr/bin/env bash
# Build Debian "-slim" base images from packages (debootstrap), one per
# architecture, and push each release to the local registry as one OCI image
# index, $REGISTRY/library/debian:<release>-slim (each platform also under
# <release>-slim-<arch>). Writes $WORLD/bases.json mapping each release to the
# digest-pinned index. Needs docker.sh, and emulation.sh for foreign architectures.
# Usage: [BASE_ARCHES="amd64 arm64"] bases.sh [release...]   (default: bookworm trixie; arm64 for
# bookworm only unless BASE_ARCHES says otherwise)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

releases=("$@")
((${#releases[@]})) || releases=(bookworm trixie)
# arm64 (under emulation, about 5 minutes a release) only where the tests build it: bookworm.
arches_of() { if [[ -n ${BASE_ARCHES:-} ]]; then echo "$BASE_ARCHES"; elif [[ $1 == bookworm ]]; then echo "amd64 arm64"; else echo amd64; fi; }
declare -A uname_of=([amd64]=x86_64 [arm64]=aarch64)
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

# Same trimming as the official -slim images (debuerreotype's slimify list).
slim_excludes=(/usr/share/doc/'*' /usr/share/groff/'*' /usr/share/info/'*' /usr/share/linda/'*'
  /usr/share/lintian/overrides/'*' /usr/share/locale/'*' /usr/share/man/'*')
slim_includes=(/usr/share/doc/'*'/copyright)

# make_rootfs <release> <arch> <dir>: a slim root filesystem in <dir>/rootfs.
# A foreign architecture's package scripts run under qemu through binfmt_misc.
make_rootfs() {
  local release=$1 arch=$2 dir=$3 rootfs=$3/rootfs
  [[ -n ${uname_of[$arch]:-} ]] || die "unknown architecture $arch; known: ${!uname_of[*]}"
  rm -rf "$dir" && mkdir -p "$dir"
  log "$release/$arch: debootstrap --variant=minbase"
  debootstrap --variant=minbase --arch="$arch" --keyring="$keyring" "$release" "$rootfs" "$mirror" \
    >"$dir/debootstrap.log" 2>&1 || { tail -20 "$dir/debootstrap.log"; die "$release/$arch: debootstrap failed (foreign: run emulation.sh first)"; }
  # A rootfs of the wrong architecture would pass every later step.
  [[ $(chroot "$rootfs" uname -m) == "${uname_of[$arch]}" ]] || die "$release/$arch: rootfs does not run as ${uname_of[$arch]}"

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
  log "$release/$arch: applying updates"
  chroot "$rootfs" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -y -qq dist-upgrade' \
    >>"$dir/debootstrap.log" 2>&1 || { tail -20 "$dir/debootstrap.log"; die "$release/$arch: update failed"; }

  # Never delete through a mount left behind in the rootfs.
  ! grep -q " $rootfs/" /proc/mounts || die "$release/$arch: mounts left under $rootfs"
  # Trim what the exclude list would have kept out, plus lists and caches.
  (cd "$rootfs/usr/share" && find doc ! -type d ! -name copyright -delete && find doc -depth -type d -empty -delete
   rm -rf groff/* info/* linda/* lintian/overrides/* locale/* man/*)
  rm -rf "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/var/cache/apt/* "${rootfs:?}"/var/cache/debconf/*-old \
    "${rootfs:?}"/var/log/* "${rootfs:?}"/tmp/* "${rootfs:?}"/etc/resolv.conf "${rootfs:?}"/dev/*
  touch "$dir/.done"
}

# platforms_of <repo:tag>: the sorted platforms of an index ("" for a single image or none).
platforms_of() {
  crane manifest "$REGISTRY/$1" 2>/dev/null |
    jq -r 'select(.manifests) | [.manifests[].platform | "\(.os)/\(.architecture)"] | sort | join(" ")'
}

# publish_arch <release> <arch>: the release's image for one architecture under
# library/debian:<release>-slim-<arch>; sets arch_ref to its digest-pinned reference.
publish_arch() {
  local release=$1 arch=$2 dir="$WORLD/bases/$1-$2" tag="library/debian:$1-slim-$2" old="library/debian:$1-slim"
  if registry_has "$tag"; then
    log "$release/$arch: $REGISTRY/$tag already in the registry"
  # Earlier worlds kept one single-platform image under the release tag: keep
  # its digest, so what was built on it stays cached.
  elif registry_has "$old" && [[ -z $(platforms_of "$old") ]] &&
    [[ $(crane config "$REGISTRY/$old" | jq -r .architecture) == "$arch" ]]; then
    log "$release/$arch: reusing the single-platform $REGISTRY/$old"
    crane tag "$REGISTRY/$old" "$release-slim-$arch" >/dev/null 2>&1 || die "$release/$arch: crane tag failed"
  else
    [[ -f $dir/.done ]] || make_rootfs "$release" "$arch" "$dir"
    log "$release/$arch: pushing $REGISTRY/$tag"
    # crane, not docker import: Debian's dockerd ignores import --platform.
    tar --numeric-owner -C "$dir/rootfs" -cf "$dir/rootfs.tar" .
    { crane append --oci-empty-base -f "$dir/rootfs.tar" -t "$REGISTRY/$tag" &&
      crane mutate --set-platform "linux/$arch" --cmd bash \
        --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        -t "$REGISTRY/$tag" "$REGISTRY/$tag"; } >"$dir/push.log" 2>&1 ||
      { tail -20 "$dir/push.log"; die "$release/$arch: push failed"; }
    rm -f "$dir/rootfs.tar"
  fi
  arch_ref="$REGISTRY/$tag@$(crane digest "$REGISTRY/$tag")"
}

go_tool crane github.com/google/go-containerregistry/cmd/crane "$CRANE_VERSION"
# has_all "<platforms>" "<wanted>": every wanted platform is among them (more is fine).
has_all() { local p; for p in $2; do [[ " $1 " == *" $p "* ]] || return 1; done; }
declare -A refs=()
for release in "${releases[@]}"; do
  name="library/debian:$release-slim"
  read -ra arches <<<"$(arches_of "$release")"
  want=$(printf 'linux/%s\n' "${arches[@]}" | sort | paste -sd' ')
  if has_all "$(platforms_of "$name")" "$want"; then
    log "$release: $REGISTRY/$name already an index of $want"
  else
    manifests=()
    for arch in "${arches[@]}"; do
      publish_arch "$release" "$arch"
      manifests+=(-m "$arch_ref")
    done
    log "$release: pushing the index $REGISTRY/$name ($want)"
    crane index append "${manifests[@]}" -t "$REGISTRY/$name" >/dev/null 2>&1 || die "$release: crane index append failed"
  fi
  refs[$release]="$REGISTRY/$name@$(crane digest "$REGISTRY/$name")"
  log "$release: ${refs[$release]}"
done

# Merge into bases.json so a subset run keeps the other releases' entries.
json="$WORLD/bases.json"
[[ -s $json ]] || echo '{}' >"$json"
for release in "${!refs[@]}"; do
  jq --arg k "$release" --arg v "${refs[$release]}" '.[$k] = $v' "$json" >"$json.tmp" && mv "$json.tmp" "$json"
done
jq -S . "$json" >"$json.tmp" && mv "$json.tmp" "$json"
