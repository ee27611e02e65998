#!/usr/bin/env bash
# A single-node Kubernetes control plane and the CloudNativePG operator, built
# from the Go module proxy (no release downloads, no control-plane images) and
# run as host processes. Kubernetes 1.34: from 1.35 the kubelet refuses cgroup
# v1 by default, which this machine has. CloudNativePG 1.28 supports 1.32-1.34.
#
# Usage:
#   kube.sh build                 build the binaries into $WORLD/kube/bin (skips what is built)
#   kube.sh start-control-plane   etcd, kube-apiserver, controller-manager, scheduler on loopback
#   kube.sh stop                  stop them (state under $WORLD/kube/run is kept)
#
# Builds run at the lowest priority with one job and one thread: the machine
# has two cores and other builds share it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KUBE_VERSION=v1.34.4
ETCD_VERSION=v3.6.4
CNPG_VERSION=v1.28.2

kube="$WORLD/kube"
bin="$kube/bin"
# Wrapper modules: generated here, never part of the repository.
mods="$kube/mod"
run="$kube/run"
k8s_bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

# Loopback-only control plane. The service range is private and virtual (only
# kube-proxy rules would ever use it); it avoids the ranges the Dagger engines take.
API_PORT="${PG_IMAGES_KUBE_API_PORT:-6443}"
ETCD_PORT="${PG_IMAGES_KUBE_ETCD_PORT:-2379}"
ETCD_PEER_PORT=$((ETCD_PORT + 1))
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1

export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
# One compile at a time, each on one thread (with -p 1 the go command would
# otherwise give the compiler every CPU).
gobuild() { GOMAXPROCS=1 nice -n 19 go "$1" -p 1 -trimpath "${@:2}"; }

# mod_info <module@version> <field>: a field of `go mod download -json`.
mod_info() { go mod download -json "$1" | jq -r ".$2"; }

# stamp_key <version> <function...>: the build's inputs, its code included, so
# an edit to a build function rebuilds it.
stamp_key() { { echo "$1"; declare -f "${@:2}" gobuild; } | sha256sum | cut -c1-16; }

# built <name> <key> <binary...>: the stamp matches and the binaries are there.
built() {
  local stamp="$kube/.$1" b
  [[ -f $stamp && $(cat "$stamp") == "$2" ]] || return 1
  for b in "${@:3}"; do [[ -x $bin/$b ]] || return 1; done
}

# build_step <name> <version> <function> <binary...>: run the function unless
# its stamp is current; log how long it took.
build_step() {
  local name=$1 version=$2 fn=$3 key start; shift 3
  key=$(stamp_key "$version" "$fn")
  if built "$name-$version" "$key" "$@"; then
    log "$name $version already built"
    return
  fi
  log "building $name $version (log: $kube/build-$name.log)"
  start=$SECONDS
  # In the background so that errexit holds inside the function (it is off
  # in a function called on the left of ||).
  "$fn" >"$kube/build-$name.log" 2>&1 &
  wait $! || { tail -30 "$kube/build-$name.log"; die "$name build failed"; }
  echo "$key" >"$kube/.$name-$version"
  log "$name $version built in $((SECONDS - start))s"
}

# k8s.io/kubernetes pins its staging modules (k8s.io/api, …) at v0.0.0 and
# replaces them with directories, so `go install …@version` refuses it. The
# wrapper requires it and points each staging module at its published
# v0.<minor>.<patch> release instead.
build_kubernetes() {
  local dir=$mods/kubernetes-$KUBE_VERSION src info date minor b m
  src=$(mod_info "k8s.io/kubernetes@$KUBE_VERSION" Dir)
  info=$(mod_info "k8s.io/kubernetes@$KUBE_VERSION" Info)
  date=$(jq -r .Time "$info")
  minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  rm -rf "$dir" && mkdir -p "$dir"
  {
    echo "module pg-images.local/kube"
    # Same language version and GODEBUG defaults as the upstream build.
    grep -E '^(go|godebug) ' "$src/go.mod"
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo "replace ("
    sed -nE 's#^\s+(k8s\.io/\S+) v0\.0\.0$#\t\1 => \1 v0.'"${KUBE_VERSION#v1.}"'#p' "$src/go.mod"
    echo ")"
  } >"$dir/go.mod"
  # The version hack/lib/version.sh would stamp from git; else v0.0.0-master.
  local ld="-s -w" k v
  for k in gitVersion=$KUBE_VERSION gitMajor=1 gitMinor=$minor gitTreeState=clean buildDate=$date; do
    for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do ld+=" -X $v.$k"; done
  done
  cd "$dir"
  for b in "${k8s_bins[@]}"; do
    m=$SECONDS
    # Upstream's tags for release builds (hack/lib/golang.sh).
    gobuild build -tags selinux,notest,grpcnotrace -ldflags "$ld" -o "$bin/$b" "k8s.io/kubernetes/cmd/$b"
    echo "$b: $((SECONDS - m))s"
  done
}

