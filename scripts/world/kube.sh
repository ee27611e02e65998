#!/usr/bin/env bash
# A single-node Kubernetes control plane and the CloudNativePG operator, built
# from the Go module proxy (no release downloads, no control-plane images) and
# run as host processes. Kubernetes 1.34: from 1.35 the kubelet refuses cgroup
# v1 by default, which this machine has. CloudNativePG 1.28 supports 1.32-1.34.
#
# Usage:
#   kube.sh build                 build the binaries into $WORLD/kube/bin (skips what is built;
#                                 waits for a build already under way)
#   kube.sh up                    build, then start unless the cluster is already up
#   kube.sh start                 the whole cluster: control plane, node (containerd, kubelet,
#                                 kube-proxy), CoreDNS, local volumes and the CloudNativePG operator
#   kube.sh start-control-plane   etcd, kube-apiserver, controller-manager, scheduler only
#   kube.sh stop                  stop all of it and remove its pods, mounts, cgroups, bridge and
#                                 iptables chains (state under $WORLD/kube/run is kept)
#
# Then: export KUBECONFIG=$WORLD/kube/run/admin.kubeconfig
#
# Builds run at the lowest priority: beside other builds or the tests (up.sh
# can leave the build running while they go on) they take only what is left.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KUBE_VERSION=v1.34.4
ETCD_VERSION=v3.6.4
CNPG_VERSION=v1.28.2
COREDNS_VERSION=v1.12.1
CRICTL_VERSION=v1.34.0
# build/pause/Makefile's TAG in the Kubernetes tree.
PAUSE_VERSION=3.10.1

kube="$WORLD/kube"
bin="$kube/bin"
# Wrapper modules: generated here, never part of the repository.
mods="$kube/mod"
run="$kube/run"
k8s_bins=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
# containerd is Debian's (the node's runtime); it is not the one dockerd runs.
CONTAINERD=/usr/bin/containerd

# The control plane listens on loopback and on the node's bridge address only.
# The service range is private and virtual (only kube-proxy rules and a route
# onto the bridge use it); it avoids the ranges the Dagger engines take.
API_PORT="${PG_IMAGES_KUBE_API_PORT:-6443}"
ETCD_PORT="${PG_IMAGES_KUBE_ETCD_PORT:-2379}"
ETCD_PEER_PORT=$((ETCD_PORT + 1))
SERVICE_CIDR=10.96.0.0/16
SERVICE_IP=10.96.0.1
DNS_IP=10.96.0.10
# The node's network: a bridge of its own. Its host address is the node's and
# the apiserver's, so pods reach the apiserver through the `kubernetes`
# Service and the apiserver reaches webhooks in pods. Docker's default pools
# (172.17+, 192.168) and the Dagger engines' 10.87-10.90 are elsewhere.
BRIDGE=kube0
CLUSTER_CIDR=10.244.0.0/16
POD_CIDR=10.244.0.0/24
NODE_IP=10.244.0.1
NODE_NAME=pg-images
# Our own filter chain: pods may talk to each other and to this host only.
FW_CHAIN=PG-IMAGES-KUBE
# Static local volumes for PVCs (CloudNativePG needs one per instance).
PV_COUNT=6
PV_SIZE=5Gi
images="$REGISTRY/pg-images-kube"
PAUSE_IMAGE=$images/pause:$PAUSE_VERSION
COREDNS_IMAGE=$images/coredns:$COREDNS_VERSION
OPERATOR_IMAGE=$images/cloudnative-pg:$CNPG_VERSION
# What the chain's operator stage runs kubectl from (tools.kubectl in the test matrices).
KUBECTL_IMAGE=$images/kubectl:$KUBE_VERSION

export GOFLAGS="-mod=mod -buildvcs=false" GOTOOLCHAIN=local CGO_ENABLED=0
gobuild() { nice -n 19 go "$1" -trimpath "${@:2}"; }

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

