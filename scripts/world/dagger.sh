#!/usr/bin/env bash
# Build Dagger (CLI, engine, dagger-init, dnsname) from the Go module proxy,
# wrap the engine in an image made from Debian packages, and run it in the
# local Docker engine as $ENGINE_NAME with its socket under $WORLD/dagger/run.
# Needs docker.sh first (Docker engine, debootstrap). Every step is skipped
# when its output is already there for this version.
#
# Extra throwaway engines (a fresh cache, e.g. to compare digests across engines), beside the
# shared one and from the same image:
#   dagger.sh extra-start <name> <cidr> <dns-port>   prints the engine's runner host
#   dagger.sh extra-stop <name>                      stops it and deletes its state
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Must equal the @dagger.io/dagger version in package.json: SDK, CLI and
# engine are released together and checked against each other.
DAGGER_VERSION=v0.21.8
ENGINE_NAME=pg-images-dagger-engine
ENGINE_IMAGE=pg-images/dagger-engine:$DAGGER_VERSION
ENGINE_RELEASE=bookworm
# The engine runs in the host's network namespace, so its container bridge
# lives on this machine. Exec containers reach out through NAT (the host's
# address), so this range never leaves the machine; it only has to avoid
# the ranges the machine itself talks to (see `ip route`, /etc/resolv.conf).
ENGINE_CIDR="${PG_IMAGES_DAGGER_CIDR:-10.87.0.0/16}"

stubs="$WORLD_SCRIPTS/dagger-stubs"
src="$WORLD/src/dagger-$DAGGER_VERSION"
dagger_dir="$WORLD/dagger"
bins=(dagger dagger-engine dagger-init dnsname)
export GOFLAGS=-mod=mod CGO_ENABLED=0

# mod_dir <module@version>: download a module and print its directory.
mod_dir() {
  go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}

# Keys over each stage's inputs (its code included), so a change reruns it.
binaries_key() {
  { echo "$DAGGER_VERSION"; declare -f prepare_source build_binaries
    find "$stubs" -type f -print0 | sort -z | xargs -0 sha256sum | sed "s# $stubs##"; } | sha256sum | cut -c1-16
}
image_key() {
  { binaries_key; rootfs_key; echo "$REGISTRY"; declare -f build_image; } | sha256sum | cut -c1-16
}