# go.etcd.io/etcd/server/v3 is etcd's main package; its go.mod replaces its
# sibling modules with directories, but requires them at the same published
# version, so a wrapper needs no replaces and builds etcd's own dependency set.
build_etcd() {
  local dir=$mods/etcd-$ETCD_VERSION src
  src=$(mod_info "go.etcd.io/etcd/server/v3@$ETCD_VERSION" Dir)
  rm -rf "$dir" && mkdir -p "$dir"
  { echo "module pg-images.local/etcd"; grep -E '^(go|godebug) ' "$src/go.mod"
    echo "require go.etcd.io/etcd/server/v3 $ETCD_VERSION"; } >"$dir/go.mod"
  cd "$dir"
  gobuild build -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
}

# No replace directives, yet `go install …@version` fails here: it asks the
# proxy for the module's version list (for deprecations), which it refuses.
# A wrapper requiring the exact version needs no list. The flags are the
# release's (.goreleaser.yml); the version drops the v like its Makefile.
build_cnpg() {
  local dir=$mods/cnpg-$CNPG_VERSION src date pkg=github.com/cloudnative-pg/cloudnative-pg
  src=$(mod_info "$pkg@$CNPG_VERSION" Dir)
  date=$(jq -r '.Time[:10]' "$(mod_info "$pkg@$CNPG_VERSION" Info)")
  rm -rf "$dir" && mkdir -p "$dir"
  { echo "module pg-images.local/cnpg"; grep -E '^(go|godebug) ' "$src/go.mod"
    echo "require $pkg $CNPG_VERSION"; } >"$dir/go.mod"
  cd "$dir"
  gobuild build -ldflags "-s -w -X $pkg/pkg/versions.buildVersion=${CNPG_VERSION#v} -X $pkg/pkg/versions.buildDate=$date" \
    -o "$bin/cnpg-manager" "$pkg/cmd/manager"
}

build() {
  command -v go >/dev/null || die "go not found (the machines provide Go >= 1.26)"
  mkdir -p "$bin" "$mods"
  build_step kubernetes "$KUBE_VERSION" build_kubernetes "${k8s_bins[@]}"
  build_step etcd "$ETCD_VERSION" build_etcd etcd
  build_step cnpg "$CNPG_VERSION" build_cnpg cnpg-manager
}

# --- Control plane -----------------------------------------------------------

pki="$run/pki"
logs="$run/logs"

# openssl (Debian's) rather than cfssl: no extra build, and a handful of
# certificates for one machine need nothing cfssl adds.
# ca <name> <common name>: a self-signed CA.
ca() {
  [[ -f $pki/$1.crt ]] && return
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$1.key"
  printf '%s\n' '[req]' 'distinguished_name = dn' '[dn]' '[ca]' 'basicConstraints = critical, CA:TRUE' \
    'keyUsage = critical, keyCertSign, cRLSign, digitalSignature' 'subjectKeyIdentifier = hash' >"$pki/$1.cnf"
  openssl req -x509 -new -config "$pki/$1.cnf" -extensions ca -key "$pki/$1.key" \
    -subj "/CN=$2" -days 3650 -sha256 -out "$pki/$1.crt"
  rm "$pki/$1.cnf"
}

