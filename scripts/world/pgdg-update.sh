#!/usr/bin/env bash
# Updates published into a copy of the PGDG-shaped mirror, as the real archive publishes them:
# the tests fork the mirror, change it, point a matrix at the fork and drop it afterwards, so the
# mirror every other test uses never moves.
#   pgdg-update.sh fork <name>                       a copy of the mirror, served at $url/<name>
#   pgdg-update.sh bump <name> <release> <package>   <package> again under the next revision
#                                                    (…+1 → …+2): the old one leaves the index
#   pgdg-update.sh add <name> <release> <package>    a new package no image asks for
#   pgdg-update.sh drop <name>
# Each change re-indexes and re-signs the suite; prints the package's new version.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pgdg-lib.sh"

usage() { die "usage: pgdg-update.sh fork|drop <name> | bump|add <name> <release> <package>"; }
(($# >= 2)) || usage
action=$1 name=$2
[[ $name =~ ^[a-z0-9][a-z0-9-]*$ && $name != apt && $name != archive && $name != keys ]] || die "fork name '$name': lowercase letters, digits and -, not apt, archive or keys"
root="$www/$name"
[[ -f $WORLD/pgdg.json ]] || die "$WORLD/pgdg.json is missing: run pgdg.sh first"
fingerprint=$(jq -r .fingerprint "$WORLD/pgdg.json")
trap 'gpgconf --kill gpg-agent 2>/dev/null || true' EXIT

# suite_of <release>: the mirror suite and the release's major.
release_args() {
  local release=$1
  [[ -n ${debian_pg[$release]:-} ]] || die "unknown release '$release'"
  [[ -d $root/dists/$release-pgdg ]] || die "the fork '$name' has no $release-pgdg suite"
  suite="$release-pgdg" major=${debian_pg[$release]}
}

case $action in
  fork)
    (($# == 2)) || usage
    rm -rf "$root"
    mkdir -p "$root"
    # The packages are shared (never written in place: a change writes a new file); the indexes are
    # the fork's own, since re-indexing rewrites them.
    cp -al "$www/apt/pool" "$root/pool"
    cp -a "$www/apt/dists" "$root/dists"
    echo "$url/$name"
    ;;
  drop)
    (($# == 2)) || usage
    rm -rf "$root"
    ;;
  bump)
    (($# == 4)) || usage
    release_args "$3"
    package=$4
    shopt -s nullglob
    debs=("$root/pool/$suite/main/${package}_"*.deb)
    ((${#debs[@]} == 1)) || die "the fork '$name' has ${#debs[@]} files for $package in $suite (expected 1)"
    old=${debs[0]} tmp=$(mktemp -d)
    dpkg-deb -R "$old" "$tmp"
    version=$(sed -n 's/^Version: //p' "$tmp/DEBIAN/control")
    [[ $version =~ ^(.*\+)([0-9]+)$ ]] || die "$package $version: no +N revision to raise"
    new="${BASH_REMATCH[1]}$((BASH_REMATCH[2] + 1))"
    sed -i "s/^Version: .*/Version: $new/" "$tmp/DEBIAN/control"
    arch=$(sed -n 's/^Architecture: //p' "$tmp/DEBIAN/control")
    rm "$old"
    dpkg-deb -Zgzip -b "$tmp" "$root/pool/$suite/main/${package}_${new#*:}_$arch.deb" >/dev/null
    rm -rf "$tmp"
    index "$root" "$suite" "$major"
    echo "$new"
    ;;
  add)
    (($# == 4)) || usage
    release_args "$3"
    package=$4 tmp=$(mktemp -d)
    mkdir -p "$tmp/DEBIAN" "$tmp/usr/share/doc/$package"
    printf 'Package: %s\nVersion: 1.0-1\nArchitecture: all\nMaintainer: pg-images tests <tests@pg-images.invalid>\nDescription: a package no image asks for\n' "$package" >"$tmp/DEBIAN/control"
    echo "$package" >"$tmp/usr/share/doc/$package/README"
    dpkg-deb -Zgzip --root-owner-group -b "$tmp" "$root/pool/$suite/main/${package}_1.0-1_all.deb" >/dev/null
    rm -rf "$tmp"
    index "$root" "$suite" "$major"
    echo "1.0-1"
    ;;
  *) usage ;;
esac