# Copy the module to a writable tree and make it buildable from the proxy.
# `go install …@version` refuses it (go.mod has directory replaces), and the
# proxy here serves neither engine/distconsts nor a few UI/SDK dependencies
# at the versions v0.21.8 pins; see the comments below and dagger-stubs/.
prepare_source() {
  local dir info commit distconsts midterm
  log "preparing dagger $DAGGER_VERSION source in $src"
  dir=$(mod_dir "github.com/dagger/dagger@$DAGGER_VERSION")
  rm -rf "$src" "$src.tmp"
  mkdir -p "$(dirname "$src")"
  cp -r "$dir" "$src.tmp" && chmod -R u+w "$src.tmp"

  # sdk/go is published as its own module, dagger.io/dagger, at the same version.
  rm -rf "$src.tmp/sdk/go"
  cp -r "$(mod_dir "dagger.io/dagger@$DAGGER_VERSION")" "$src.tmp/sdk/go"

  # engine/distconsts is a nested module published only as a pseudo-version
  # at the release commit. Where the proxy refuses it, write the package from
  # its API: the paths and names below are also what the engine image below
  # lays out (runc, dagger-init, state dir, socket).
  info="$(go env GOMODCACHE)/cache/download/github.com/dagger/dagger/@v/$DAGGER_VERSION.info"
  commit=$(sed -n 's/.*"Hash":"\([0-9a-f]*\)".*/\1/p' "$info")
  mkdir -p "$src.tmp/engine/distconsts"
  if distconsts=$(mod_dir "github.com/dagger/dagger/engine/distconsts@$commit" 2>/dev/null) && [[ -n $distconsts ]]; then
    cp -r "$distconsts/." "$src.tmp/engine/distconsts/"
  else
    log "engine/distconsts@$commit not on the proxy; writing it from its API"
    printf 'module github.com/dagger/dagger/engine/distconsts\n\ngo 1.24\n' >"$src.tmp/engine/distconsts/go.mod"
    cat >"$src.tmp/engine/distconsts/consts.go" <<'GO'
// Package distconsts holds the values the engine, its image and the SDKs share.
package distconsts

const (
	EngineContainerName   = "dagger-engine.dev"
	DefaultEngineSockAddr = "unix:///run/dagger/engine.sock"
)

const (
	RuncPath       = "/usr/local/bin/runc"
	DaggerInitPath = "/usr/local/bin/dagger-init"

	EngineDefaultStateDir = "/var/lib/dagger"

	EngineContainerBuiltinContentDir   = "/usr/local/share/dagger/content"
	GoSDKManifestDigestEnvName         = "DAGGER_GO_SDK_MANIFEST_DIGEST"
	PythonSDKManifestDigestEnvName     = "DAGGER_PYTHON_SDK_MANIFEST_DIGEST"
	TypescriptSDKManifestDigestEnvName = "DAGGER_TYPESCRIPT_SDK_MANIFEST_DIGEST"
)

const (
	AlpineVersion  = "3.22.1"
	AlpineImage    = "alpine:" + AlpineVersion
	GolangVersion  = "1.25.3"
	GolangImage    = "golang:" + GolangVersion + "-alpine"
	BusyboxVersion = "1.37.0"
	BusyboxImage   = "busybox:" + BusyboxVersion
)

const OCIVersionAnnotation = "org.opencontainers.image.version"

const EngineCustomCACertsDir = "/usr/local/share/ca-certificates"
GO
  fi

  # The Dang SDK v2 runtime needs github.com/vito/dang/v2, which the proxy
  # does not serve; route every Dang module to the v1 runtime instead. Only
  # modules written in Dang are affected, and this project has none.
  sed -i -e '/dangv2 "github.com\/dagger\/dagger\/core\/sdk\/dang\/v2"/d' \
    -e 's/return dangv2\.Impl{}/return dangv1.Impl{}/' "$src.tmp/core/sdk/dang_sdk.go"
  grep -q dangv2 "$src.tmp/core/sdk/dang_sdk.go" && die "dang_sdk.go did not take the v1-only edit"
  rm -rf "$src.tmp/core/sdk/dang/v2"

  # midterm: the newest release the proxy serves, plus the search methods
  # v0.21.8's interactive log pager calls (no-ops).
  midterm="$WORLD/src/midterm-v0.2.4"
  rm -rf "$midterm"
  cp -r "$(mod_dir github.com/vito/midterm@v0.2.4)" "$midterm" && chmod -R u+w "$midterm"
  cp "$stubs/midterm/search.go" "$midterm/zz_search.go"

  cat >>"$src.tmp/go.mod" <<MOD

replace (
	github.com/vito/dang/v2 => $stubs/dang-v2
	github.com/vito/midterm => $midterm
	github.com/vito/tuist => $stubs/tuist
	github.com/vito/tuist/teav1 => $stubs/tuist/teav1
)
MOD
  mv "$src.tmp" "$src"
}

build_binaries() {
  local ld="-s -w -X github.com/dagger/dagger/engine.Version=$DAGGER_VERSION -X github.com/dagger/dagger/engine.Tag=$DAGGER_VERSION"
  cd "$src"
  # Static binaries: dagger-init is bind-mounted into every exec container.
  go build -trimpath -tags dfexcludepatterns,dfparents -ldflags "$ld" -o "$WORLD/bin/dagger-engine" ./cmd/engine
  go build -trimpath -ldflags "$ld" -o "$WORLD/bin/dagger" ./cmd/dagger
  go build -trimpath -ldflags "$ld" -o "$WORLD/bin/dagger-init" ./cmd/init
  go build -trimpath -ldflags "$ld" -o "$WORLD/bin/dnsname" ./cmd/dnsname
}

