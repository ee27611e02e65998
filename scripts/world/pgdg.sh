#!/usr/bin/env bash
# Two apt repositories shaped like PGDG's, made from Debian's own PostgreSQL packages and served
# on http://$PGDG_ADDR:$PGDG_PORT and http://127.0.0.1:$PGDG_PORT (a static server over
# $WORLD/pgdg/www; pgdg-lib.sh says why two):
#   /apt      like apt.postgresql.org:         dists/<release>-pgdg/{main,<major>}/binary-amd64
#   /archive  like apt-archive.postgresql.org: dists/<release>-pgdg-archive/{main,<major>}/…
#   /keys/pgdg.asc   the key both are signed with (made here, once, kept under $WORLD/pgdg)
#   /keys/other.asc  a second key that signs nothing (for the wrong-fingerprint case)
# The mirror carries the current minor of each release's PostgreSQL and a few extensions; the
# archive carries that minor and the older one Debian still serves (the release's point-release
# version under the -security one). Every package is repacked with dpkg-deb under PGDG's version
# suffix (".pgdg120+1" on bookworm), so apt prefers it over Debian's identical build and the
# installed version shows where it came from. Like PGDG, both also publish each server's source
# package (deb-src: .dsc, orig and debian tarballs; here made from test/fixtures/pg-source, a small
# tree laid out like PostgreSQL's, since PostgreSQL's source is in no reachable registry) and its
# -dbgsym package. Writes $WORLD/pgdg.json for the tests.
# A rebuild never changes what is served underfoot (others build from it meanwhile): the new
# repositories are made beside the old under $WORLD/pgdg/trees/<key>, and one rename of the
# $WORLD/pgdg/tree link swaps both; www/apt and www/archive are links through it.
# Usage: pgdg.sh [release...]   (default: bookworm trixie; needs docker.sh and bases.sh)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