# cert <name> <subject> [subjectAltName] [ca]: an ECDSA key and a certificate
# signed by the CA (default: the cluster CA); one with names also serves TLS.
cert() {
  local name=$1 subj=$2 san=${3:-} ca=${4:-ca}
  [[ -f $pki/$name.crt ]] && return
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/$name.key"
  {
    echo "[leaf]"
    echo "basicConstraints = critical, CA:FALSE"
    echo "keyUsage = critical, digitalSignature, keyEncipherment"
    echo "extendedKeyUsage = ${san:+serverAuth, }clientAuth"
    echo "authorityKeyIdentifier = keyid"
    [[ -z $san ]] || echo "subjectAltName = $san"
  } >"$pki/$name.cnf"
  openssl req -new -key "$pki/$name.key" -subj "$subj" |
    openssl x509 -req -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
      -days 365 -sha256 -extfile "$pki/$name.cnf" -extensions leaf -out "$pki/$name.crt" 2>/dev/null
  rm "$pki/$name.cnf"
}

# Made once and kept: service-account tokens and etcd's data outlive a restart.
make_pki() {
  mkdir -p "$pki" && chmod 700 "$pki"
  [[ -f $pki/ca.crt ]] || log "making the cluster CA and certificates in $pki"
  ca ca pg-images-kube-ca
  # The aggregation layer's proxy identity: a CA of its own, as any client
  # certificate it signs may claim any user in request headers.
  ca front-proxy-ca pg-images-kube-front-proxy-ca
  cert front-proxy-client /CN=front-proxy-client "" front-proxy-ca
  cert etcd-server /CN=etcd "IP:127.0.0.1, DNS:localhost"
  cert apiserver /CN=kube-apiserver "IP:127.0.0.1, IP:$SERVICE_IP, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local"
  cert apiserver-etcd-client /CN=kube-apiserver-etcd-client
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  cert admin "/O=system:masters/CN=kubernetes-admin"
  cert controller-manager /CN=system:kube-controller-manager
  cert scheduler /CN=system:kube-scheduler
  if [[ ! -f $pki/sa.key ]]; then
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$pki/sa.key"
    openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub"
  fi
}

# kubeconfig <name>: $run/<name>.kubeconfig with the <name> certificate; made
# each start, as the port may differ.
kubeconfig() {
  local f=$run/$1.kubeconfig
  rm -f "$f"
  "$bin/kubectl" config --kubeconfig="$f" set-cluster local --server="https://127.0.0.1:$API_PORT" \
    --certificate-authority="$pki/ca.crt" --embed-certs >/dev/null
  "$bin/kubectl" config --kubeconfig="$f" set-credentials "$1" --client-certificate="$pki/$1.crt" \
    --client-key="$pki/$1.key" --embed-certs >/dev/null
  "$bin/kubectl" config --kubeconfig="$f" set-context local --cluster=local --user="$1" >/dev/null
  "$bin/kubectl" config --kubeconfig="$f" use-context local >/dev/null
}

# running <name>: the process in <name>.pid is still this world's <name>
# (not a recycled process id).
running() {
  local pid
  pid=$(cat "$run/$1.pid" 2>/dev/null) || return 1
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$bin/$1" ]]
}

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

# daemon <name> <args...>: run $bin/<name> in its own session (so it outlives
# this script and a terminal's signals), logging to $logs/<name>.log.
daemon() {
  local name=$1 port=$2; shift 2
  if running "$name"; then
    log "$name already running (pid $(cat "$run/$name.pid"))"
    return
  fi
  port_free "$port" || die "port $port is taken; $name cannot listen there"
  log "starting $name"
  setsid "$bin/$name" "$@" >"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
}

# healthy <name> <url> [curl args...]: wait until the URL answers ok.
healthy() {
  local name=$1 url=$2; shift 2
  wait_for 60 "$name at $url (see $logs/$name.log)" curl -fsS --cacert "$pki/ca.crt" "$@" "$url"
}