# The engine image's root filesystem: Debian packages for what the official
# (Alpine) image installs, laid out where the engine looks for them.
make_rootfs() {
  local dir=$dagger_dir/image rootfs=$dagger_dir/image/rootfs
  local pkgs=runc,tini,containernetworking-plugins,dnsmasq-base,iptables,git,openssh-client,pigz,xz-utils,e2fsprogs,ripgrep,sqlite3,ca-certificates
  log "engine image: debootstrap $ENGINE_RELEASE with $pkgs"
  rm -rf "$dir" && mkdir -p "$dir"
  debootstrap --variant=minbase --include="$pkgs" "$ENGINE_RELEASE" "$rootfs" \
    "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >"$dir/debootstrap.log" 2>&1 ||
    { tail -20 "$dir/debootstrap.log"; die "engine image: debootstrap failed"; }
  ! grep -q " $rootfs/" /proc/mounts || die "engine image: mounts left under $rootfs"
  rm -rf "${rootfs:?}"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/{doc,man,info,locale}/* \
    "${rootfs:?}"/var/log/* "${rootfs:?}"/dev/*
  rootfs_key >"$dir/.done"
}
rootfs_key() { { echo "$ENGINE_RELEASE"; declare -f make_rootfs; } | sha256sum | cut -c1-16; }
rootfs_current() { [[ -f $dagger_dir/image/.done && $(cat "$dagger_dir/image/.done") == "$(rootfs_key)" ]]; }

build_image() {
  local rootfs=$dagger_dir/image/rootfs key=$1
  rootfs_current || make_rootfs
  log "engine image: adding binaries and config"
  install -m 755 "$WORLD/bin/dagger-engine" "$WORLD/bin/dagger-init" "$WORLD/bin/dagger" "$rootfs/usr/local/bin/"
  mkdir -p "$rootfs/opt/cni/bin" "$rootfs/etc/dagger" "$rootfs/var/lib/dagger" "$rootfs/run/dagger"
  install -m 755 "$WORLD/bin/dnsname" "$rootfs/opt/cni/bin/"
  # CNI plugins: Debian keeps them in /usr/lib/cni, the engine in /opt/cni/bin.
  for p in bridge loopback firewall host-local; do ln -sf "/usr/lib/cni/$p" "$rootfs/opt/cni/bin/$p"; done
  ln -sf /usr/sbin/runc "$rootfs/usr/local/bin/runc"
  # At start the engine points /usr/bin/iptables* at /usr/bin/xtables-*-multi;
  # Debian keeps those in /usr/sbin.
  for m in legacy nft; do ln -sf "/usr/sbin/xtables-$m-multi" "$rootfs/usr/bin/xtables-$m-multi"; done
  # The local registry speaks plain HTTP. The cache is kept between runs: by default the engine
  # keeps 20% of the disk free, and on a disk fuller than that it prunes to 10 GB after every
  # session, so each run would rebuild every image from nothing. 40 GB holds a whole run's
  # images; 8 GB free leaves room for the registry, Docker and a throwaway engine beside it.
  printf '{"registries":{"%s":{"http":true}},"gc":{"reservedSpace":"20GB","maxUsedSpace":"40GB","minFreeSpace":"8GB"}}\n' \
    "$REGISTRY" >"$rootfs/etc/dagger/engine.json"
  tar --numeric-owner -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "LABEL org.pg-images.dagger-build=$key" \
    --change 'ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/dagger-engine"]' \
    - "$ENGINE_IMAGE" >/dev/null
}

# Run from $dagger_dir: in a directory with dagger.json the CLI would load
# that module first.
engine_ready() {
  [[ -S $dagger_dir/run/engine.sock ]] && (cd "$dagger_dir" &&
    _EXPERIMENTAL_DAGGER_RUNNER_HOST="unix://$dagger_dir/run/engine.sock" DO_NOT_TRACK=1 \
      timeout 30 "$WORLD/bin/dagger" --progress=plain query <<<'{ version }')
}

# The engine container. State is a bind mount: the engine's snapshotter must
# not sit on Docker's overlay.
start_engine() {
  # A clean stop removes the engine's NAT rules from the host; a kill does not.
  docker stop -t 30 "$ENGINE_NAME" >/dev/null 2>&1 || true
  docker rm -f "$ENGINE_NAME" >/dev/null 2>&1 || true
  drop_stale_nat
  mkdir -p "$dagger_dir/state" "$dagger_dir/run"
  rm -f "$dagger_dir/run/engine.sock"
  log "starting engine $ENGINE_NAME"
  # Privileged in all but name: this machine's bounding set lacks
  # CAP_SYS_RESOURCE, and Docker 20.10's --privileged asks for every
  # capability (runc: "unable to apply caps: operation not permitted") and
  # ignores --cap-drop. So: every capability but that one, no seccomp or
  # AppArmor, all devices, and writable /proc/sys, /sys and cgroups for the
  # engine's runc and CNI bridge. A pool of 16 pre-made network namespaces
  # instead of 128: each is a veth and a NAT rule on this host.
  docker run -d --name "$ENGINE_NAME" --label "org.pg-images.dagger-run=$1" \
    --network host --cgroupns host \
    --cap-add ALL --cap-drop SYS_RESOURCE --device-cgroup-rule 'a *:* rwm' \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --security-opt systempaths=unconfined -v /sys:/sys -v /sys/fs/cgroup:/sys/fs/cgroup \
    -v "$dagger_dir/state:/var/lib/dagger" -v "$dagger_dir/run:/run/dagger" \
    "$ENGINE_IMAGE" --network-cidr "$ENGINE_CIDR" --oci-cni-pool-size 16 >/dev/null
}

# NAT rules left by an engine that was killed (none can be live once its
# container is gone). The engine writes them with the host's iptables.
# drop_stale_nat [network-name]: the shared engine's is "dagger".
drop_stale_nat() {
  command -v iptables >/dev/null || return 0
  local rule chain net=${1:-dagger}
  { iptables -t nat -S POSTROUTING 2>/dev/null || true; } | { grep -F "name: \\\"$net\\\"" || true; } | while read -r rule; do
    chain=${rule##* -j }
    eval "iptables -t nat ${rule/#-A/-D}" && iptables -t nat -F "$chain" && iptables -t nat -X "$chain"
  done
}

# socket_ready <socket>: an engine answers there.
socket_ready() {
  [[ -S $1 ]] && (cd "$dagger_dir" &&
    _EXPERIMENTAL_DAGGER_RUNNER_HOST="unix://$1" DO_NOT_TRACK=1 \
      timeout 30 "$WORLD/bin/dagger" --progress=plain query <<<'{ version }')
}

# An extra engine shares the host's network namespace with the shared one, so it needs its own
# interface name (--network-name), its own range, and its own DNS port: the engine's dnsmasq
# listens on the wildcard address, port 53, and a second one could not bind. A wrapper makes
# dnsmasq listen on <dns-port>; NAT rules send queries for the engine's bridge address, port 53,
# there: the containers' (PREROUTING) and the engine's own, which resolves service names through
# the same address (OUTPUT; DNAT, since dnsmasq answers on its interface's address, not on
# loopback). The rules carry the engine's name, so stop removes them.
extra_dir() { echo "$WORLD/dagger-extra/$1"; }
extra_net() { echo "x$(printf '%s' "$1" | sha256sum | cut -c1-8)"; }
extra_dns_rules() { # extra_dns_rules <name> <cidr> <port>
  local p gw=${2%.0.0/16}.0.1
  for p in udp tcp; do
    iptables -t nat -I PREROUTING -i "$(extra_net "$1")0" -p "$p" --dport 53 -j REDIRECT --to-ports "$3" \
      -m comment --comment "pg-images extra engine $1"
    iptables -t nat -I OUTPUT -d "$gw" -p "$p" --dport 53 -j DNAT --to-destination "$gw:$3" \
      -m comment --comment "pg-images extra engine $1"
  done
}
extra_stop() {
  local name=$1 dir rule
  dir=$(extra_dir "$name")
  docker stop -t 30 "$name" >/dev/null 2>&1 || true
  docker rm -f "$name" >/dev/null 2>&1 || true
  drop_stale_nat "$(extra_net "$name")"
  # The engine leaves its bridge behind; a second one with the same address would take its routes.
  ip link delete "$(extra_net "$name")0" 2>/dev/null || true
  { iptables -t nat -S 2>/dev/null || true; } | { grep -F "pg-images extra engine $name\"" || true; } |
    while read -r rule; do eval "iptables -t nat ${rule/#-A/-D}"; done
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
  rm -rf "$dir"
}
extra_start() {
  local name=$1 cidr=$2 port=$3 dir
  [[ $name =~ ^[a-z][a-z0-9-]{0,40}$ && $name != "$ENGINE_NAME" ]] || die "extra engine name: lower-case letters, digits and dashes, not $ENGINE_NAME: '$name'"
  [[ $cidr =~ ^10\.[0-9]+\.0\.0/16$ && $cidr != "$ENGINE_CIDR" ]] || die "extra engine range: a 10.N.0.0/16 other than the shared engine's $ENGINE_CIDR: '$cidr'"
  [[ $port =~ ^[0-9]+$ && $port -gt 1024 && $port -lt 65536 && $port != 53 ]] || die "extra engine DNS port: 1025-65535: '$port'"
  docker image inspect "$ENGINE_IMAGE" >/dev/null 2>&1 || die "no $ENGINE_IMAGE: run dagger.sh first"
  extra_stop "$name"
  dir=$(extra_dir "$name")
  mkdir -p "$dir/state" "$dir/run"
  printf '#!/bin/sh\nexec /usr/sbin/dnsmasq --port=%s "$@"\n' "$port" >"$dir/dnsmasq"
  chmod 755 "$dir/dnsmasq"
  extra_dns_rules "$name" "$cidr" "$port"
  log "starting extra engine $name ($cidr, DNS on port $port)"
  # As start_engine, with its own state, socket, interface, range and dnsmasq.
  docker run -d --name "$name" --label org.pg-images.dagger-extra=1 \
    --network host --cgroupns host \
    --cap-add ALL --cap-drop SYS_RESOURCE --device-cgroup-rule 'a *:* rwm' \
    --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
    --security-opt systempaths=unconfined -v /sys:/sys -v /sys/fs/cgroup:/sys/fs/cgroup \
    -v "$dir/state:/var/lib/dagger" -v "$dir/run:/run/dagger" -v "$dir/dnsmasq:/usr/local/sbin/dnsmasq:ro" \
    "$ENGINE_IMAGE" --network-name "$(extra_net "$name")" --network-cidr "$cidr" --oci-cni-pool-size 4 >/dev/null
  wait_for 120 "extra engine $name (see docker logs $name)" socket_ready "$dir/run/engine.sock"
  echo "unix://$dir/run/engine.sock"
}

/usr/bin/docker info >/dev/null 2>&1 || die "Docker engine not running: run docker.sh first"
case ${1:-} in
  extra-start) (($# == 4)) || die "usage: dagger.sh extra-start <name> <cidr> <dns-port>"; extra_start "$2" "$3" "$4"; exit 0 ;;
  extra-stop) (($# == 2)) || die "usage: dagger.sh extra-stop <name>"; extra_stop "$2"; exit 0 ;;
  "") ;;
  *) die "unknown command: $1 (none, extra-start or extra-stop)" ;;
esac
mkdir -p "$WORLD/bin" "$dagger_dir"
key=$(binaries_key)
stamp="$WORLD/bin/.dagger-build"

# 1. Binaries. The Go build is long on small machines; the engine's root
#    filesystem is fetched meanwhile.
if [[ -f $stamp && $(cat "$stamp") == "$key" ]] && (cd "$WORLD/bin" && ls "${bins[@]}" >/dev/null 2>&1); then
  log "dagger $DAGGER_VERSION binaries already built"
else
  [[ -f $src/.prepared && $(cat "$src/.prepared") == "$key" ]] || { prepare_source; echo "$key" >"$src/.prepared"; }
  log "building dagger $DAGGER_VERSION (log: $dagger_dir/build.log)"
  start=$SECONDS
  build_binaries >"$dagger_dir/build.log" 2>&1 &
  build_pid=$!
  trap 'kill $build_pid 2>/dev/null || true' EXIT
  rootfs_current || make_rootfs
  wait "$build_pid" || { tail -30 "$dagger_dir/build.log"; die "dagger build failed"; }
  trap - EXIT
  echo "$key" >"$stamp"
  log "dagger $DAGGER_VERSION built in $((SECONDS - start))s"
fi

# 2. Engine image, labelled with its key.
key=$(image_key)
if [[ $(docker image inspect -f '{{index .Config.Labels "org.pg-images.dagger-build"}}' "$ENGINE_IMAGE" 2>/dev/null) == "$key" ]]; then
  log "engine image $ENGINE_IMAGE up to date"
else
  build_image "$key"
fi

# 3. Engine container, replaced when its image or its run options changed.
run_key=$({ docker image inspect -f '{{.Id}}' "$ENGINE_IMAGE"; declare -f start_engine; } | sha256sum | cut -c1-16)
running=$(docker inspect -f '{{if .State.Running}}{{index .Config.Labels "org.pg-images.dagger-run"}}{{end}}' \
  "$ENGINE_NAME" 2>/dev/null || true)
if [[ $running == "$run_key" ]]; then
  log "engine $ENGINE_NAME already running"
else
  start_engine "$run_key"
fi
wait_for 120 "dagger engine ($ENGINE_NAME; see docker logs $ENGINE_NAME)" engine_ready
log "engine ready at unix://$dagger_dir/run/engine.sock"