# CoreDNS's own main imports every plugin, cloud SDKs included (about 1.3 GB
# of modules). This one registers only what cluster DNS inside the cluster
# needs; without forward, names outside the cluster zones are refused rather
# than sent to a resolver off this machine.
build_coredns() {
  local dir=$mods/coredns-$COREDNS_VERSION src pkg=github.com/coredns/coredns p
  src=$(mod_info "$pkg@$COREDNS_VERSION" Dir)
  rm -rf "$dir" && mkdir -p "$dir"
  { echo "module pg-images.local/coredns"; grep -E '^(go|godebug) ' "$src/go.mod"
    echo "require $pkg $COREDNS_VERSION"; } >"$dir/go.mod"
  {
    echo "package main"
    echo "import ("
    for p in errors health ready log cache loadbalance kubernetes; do echo "	_ \"$pkg/plugin/$p\""; done
    echo "	\"$pkg/coremain\""
    echo ")"
    echo "func main() { coremain.Run() }"
  } >"$dir/main.go"
  cd "$dir"
  gobuild build -ldflags "-s -w" -o "$bin/coredns" .
}

# cri-tools has no replace directives; the wrapper avoids the version list.
# crictl is what lets `stop` remove pods the way the kubelet would (CNI DEL
# for their network, their mounts, then the containers).
build_crictl() {
  local dir=$mods/crictl-$CRICTL_VERSION src pkg=sigs.k8s.io/cri-tools
  src=$(mod_info "$pkg@$CRICTL_VERSION" Dir)
  rm -rf "$dir" && mkdir -p "$dir"
  { echo "module pg-images.local/crictl"; grep -E '^(go|godebug) ' "$src/go.mod"
    echo "require $pkg $CRICTL_VERSION"; } >"$dir/go.mod"
  cd "$dir"
  gobuild build -ldflags "-s -w -X $pkg/pkg/version.Version=${CRICTL_VERSION#v}" -o "$bin/crictl" "$pkg/cmd/crictl"
}

# The sandbox image's one program, with upstream's flags (build/pause/Makefile).
build_pause() {
  local src
  src=$(mod_info "k8s.io/kubernetes@$KUBE_VERSION" Dir)/build/pause/linux/pause.c
  gcc -Os -Wall -Werror -static -DVERSION="v$PAUSE_VERSION-pg-images" -o "$bin/pause" "$src"
  strip "$bin/pause"
}

build() {
  command -v go >/dev/null || die "go not found (the machines provide Go >= 1.26)"
  mkdir -p "$bin" "$mods"
  # One build at a time: a second caller (the operator tests, while up.sh's background build
  # runs) waits here and then finds everything built.
  exec 9>"$kube/build.lock"
  flock -n 9 || { log "waiting for the build under way (log: $kube/build.log)"; flock 9; }
  build_step kubernetes "$KUBE_VERSION" build_kubernetes "${k8s_bins[@]}"
  build_step etcd "$ETCD_VERSION" build_etcd etcd
  build_step cnpg "$CNPG_VERSION" build_cnpg cnpg-manager
  build_step coredns "$COREDNS_VERSION" build_coredns coredns
  build_step crictl "$CRICTL_VERSION" build_crictl crictl
  need_packages gcc libc6-dev
  build_step pause "$PAUSE_VERSION" build_pause pause
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
  # Made before the node's address was in it: make it again.
  if [[ -f $pki/apiserver.crt ]] && ! openssl x509 -in "$pki/apiserver.crt" -noout -ext subjectAltName | grep -q "IP Address:$NODE_IP\b"; then
    rm "$pki/apiserver.crt" "$pki/apiserver.key"
  fi
  cert apiserver /CN=kube-apiserver "IP:$NODE_IP, IP:127.0.0.1, IP:$SERVICE_IP, DNS:localhost, DNS:kubernetes, DNS:kubernetes.default, DNS:kubernetes.default.svc, DNS:kubernetes.default.svc.cluster.local"
  cert apiserver-etcd-client /CN=kube-apiserver-etcd-client
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
  cert admin "/O=system:masters/CN=kubernetes-admin"
  cert controller-manager /CN=system:kube-controller-manager
  cert scheduler /CN=system:kube-scheduler
  cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME"
  cert kube-proxy /CN=system:kube-proxy
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
  "$bin/kubectl" config --kubeconfig="$f" set-cluster local --server="https://$NODE_IP:$API_PORT" \
    --certificate-authority="$pki/ca.crt" --embed-certs >/dev/null
  "$bin/kubectl" config --kubeconfig="$f" set-credentials "$1" --client-certificate="$pki/$1.crt" \
    --client-key="$pki/$1.key" --embed-certs >/dev/null
  "$bin/kubectl" config --kubeconfig="$f" set-context local --cluster=local --user="$1" >/dev/null
  "$bin/kubectl" config --kubeconfig="$f" use-context local >/dev/null
}