releases=("$@")
((${#releases[@]})) || releases=(bookworm trixie)
source "$(dirname "${BASH_SOURCE[0]}")/pgdg-lib.sh"

missing=()
for p in apt-utils gnupg python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
mkdir -p "$dir" "$www/keys" && chmod 700 "$dir"
mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"

fingerprint=$(key pgdg "pg-images local PGDG <pgdg@pg-images.invalid>")
other=$(key other "pg-images other key <other@pg-images.invalid>")
# gpg starts an agent for this home; it goes when the script does.
trap 'gpgconf --kill gpg-agent 2>/dev/null || true' EXIT

# srcpkg <server deb> <release> <out-dir>: the source package the server package names (its
# Source, at its version), from the fixture tree: <src>_<upstream>.orig.tar.bz2 holding the tree
# under <src>-<upstream>/ as PostgreSQL's tarballs do, a 3.0 (quilt) debian tarball, and the .dsc,
# clearsigned with the repositories' key as PGDG signs its own.
srcpkg() {
  local deb=$1 release=$2 out=$3 src version upstream tmp t
  src=$(dpkg-deb -f "$deb" Source) && src=${src%% *} && [[ -n $src ]] || src=$(dpkg-deb -f "$deb" Package)
  version=$(dpkg-deb -f "$deb" Version) && upstream=${version#*:} && upstream=${upstream%-*}
  tmp=$(mktemp -d) && t="$tmp/$src-$upstream"
  mkdir "$t" && cp -R "$fixture/." "$t/"
  tar -C "$tmp" --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cjf "$tmp/${src}_$upstream.orig.tar.bz2" "$src-$upstream"
  mkdir -p "$t/debian/source"
  echo "3.0 (quilt)" >"$t/debian/source/format"
  printf '#!/usr/bin/make -f\n%%:\n\tdh $@\n' >"$t/debian/rules" && chmod 755 "$t/debian/rules"
  printf 'Source: %s\nSection: database\nPriority: optional\nMaintainer: %s\nBuild-Depends: debhelper-compat (= 13)\nStandards-Version: 4.6.2\n\nPackage: %s\nArchitecture: any\nDescription: pg-images fixture tree, packed as PostgreSQL %s\n' \
    "$src" "pg-images local PGDG <pgdg@pg-images.invalid>" "$src" "$upstream" >"$t/debian/control"
  printf '%s (%s) %s-pgdg; urgency=medium\n\n  * pg-images fixture tree, packed as PostgreSQL %s.\n\n -- %s  Thu, 01 Jan 1970 00:00:00 +0000\n' \
    "$src" "$version" "$release" "$upstream" "pg-images local PGDG <pgdg@pg-images.invalid>" >"$t/debian/changelog"
  (cd "$tmp" && SOURCE_DATE_EPOCH=0 dpkg-source -q -b "$src-$upstream" >/dev/null)
  gpg --batch --yes --local-user "$fingerprint" --clearsign -o "$tmp/signed.dsc" "$tmp/${src}_${version#*:}.dsc"
  mv "$tmp/signed.dsc" "$out/${src}_${version#*:}.dsc"
  mv "$tmp/${src}_$upstream.orig.tar.bz2" "$tmp/${src}_${version#*:}.debian.tar."* "$out/"
  rm -rf "$tmp"
}

# dbgsym <deb> <out-dir>: the package's -dbgsym companion, laid out as debhelper makes them: each
# ELF file's /usr/lib/debug/.build-id/<xx>/<rest>.debug and the ids in Build-Ids. Debian's files
# are stripped already, so each .debug holds what --only-keep-debug keeps of them: the build id
# and the section headers, not the debug information, which cannot be rebuilt here.
dbgsym() {
  local deb=$1 out=$2 tmp pkg src version arch f id ids=()
  tmp=$(mktemp -d)
  dpkg-deb -x "$deb" "$tmp/files"
  pkg=$(dpkg-deb -f "$deb" Package) version=$(dpkg-deb -f "$deb" Version) arch=$(dpkg-deb -f "$deb" Architecture)
  src=$(dpkg-deb -f "$deb" Source) && src=${src%% *} && [[ -n $src ]] || src=$pkg
  while IFS= read -r -d '' f; do
    id=$({ readelf -n "$f" 2>/dev/null || true; } | awk '/Build ID:/ && !n++ { print $3 }')
    [[ -n $id ]] || continue
    mkdir -p "$tmp/pkg/usr/lib/debug/.build-id/${id:0:2}"
    objcopy --only-keep-debug "$f" "$tmp/pkg/usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug"
    ids+=("$id")
  done < <(find "$tmp/files" -type f -print0 | sort -z)
  ((${#ids[@]})) || die "$pkg: no ELF file with a build id"
  mkdir -p "$tmp/pkg/DEBIAN"
  printf 'Package: %s-dbgsym\nSource: %s\nVersion: %s\nArchitecture: %s\nMaintainer: %s\nSection: debug\nPriority: optional\nDepends: %s (= %s)\nAuto-Built-Package: debug-symbols\nBuild-Ids: %s\nDescription: debug symbols for %s\n' \
    "$pkg" "$src" "$version" "$arch" "pg-images local PGDG <pgdg@pg-images.invalid>" "$pkg" "$version" "${ids[*]}" "$pkg" >"$tmp/pkg/DEBIAN/control"
  dpkg-deb -Zgzip --root-owner-group -b "$tmp/pkg" "$out/$pkg-dbgsym_${version#*:}_$arch.deb" >/dev/null
  rm -rf "$tmp"
}

# build <release>: download, repack, index both repositories for one release, under $tree.
build() {
  local release=$1 major=${debian_pg[$1]} suffix=".pgdg${debian_number[$1]}0+1" base dl versions current old
  base=$(jq -r --arg r "$release" '.[$r] // empty' "$WORLD/bases.json")
  [[ -n $base ]] || die "$release: no base in $WORLD/bases.json (run bases.sh $release)"
  dl="$tree/debs/$release" && rm -rf "$dl" && mkdir -p "$dl/current" "$dl/old"
  local core=(postgresql-$major postgresql-client-$major postgresql-server-dev-$major libpq5 libpq-dev)
  local extra=(postgresql-common postgresql-client-common postgresql-common-dev
    postgresql-$major-pgaudit postgresql-$major-hll postgresql-$major-wal2json postgresql-$major-pgvector)
  log "$release: downloading PostgreSQL $major and extensions from Debian"
  # Versions newest first; the second, when Debian still has one, is the archive's older minor.
  docker run --rm --network host -v "$dl:/out" -e "MAJOR=$major" -e "CORE=${core[*]}" -e "EXTRA=${extra[*]}" "$base" bash -ec '
    apt-get update -qq
    mapfile -t v < <(apt-cache madison "postgresql-$MAJOR" | awk "{ print \$3 }" | sort -Vru)
    echo "${v[*]}" >/out/versions
    at() { for p in $CORE; do echo "$p=$1"; done; }
    cd /out/current && apt-get download -qq $(at "${v[0]}")
    for p in $EXTRA; do if apt-cache show "$p" >/dev/null 2>&1; then apt-get download -qq "$p"; fi; done
    if ((${#v[@]} > 1)); then cd /out/old && apt-get download -qq $(at "${v[1]}"); fi' >"$dl/download.log" 2>&1 || { tail -20 "$dl/download.log"; die "$release: download failed"; }
  read -r -a versions <"$dl/versions"
  current=${versions[0]} old=${versions[1]:-}
  local mirror_suite="$release-pgdg" archive_suite="$release-pgdg-archive" out
  local all=() deb
  mapfile -t all < <(for deb in "$dl"/*/*.deb; do dpkg-deb -f "$deb" Version; done | sort -u)
  out="$tree/archive/pool/$archive_suite/main" && mkdir -p "$out"
  for deb in "$dl"/*/*.deb; do repack "$deb" "$suffix" "$out" "${all[@]}"; done
  # Each server version's source and -dbgsym packages, as PGDG publishes them beside it.
  for deb in "$out/postgresql-${major}_"*.deb; do
    srcpkg "$deb" "$release" "$out"
    dbgsym "$deb" "$out"
  done
  # The mirror: the current minor only, the same files as the archive's.
  local v="${current#*:}$suffix"
  out="$tree/apt/pool/$mirror_suite/main" && mkdir -p "$out"
  cp -l "$tree/archive/pool/$archive_suite/main/"*"_${v}_"*.deb "$out/"
  cp -l "$tree/archive/pool/$archive_suite/main/postgresql-${major}_$v".{dsc,debian.tar.*} "$tree/archive/pool/$archive_suite/main/postgresql-${major}_${current%%-*}.orig.tar.bz2" "$out/"
  for deb in "$tree/archive/pool/$archive_suite/main/"*.deb; do
    case $(basename "$deb") in *-dbgsym_*) ;; postgresql-common* | postgresql-client-common* | postgresql-$major-*) cp -l "$deb" "$out/" ;; esac
  done
  local root suite
  for root in apt archive; do
    if [[ $root == apt ]]; then suite=$mirror_suite; else suite=$archive_suite; fi
    mkdir -p "$tree/$root/pool/$suite/$major"
    cp -l "$tree/$root/pool/$suite/main/"libpq* "$tree/$root/pool/$suite/$major/"
    index "$tree/$root" "$suite" "$major"
  done
  jq -n --arg r "$release" --arg m "$major" --arg c "${current%%-*}" --arg o "${old%%-*}" --arg s "$suffix" \
    '{($r): {major: ($m | tonumber), current: $c, old: (if $o == "" then null else $o end), suffix: $s}}' >"$dl/release.json"
  log "$release: mirror has PostgreSQL ${current%%-*}, archive ${old:+${old%%-*} and }${current%%-*} (suffix $suffix)"
}

fixture="$(cd "$WORLD_SCRIPTS/../.." && pwd)/test/fixtures/pg-source"
[[ -d $fixture/src/test/regress ]] || die "$fixture: the source fixture is missing"
stamp="$dir/.built"
# exchange <a> <b>: swap two paths in one rename (renameat2 RENAME_EXCHANGE), whatever they are.
exchange() {
  python3 -c 'import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.renameat2(-100, os.fsencode(sys.argv[1]), -100, os.fsencode(sys.argv[2]), 2) != 0:
    e = ctypes.get_errno(); sys.exit(f"exchange {sys.argv[1]} {sys.argv[2]}: {os.strerror(e)}")' "$1" "$2"
}
# Keyed on the code that makes the repositories, the source fixture, the releases and their bases.
want=$({
  declare -f build repack index srcpkg dbgsym
  (cd "$fixture" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  echo "${releases[*]}"
  jq -c . "$WORLD/bases.json"
} | sha256sum | cut -c1-16)
if [[ -f $stamp && $(cat "$stamp") == "$want" && -e $dir/tree/apt ]]; then
  log "PGDG-shaped repositories already built for ${releases[*]}"
else
  tree="$dir/trees/$want"
  rm -rf "$tree" && mkdir -p "$tree"
  for release in "${releases[@]}"; do build "$release"; done
  # One rename swaps both repositories; the links under www are made once (an older layout's
  # directories are exchanged for them, also in one rename each).
  ln -sfn "trees/$want" "$dir/tree.new" && mv -T "$dir/tree.new" "$dir/tree"
  for root in apt archive; do
    [[ -L $www/$root ]] && continue
    ln -sfn "../tree/$root" "$www/$root.new"
    if [[ -e $www/$root ]]; then
      exchange "$www/$root.new" "$www/$root"
      mv "$www/$root.new" "$dir/trees/old-$root-$(date +%s)"
    else
      mv -T "$www/$root.new" "$www/$root"
    fi
  done
  echo "$want" >"$stamp"
  rm -rf "$dir/debs" # the older layout's downloads
  # The tree just replaced stays, for requests begun before the swap; older ones go.
  keep=$(ls -1t "$dir/trees" | grep -v -x "$want" | head -1 || true)
  for old in "$dir/trees"/*; do
    case $(basename "$old") in "$want" | "$keep") ;; *) rm -rf "$old" ;; esac
  done
fi

# The static server: python's, on $PGDG_ADDR (put on the loopback device here) and on 127.0.0.1,
# nowhere else. It also answers requests in absolute form (GET http://127.0.0.1:port/…), as
# HTTP/1.1 servers must: apt sends those when a per-host proxy points it at this server, which is
# how the Dagger engine's containers reach a mirror on the caller's 127.0.0.1.
cat >"$dir/serve.py" <<'PY'
import functools, http.server, re, sys, threading
class Handler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path):
        return super().translate_path(re.sub(r"^[a-z]+://[^/]*", "", path))
port, root, binds = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
servers = [http.server.ThreadingHTTPServer((b, port), functools.partial(Handler, directory=root)) for b in binds]
for s in servers[1:]:
    threading.Thread(target=s.serve_forever, daemon=True).start()
servers[0].serve_forever()
PY
ip -4 addr show dev lo | grep -q "inet $PGDG_ADDR/" || ip addr add "$PGDG_ADDR/32" dev lo
serving() {
  cmp -s <(curl -fs "$url/keys/pgdg.asc") "$www/keys/pgdg.asc" &&
    cmp -s <(curl -fs --proxy "$loopback_url" "$loopback_url/keys/pgdg.asc") "$www/keys/pgdg.asc"
}
if serving; then
  log "PGDG-shaped repositories already served at $url and $loopback_url"
else
  pidfile="$dir/http.pid"
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then kill "$(cat "$pidfile")"; fi
  log "serving $www at $url and $loopback_url (log: $dir/http.log)"
  setsid /usr/bin/python3 "$dir/serve.py" "$PGDG_PORT" "$www" "$PGDG_ADDR" 127.0.0.1 >"$dir/http.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  wait_for 30 "the PGDG-shaped repositories at $url" serving
fi

jq -n --arg u "$url" --arg l "$loopback_url" --arg f "$fingerprint" --arg o "$other" '{
    url: $u, loopbackUrl: $l, mirror: "\($u)/apt", archive: "\($u)/archive", keyUrl: "\($u)/keys/pgdg.asc", fingerprint: $f,
    otherKeyUrl: "\($u)/keys/other.asc", otherFingerprint: $o, releases: {} }' >"$WORLD/pgdg.json.tmp"
for f in "$dir"/tree/debs/*/release.json; do
  [[ -f $f ]] && jq -s '.[0].releases += .[1] | .[0]' "$WORLD/pgdg.json.tmp" "$f" >"$WORLD/pgdg.json.tmp2" && mv "$WORLD/pgdg.json.tmp2" "$WORLD/pgdg.json.tmp"
done
mv "$WORLD/pgdg.json.tmp" "$WORLD/pgdg.json"
log "PGDG-shaped repositories: $(jq -c '{mirror, archive, keyUrl, fingerprint}' "$WORLD/pgdg.json")"
