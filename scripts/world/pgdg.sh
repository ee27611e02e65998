#!/usr/bin/env bash
# Two apt repositories shaped like PGDG's, made from Debian's own PostgreSQL packages and served
# on http://127.0.0.1:$PGDG_PORT (a static server over $WORLD/pgdg/www):
#   /apt      like apt.postgresql.org:         dists/<release>-pgdg/{main,<major>}/binary-amd64
#   /archive  like apt-archive.postgresql.org: dists/<release>-pgdg-archive/{main,<major>}/…
#   /keys/pgdg.asc   the key both are signed with (made here, once, kept under $WORLD/pgdg)
#   /keys/other.asc  a second key that signs nothing (for the wrong-fingerprint case)
# The mirror carries the current minor of each release's PostgreSQL and a few extensions; the
# archive carries that minor and the older one Debian still serves (the release's point-release
# version under the -security one). Every package is repacked with dpkg-deb under PGDG's version
# suffix (".pgdg120+1" on bookworm), so apt prefers it over Debian's identical build and the
# installed version shows where it came from. Writes $WORLD/pgdg.json for the tests.
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

# build <release>: download, repack, index both repositories for one release.
build() {
  local release=$1 major=${debian_pg[$1]} suffix=".pgdg${debian_number[$1]}0+1" base dl versions current old
  base=$(jq -r --arg r "$release" '.[$r] // empty' "$WORLD/bases.json")
  [[ -n $base ]] || die "$release: no base in $WORLD/bases.json (run bases.sh $release)"
  dl="$dir/debs/$release" && rm -rf "$dl" && mkdir -p "$dl/current" "$dl/old"
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
  rm -rf "$www/apt/pool/$mirror_suite" "$www/apt/dists/$mirror_suite" "$www/archive/pool/$archive_suite" "$www/archive/dists/$archive_suite"
  local all=() deb
  mapfile -t all < <(for deb in "$dl"/*/*.deb; do dpkg-deb -f "$deb" Version; done | sort -u)
  out="$www/archive/pool/$archive_suite/main" && mkdir -p "$out"
  for deb in "$dl"/*/*.deb; do repack "$deb" "$suffix" "$out" "${all[@]}"; done
  # The mirror: the current minor only, the same files as the archive's.
  out="$www/apt/pool/$mirror_suite/main" && mkdir -p "$out"
  cp -l "$www/archive/pool/$archive_suite/main/"*"_${current#*:}${suffix}_"*.deb "$out/"
  for deb in "$www/archive/pool/$archive_suite/main/"*.deb; do
    case $(basename "$deb") in postgresql-common* | postgresql-client-common* | postgresql-$major-*) cp -l "$deb" "$out/" ;; esac
  done
  local root suite
  for root in apt archive; do
    if [[ $root == apt ]]; then suite=$mirror_suite; else suite=$archive_suite; fi
    mkdir -p "$www/$root/pool/$suite/$major"
    cp -l "$www/$root/pool/$suite/main/"libpq* "$www/$root/pool/$suite/$major/"
    index "$www/$root" "$suite" "$major"
  done
  jq -n --arg r "$release" --arg m "$major" --arg c "${current%%-*}" --arg o "${old%%-*}" --arg s "$suffix" \
    '{($r): {major: ($m | tonumber), current: $c, old: (if $o == "" then null else $o end), suffix: $s}}' >"$dl/release.json"
  log "$release: mirror has PostgreSQL ${current%%-*}, archive ${old:+${old%%-*} and }${current%%-*} (suffix $suffix)"
}

stamp="$dir/.built"
# Keyed on the code that makes the repositories, the releases and their bases.
want=$({ declare -f build repack index; echo "${releases[*]}"; jq -c . "$WORLD/bases.json"; } | sha256sum | cut -c1-16)
if [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
  log "PGDG-shaped repositories already built for ${releases[*]}"
else
  for release in "${releases[@]}"; do build "$release"; done
  echo "$want" >"$stamp"
fi

# The static server: python's, bound to the loopback only. It also answers requests in absolute
# form (GET http://127.0.0.1:port/…), as HTTP/1.1 servers must: apt sends those when a per-host
# proxy points it at this server, which is how the Dagger engine's containers reach it.
cat >"$dir/serve.py" <<'PY'
import functools, http.server, re, sys
class Handler(http.server.SimpleHTTPRequestHandler):
    def translate_path(self, path):
        return super().translate_path(re.sub(r"^[a-z]+://[^/]*", "", path))
bind, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
http.server.ThreadingHTTPServer((bind, port), functools.partial(Handler, directory=root)).serve_forever()
PY
serving() {
  cmp -s <(curl -fs "$url/keys/pgdg.asc") "$www/keys/pgdg.asc" &&
    cmp -s <(curl -fs --proxy "$url" "http://127.0.0.1:$PGDG_PORT/keys/pgdg.asc") "$www/keys/pgdg.asc"
}
if serving; then
  log "PGDG-shaped repositories already served at $url"
else
  pidfile="$dir/http.pid"
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then kill "$(cat "$pidfile")"; fi
  log "serving $www at $url (log: $dir/http.log)"
  setsid /usr/bin/python3 "$dir/serve.py" 127.0.0.1 "$PGDG_PORT" "$www" >"$dir/http.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  wait_for 30 "the PGDG-shaped repositories at $url" serving
fi

jq -n --arg u "$url" --arg f "$fingerprint" --arg o "$other" '{
    mirror: "\($u)/apt", archive: "\($u)/archive", keyUrl: "\($u)/keys/pgdg.asc", fingerprint: $f,
    otherKeyUrl: "\($u)/keys/other.asc", otherFingerprint: $o, releases: {} }' >"$WORLD/pgdg.json.tmp"
for f in "$dir"/debs/*/release.json; do
  [[ -f $f ]] && jq -s '.[0].releases += .[1] | .[0]' "$WORLD/pgdg.json.tmp" "$f" >"$WORLD/pgdg.json.tmp2" && mv "$WORLD/pgdg.json.tmp2" "$WORLD/pgdg.json.tmp"
done
mv "$WORLD/pgdg.json.tmp" "$WORLD/pgdg.json"
log "PGDG-shaped repositories: $(jq -c '{mirror, archive, keyUrl, fingerprint}' "$WORLD/pgdg.json")"