# exe <name>: the program behind a daemon's name.
exe() {
  case $1 in
    containerd) echo "$CONTAINERD" ;;
    # A loop of this script.
    pv-recycler) readlink -f "$BASH" ;;
    *) echo "$bin/$1" ;;
  esac
}

# running <name>: the process in <name>.pid is still this world's <name>
# (not a recycled process id).
running() {
  local pid
  pid=$(cat "$run/$1.pid" 2>/dev/null) || return 1
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(exe "$1")" ]] || return 1
  # Many processes are bash: the recycler is the one running its loop.
  [[ $1 != pv-recycler ]] || tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q " recycle-pvs-loop"
}

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }

# daemon <name> <port|-> <args...>: run <name> in its own session (so it
# outlives this script and a terminal's signals), logging to $logs/<name>.log.
daemon() {
  local name=$1 port=$2; shift 2
  if running "$name"; then
    log "$name already running (pid $(cat "$run/$name.pid"))"
    return
  fi
  [[ $port == - ]] || port_free "$port" || die "port $port is taken; $name cannot listen there"
  log "starting $name"
  setsid "$(exe "$name")" "$@" >"$logs/$name.log" 2>&1 </dev/null &
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
  network_up
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

  # On the bridge's host address only: routable from pods (Endpoints may not
  # hold loopback) yet on no outside interface. Webhooks are called at their
  # pods' addresses, so they work before kube-proxy has written its rules.
  # Kubelets by address: their names would be looked up in the host's DNS.
  daemon kube-apiserver "$API_PORT" --bind-address="$NODE_IP" --advertise-address="$NODE_IP" \
    --secure-port="$API_PORT" --enable-aggregator-routing=true --kubelet-preferred-address-types=InternalIP \
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
  healthy kube-apiserver "https://$NODE_IP:$API_PORT/readyz" --cert "$pki/admin.crt" --key "$pki/admin.key"

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

# --- Node ----------------------------------------------------------------------

cni="$run/cni"
ctrd="$run/containerd"
kubelet_dir="$run/kubelet"
pvs="$run/pv"

kctl() { "$bin/kubectl" --kubeconfig="$run/admin.kubeconfig" "$@"; }
crictl() { "$bin/crictl" --config "$run/crictl.yaml" "$@"; }

# The bridge exists before the apiserver, which binds its address. Service
# addresses are routed onto it too, so traffic to one that no kube-proxy rule
# matches stays here rather than leaving by the default route.
network_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "creating bridge $BRIDGE ($NODE_IP)"
    ip link add "$BRIDGE" type bridge
  fi
  ip addr replace "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  ip route replace "$SERVICE_CIDR" dev "$BRIDGE" src "$NODE_IP"
  # Pods have no masquerade; this drops what they would send beyond the bridge
  # (the host itself is INPUT, not FORWARD, so it stays reachable).
  iptables -N "$FW_CHAIN" 2>/dev/null || iptables -F "$FW_CHAIN"
  iptables -A "$FW_CHAIN" -i "$BRIDGE" ! -o "$BRIDGE" -j DROP
  iptables -C FORWARD -j "$FW_CHAIN" 2>/dev/null || iptables -I FORWARD -j "$FW_CHAIN"
}

network_down() {
  while iptables -D FORWARD -j "$FW_CHAIN" 2>/dev/null; do :; done
  if iptables -L "$FW_CHAIN" -n >/dev/null 2>&1; then iptables -F "$FW_CHAIN" && iptables -X "$FW_CHAIN"; fi
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    log "removing bridge $BRIDGE"
    ip link del "$BRIDGE"
  fi
}