start_control_plane() {
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [[ -x $bin/$b ]] || die "$bin/$b missing: run kube.sh build first"
  done
  mkdir -p "$run" "$logs"
  make_pki
  kubeconfig admin
  kubeconfig controller-manager
  kubeconfig scheduler

  # Client and peer URLs on loopback only; clients must show a certificate
  # from the cluster CA.
  daemon etcd "$ETCD_PORT" --name=pg-images --data-dir="$run/etcd" \
    --listen-client-urls="https://127.0.0.1:$ETCD_PORT" --advertise-client-urls="https://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster="pg-images=http://127.0.0.1:$ETCD_PEER_PORT" \
    --cert-file="$pki/etcd-server.crt" --key-file="$pki/etcd-server.key" \
    --trusted-ca-file="$pki/ca.crt" --client-cert-auth
  healthy etcd "https://127.0.0.1:$ETCD_PORT/health" --cert "$pki/apiserver-etcd-client.crt" --key "$pki/apiserver-etcd-client.key"

  # Advertised on loopback, which Endpoints may not hold: no reconciler, so the
  # `kubernetes` Service has no endpoints until the server gets a routable address.
  daemon kube-apiserver "$API_PORT" --bind-address=127.0.0.1 --advertise-address=127.0.0.1 \
    --secure-port="$API_PORT" --endpoint-reconciler-type=none \
    --etcd-servers="https://127.0.0.1:$ETCD_PORT" --etcd-cafile="$pki/ca.crt" \
    --etcd-certfile="$pki/apiserver-etcd-client.crt" --etcd-keyfile="$pki/apiserver-etcd-client.key" \
    --client-ca-file="$pki/ca.crt" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
    --kubelet-client-certificate="$pki/apiserver-kubelet-client.crt" --kubelet-client-key="$pki/apiserver-kubelet-client.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
    --requestheader-client-ca-file="$pki/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki/front-proxy-client.crt" --proxy-client-key-file="$pki/front-proxy-client.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true
  healthy kube-apiserver "https://127.0.0.1:$API_PORT/readyz" --cert "$pki/admin.crt" --key "$pki/admin.key"

  # Health and secure serving on loopback; leader election is moot with one of each.
  daemon kube-controller-manager 10257 --bind-address=127.0.0.1 --secure-port=10257 \
    --kubeconfig="$run/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$run/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$run/controller-manager.kubeconfig" \
    --leader-elect=false --use-service-account-credentials \
    --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
    --cluster-signing-cert-file="$pki/ca.crt" --cluster-signing-key-file="$pki/ca.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" --cert-dir="$run/controller-manager"
  daemon kube-scheduler 10259 --bind-address=127.0.0.1 --secure-port=10259 \
    --kubeconfig="$run/scheduler.kubeconfig" \
    --authentication-kubeconfig="$run/scheduler.kubeconfig" \
    --authorization-kubeconfig="$run/scheduler.kubeconfig" \
    --leader-elect=false --cert-dir="$run/scheduler"
  # Their self-signed serving certificates are not the cluster CA's.
  healthy kube-controller-manager https://127.0.0.1:10257/healthz -k
  healthy kube-scheduler https://127.0.0.1:10259/healthz -k
  log "control plane ready: export KUBECONFIG=$run/admin.kubeconfig"
}

# stop_daemon <name>: SIGTERM, then SIGKILL after 30 s.
stop_daemon() {
  local name=$1 pid i
  if running "$name"; then
    pid=$(cat "$run/$name.pid")
    log "stopping $name (pid $pid)"
    kill -TERM "$pid"
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not exit in 30s; killing it"
      kill -KILL "$pid"
    fi
  fi
  rm -f "$run/$name.pid"
}

stop() {
  local name left=()
  for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_daemon "$name"; done
  # Anything still running from $bin was not started by this script's pid files.
  for name in /proc/[0-9]*; do
    [[ $(readlink "$name/exe" 2>/dev/null) == "$bin/"* ]] && left+=("${name#/proc/}")
  done
  ((${#left[@]} == 0)) || die "still running from $bin: pids ${left[*]}"
  log "control plane stopped"
}

case ${1:-} in
  build) build ;;
  start-control-plane) start_control_plane ;;
  stop) stop ;;
  *) die "usage: kube.sh build | start-control-plane | stop" ;;
esac