# The kubelet and kube-proxy set these machine-wide; `stop` puts back the
# values from before the first start.
sysctls=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes net.ipv4.conf.all.route_localnet
  net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established
  net.netfilter.nf_conntrack_tcp_timeout_close_wait)
save_sysctls() {
  [[ -f $run/sysctls ]] && return
  sysctl -e "${sysctls[@]}" 2>/dev/null | sed 's/ = /=/' >"$run/sysctls"
}
restore_sysctls() {
  [[ -f $run/sysctls ]] || return 0
  sysctl -q -p "$run/sysctls" >/dev/null
  rm "$run/sysctls"
}

# quiet <command...>: its output only if it fails (crane logs every blob).
quiet() {
  local out
  out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; return 1; }
}

# push_image <ref> <dir> <crane mutate flags...>: a one-layer image of the
# directory, on no base, in the local registry; pushed again only when the
# directory's content changed.
push_image() {
  local ref=$1 root=$2 sum stamp; shift 2
  stamp="$kube/.image-$(basename "$root")"
  # The same content gives the same layer: no times, no owners.
  tar -C "$root" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$root.tar" .
  sum=$({ echo "$ref $*"; sha256sum <"$root.tar"; } | sha256sum | cut -c1-16)
  if [[ -f $stamp && $(cat "$stamp") == "$sum" ]] && registry_has "${ref#"$REGISTRY"/}"; then
    log "$ref already pushed"
    rm "$root.tar"
    return
  fi
  log "pushing $ref"
  quiet crane append --insecure --oci-empty-base -f "$root.tar" -t "$ref"
  quiet crane mutate --insecure --set-platform linux/amd64 "$@" -t "$ref" "$ref"
  rm "$root.tar"
  echo "$sum" >"$stamp"
}

# The sandbox, CoreDNS and operator images, assembled here: no base image,
# nothing pulled from outside. The operator streams /operator/manager_<arch>
# into instance pods; /manager is what its Deployment runs.
push_images() {
  local d=$kube/images
  rm -rf "$d" && mkdir -p "$d/pause" "$d/coredns" "$d/operator/operator"
  ln "$bin/pause" "$d/pause/pause"
  push_image "$PAUSE_IMAGE" "$d/pause" --entrypoint /pause --user 65535:65535
  ln "$bin/coredns" "$d/coredns/coredns"
  push_image "$COREDNS_IMAGE" "$d/coredns" --entrypoint /coredns
  ln "$bin/cnpg-manager" "$d/operator/operator/manager_amd64"
  ln -s operator/manager_amd64 "$d/operator/manager"
  push_image "$OPERATOR_IMAGE" "$d/operator" --entrypoint /manager --user 10001:10001
  # Like registry.k8s.io/kubectl: the binary at /bin/kubectl.
  mkdir -p "$d/kubectl/bin"
  ln "$bin/kubectl" "$d/kubectl/bin/kubectl"
  push_image "$KUBECTL_IMAGE" "$d/kubectl" --entrypoint /bin/kubectl
  rm -rf "$d"
  jq -n --arg kubectl "$KUBECTL_IMAGE@$(registry_digest "${KUBECTL_IMAGE#"$REGISTRY"/}")" '{kubectl: $kubectl}' >"$kube/tools.json"
}

# containerd with its own root, state and socket: the system's /run/containerd
# may serve another one. Plain HTTP to the local registry needs no setting.
# Pods' network namespaces and runc's state under it too, not in the shared
# /run/netns and /run/containerd/runc (only shims' sockets are always in
# /run/containerd/s).
# This machine withholds CAP_SYS_RESOURCE even from root: no process may lower
# its oom_score_adj, so containers' scores are clamped to containerd's own.
start_containerd() {
  mkdir -p "$ctrd" "$cni/net.d"
  cat >"$ctrd/config.toml" <<EOF
version = 2
root = "$ctrd/root"
state = "$ctrd/state"
[grpc]
  address = "$ctrd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$ctrd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  stream_server_address = "127.0.0.1"
  netns_mounts_under_state_dir = true
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = "$ctrd/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$cni/net.d"
EOF
  # A bridge of our own name, addresses kept in our own directory.
  cat >"$cni/net.d/10-pg-images.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "pg-images-kube",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$NODE_IP"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
EOF
  printf '%s\n' "runtime-endpoint: unix://$ctrd/containerd.sock" "image-endpoint: unix://$ctrd/containerd.sock" \
    "timeout: 30" >"$run/crictl.yaml"
  daemon containerd - --config "$ctrd/config.toml"
  wait_for 60 "containerd (see $logs/containerd.log)" ctr --address "$ctrd/containerd.sock" version
}

start_kubelet() {
  mkdir -p "$kubelet_dir"
  # Pods' resolver: cluster DNS only, never the host's upstream.
  echo "nameserver $DNS_IP" >"$run/resolv.conf"
  # Eviction thresholds low: the disk is shared and often over 85% full, and
  # these pods should not be evicted for what other builds use.
  cat >"$kubelet_dir/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failSwapOn: false
# Not below 0: see start_containerd.
oomScoreAdj: 0
clusterDomain: cluster.local
clusterDNS: [$DNS_IP]
resolvConf: $run/resolv.conf
podLogsDir: $run/pod-logs
evictionHard: {memory.available: 100Mi, nodefs.available: 1Gi, imagefs.available: 1Gi, nodefs.inodesFree: 1%}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
EOF
  daemon kubelet 10250 --config="$kubelet_dir/config.yaml" --kubeconfig="$run/kubelet.kubeconfig" \
    --container-runtime-endpoint="unix://$ctrd/containerd.sock" --root-dir="$kubelet_dir" \
    --cert-dir="$kubelet_dir/pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"
  healthy kubelet http://127.0.0.1:10248/healthz
  wait_for 120 "node $NODE_NAME to be Ready (see $logs/kubelet.log)" \
    kctl wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s
}

# iptables mode (no IPVS in this kernel). NodePorts only on the bridge, so it
# need not set route_localnet; conntrack table sizes left as they are.
start_kube_proxy() {
  daemon kube-proxy 10256 --kubeconfig="$run/kube-proxy.kubeconfig" --proxy-mode=iptables \
    --hostname-override="$NODE_NAME" --cluster-cidr="$CLUSTER_CIDR" --nodeport-addresses="$POD_CIDR" \
    --metrics-bind-address=127.0.0.1:10249 --healthz-bind-address=127.0.0.1:10256 \
    --conntrack-max-per-core=0 --oom-score-adj=0
  healthy kube-proxy http://127.0.0.1:10256/healthz
}

# --- Cluster contents -----------------------------------------------------------

start_coredns() {
  log "deploying CoreDNS"
  sed -e "s#@IMAGE@#$COREDNS_IMAGE#" -e "s#@DNS_IP@#$DNS_IP#" "$WORLD_SCRIPTS/kube/coredns.yaml" |
    kctl apply -f - >/dev/null
}

# A StorageClass with no provisioner and static local volumes in directories
# made here. The kubelet gives them the pod's fsGroup (26 for PostgreSQL).
# Released volumes (their claim deleted) are emptied and offered again.
start_storage() {
  local i pv
  mkdir -p "$pvs"
  {
    cat <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
    for ((i = 1; i <= PV_COUNT; i++)); do
      mkdir -p "$pvs/pv$i"
      cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-pv$i
spec:
  capacity: {storage: $PV_SIZE}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: local
  local: {path: $pvs/pv$i}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions:
        - {key: kubernetes.io/hostname, operator: In, values: [$NODE_NAME]}
EOF
    done
  } | kctl apply -f - >/dev/null
  recycle_pvs
  # Clusters come and go while it runs (the chain's operator stage): their volumes too.
  daemon pv-recycler - "$WORLD_SCRIPTS/kube.sh" recycle-pvs-loop
}

# A released volume (its claim deleted, so no pod uses it) emptied and offered again.
recycle_pv() {
  [[ $1 == local-pv* && -d $pvs/${1#local-} ]] || return 0
  # A watch may bring an older event of a volume already recycled (and perhaps bound again).
  [[ $(kctl get pv "$1" -o jsonpath='{.status.phase}') == Released ]] || return 0
  log "recycling $1"
  find "$pvs/${1#local-}" -mindepth 1 -delete
  kctl patch pv "$1" --type=json -p '[{"op":"remove","path":"/spec/claimRef"}]' >/dev/null
  # The cluster that used it is gone: so is the need for its image (the kubelet's own image GC is
  # off, see start_kubelet). Images of running pods stay.
  crictl rmi --prune >/dev/null 2>&1 || true
}

recycle_pvs() {
  local pv
  for pv in $(kctl get pv -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{"\n"}{end}'); do recycle_pv "$pv"; done
}

# Watches volumes rather than polling (a kubectl every few seconds costs a busy machine); the
# watch ends now and then, and the loop lists what it may have missed meanwhile.
recycle_pvs_loop() {
  local pv phase
  while true; do
    recycle_pvs || true
    kctl get pv --watch-only -o jsonpath='{.metadata.name} {.status.phase}{"\n"}' 2>/dev/null |
      while read -r pv phase; do [[ $phase != Released ]] || recycle_pv "$pv" || true; done
    sleep 2
  done
}

# The release manifest from the module zip, its image pointed at ours.
start_operator() {
  local manifest
  manifest=$(mod_info "github.com/cloudnative-pg/cloudnative-pg@$CNPG_VERSION" Dir)/releases/cnpg-${CNPG_VERSION#v}.yaml
  log "deploying the CloudNativePG operator $CNPG_VERSION"
  sed "s#ghcr.io/cloudnative-pg/cloudnative-pg:${CNPG_VERSION#v}#$OPERATOR_IMAGE#g" "$manifest" |
    kctl apply --server-side --force-conflicts -f - >/dev/null
  kctl -n cnpg-system rollout status deployment/cnpg-controller-manager --timeout=300s >/dev/null
  # Its webhooks answer once it has made its certificate and the secret has
  # reached the pod: a server-side dry run of a Cluster goes through them.
  cat >"$run/webhook-probe.yaml" <<EOF
apiVersion: postgresql.cnpg.io/v1
kind: Cluster
metadata: {name: webhook-probe, namespace: default}
spec: {instances: 1, storage: {size: 1Gi}}
EOF
  wait_for 180 "the CloudNativePG webhook" kctl apply --dry-run=server -f "$run/webhook-probe.yaml"
}

start() {
  local b start=$SECONDS
  for b in "${k8s_bins[@]}" etcd cnpg-manager coredns crictl pause; do
    [[ -x $bin/$b ]] || die "$bin/$b missing: run kube.sh build first"
  done
  need_packages containerd runc containernetworking-plugins iptables
  mkdir -p "$run" "$logs"
  save_sysctls
  push_images
  start_control_plane
  kubeconfig kubelet
  kubeconfig kube-proxy
  start_containerd
  start_kubelet
  start_kube_proxy
  start_coredns
  start_storage
  start_operator
  kctl -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null
  log "cluster ready in $((SECONDS - start))s: export KUBECONFIG=$run/admin.kubeconfig"
}

# stop_daemon <name>: SIGTERM, then SIGKILL after 30 s.
stop_daemon() {
  local name=$1 pid i
  if running "$name"; then
    pid=$(cat "$run/$name.pid")
    log "stopping $name (pid $pid)"
    kill -TERM "$pid"
    # The recycler's watch and reader are its children, in the session daemon gave it.
    [[ $name != pv-recycler ]] || kill -TERM -- "-$pid" 2>/dev/null || true
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

# ours <pid>: a process of this cluster: a binary from $bin, our containerd
# or one of its shims.
ours() {
  [[ $(readlink "/proc/$1/exe" 2>/dev/null) == "$bin/"* ]] && return
  tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qE -- "(--config|-address) $ctrd/(config.toml|containerd.sock)( |$)"
}

# The kubelet's own chains (kube-proxy --cleanup removes only kube-proxy's).
kubelet_chains_down() {
  local cmd t c b
  for cmd in iptables ip6tables; do
    for t in filter nat mangle; do
      for c in KUBE-KUBELET-CANARY KUBE-IPTABLES-HINT KUBE-FIREWALL; do
        "$cmd" -t "$t" -S "$c" >/dev/null 2>&1 || continue
        for b in INPUT OUTPUT FORWARD PREROUTING POSTROUTING; do
          while "$cmd" -t "$t" -D "$b" -j "$c" 2>/dev/null; do :; done
        done
        "$cmd" -t "$t" -F "$c" && "$cmd" -t "$t" -X "$c"
      done
    done
  done
}

stop() {
  local name left=() m ids had_kubelet=false had_proxy=false
  # Their iptables chains are cleaned only if this script started them.
  [[ -f $run/kubelet.pid ]] && had_kubelet=true
  [[ -f $run/kube-proxy.pid ]] && had_proxy=true
  stop_daemon pv-recycler
  stop_daemon kubelet
  # Pods go as the kubelet would remove them: containers stopped with their
  # grace (PostgreSQL shuts down cleanly), then CNI DEL and their mounts.
  if running containerd; then
    log "removing pods"
    ids=$(crictl ps -q)
    [[ -z $ids ]] || crictl stop --timeout 30 $ids >/dev/null || log "could not stop every container"
    crictl rmp --all --force >/dev/null || log "could not remove every pod (see crictl pods)"
  fi
  stop_daemon kube-proxy
  if $had_proxy; then "$bin/kube-proxy" --cleanup >"$logs/kube-proxy-cleanup.log" 2>&1 || true; fi
  if $had_kubelet; then kubelet_chains_down; fi
  stop_daemon containerd
  # Shims outlive containerd; pods removed, none should be left.
  for name in /proc/[0-9]*; do
    if ours "${name#/proc/}" && [[ $(readlink "$name/exe") != "$bin/"* ]]; then
      log "killing leftover shim ${name#/proc/}"
      kill -KILL "${name#/proc/}" 2>/dev/null || true
    fi
  done
  # The kubelet's rshared bind of its root, volumes, overlay root filesystems:
  # deepest first.
  for m in $(findmnt -rn -o TARGET | grep -E "^$run/" | sort -r); do umount "$m" 2>/dev/null || umount -l "$m"; done
  # The kubelet's pod cgroups (runc's under the unified hierarchy too).
  find /sys/fs/cgroup/*/kubepods -depth -type d -exec rmdir {} + 2>/dev/null || true
  # The kubelet's links to pod logs, and its device-plugin socket: the only
  # paths it has outside its root directory.
  find /var/log/containers -maxdepth 1 -type l -lname "$run/pod-logs/*" -delete 2>/dev/null || true
  rmdir /var/log/containers 2>/dev/null || true
  rm -f /var/lib/kubelet/device-plugins/kubelet.sock
  rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet 2>/dev/null || true
  ! compgen -G "/sys/fs/cgroup/*/kubepods" >/dev/null || log "pod cgroups left (processes in them?): /sys/fs/cgroup/*/kubepods"
  for name in kube-scheduler kube-controller-manager kube-apiserver etcd; do stop_daemon "$name"; done
  network_down
  restore_sysctls
  # Anything still running from $bin or of our containerd was not started by
  # this script's pid files.
  for name in /proc/[0-9]*; do
    if ours "${name#/proc/}"; then left+=("${name#/proc/}"); fi
  done
  ((${#left[@]} == 0)) || die "still running from $bin or $ctrd: pids ${left[*]}"
  log "cluster stopped"
}

# The cluster answers: up is a no-op then.
ready() { [[ -f $run/admin.kubeconfig ]] && kctl get --raw /readyz >/dev/null 2>&1; }

case ${1:-} in
  build) build ;;
  up) build && { ready && log "cluster already up" || start; } ;;
  start) start ;;
  start-control-plane) start_control_plane ;;
  stop) stop ;;
  recycle-pvs-loop) recycle_pvs_loop ;;
  *) die "usage: kube.sh build | up | start | start-control-plane | stop" ;;
esac
