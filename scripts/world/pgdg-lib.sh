# shellcheck shell=bash
# What pgdg.sh (which makes the PGDG-shaped repositories) and pgdg-update.sh (which publishes
# updates into a copy of the mirror) share: where the repositories live, the signing key, and how
# a package is repacked and a suite indexed and signed. Sourced after lib.sh, never run.

PGDG_PORT="${PG_IMAGES_PGDG_PORT:-5081}"
# The address the repositories are served at: one on the loopback device that is not 127.0.0.1,
# so every engine's build containers reach it as a plain host (a service binding would tie each
# apt step's cache entry to one client's session). 127.0.0.1 serves them too, for the tunnel path.
PGDG_ADDR="${PG_IMAGES_PGDG_ADDR:-10.86.0.1}"
dir="$WORLD/pgdg"
www="$dir/www"
url="http://$PGDG_ADDR:$PGDG_PORT"
loopback_url="http://127.0.0.1:$PGDG_PORT"
export GNUPGHOME="$dir/gnupg"
declare -A debian_number=([bullseye]=11 [bookworm]=12 [trixie]=13)
declare -A debian_pg=([bullseye]=13 [bookworm]=15 [trixie]=17)

# key <name> <uid>: a signing key made once; prints its fingerprint, exports it to keys/<name>.asc.
key() {
  local name=$1 uid=$2 fpr
  if ! gpg --batch --list-keys "$uid" >/dev/null 2>&1; then
    log "generating the $name signing key"
    gpg --batch --pinentry-mode loopback --passphrase '' --quick-gen-key "$uid" rsa3072 sign never 2>/dev/null
  fi
  fpr=$(gpg --batch --with-colons --list-keys "$uid" | awk -F: '$1 == "fpr" { print $10; exit }')
  gpg --batch --armor --export "$fpr" >"$www/keys/$name.asc"
  echo "$fpr"
}
# repack <deb> <suffix> <out-dir> <version…>: the package under version+suffix; exact (= v)
# relations on any of the given versions (its siblings, repacked alike) follow the rename.
repack() {
  local deb=$1 suffix=$2 out=$3 tmp version pkg arch v
  shift 3
  tmp=$(mktemp -d)
  dpkg-deb -R "$deb" "$tmp"
  version=$(sed -n 's/^Version: //p' "$tmp/DEBIAN/control")
  sed -i "s/^Version: .*/Version: $version$suffix/" "$tmp/DEBIAN/control"
  for v in "$@"; do
    V="$v" S="$suffix" perl -pi -e 's/\(= \Q$ENV{V}\E\)/(= $ENV{V}$ENV{S})/g if /^(Pre-Depends|Depends|Breaks|Recommends):/' "$tmp/DEBIAN/control"
  done
  pkg=$(sed -n 's/^Package: //p' "$tmp/DEBIAN/control")
  arch=$(sed -n 's/^Architecture: //p' "$tmp/DEBIAN/control")
  version="$version$suffix"
  dpkg-deb -Zgzip -b "$tmp" "$out/${pkg}_${version#*:}_$arch.deb" >/dev/null
  rm -rf "$tmp"
}

# index <root> <suite> <major>: Packages per component, main's Sources, and a signed Release
# for one suite. Component main holds everything, <major> that major's libpq (as PGDG splits
# them); the source packages are in main.
index() {
  local root=$1 suite=$2 major=$3 comp d
  for comp in main "$major"; do
    d="$root/dists/$suite/$comp/binary-amd64"
    mkdir -p "$d"
    (cd "$root" && apt-ftparchive packages "pool/$suite/$comp") >"$d/Packages"
    gzip -9nkf "$d/Packages"
  done
  d="$root/dists/$suite/main/source"
  mkdir -p "$d"
  # Without an override file it notes, for every source package, that there is none.
  (cd "$root" && apt-ftparchive sources "pool/$suite/main" 2> >(grep -v 'override entry' >&2)) >"$d/Sources"
  gzip -9nkf "$d/Sources"
  (cd "$root/dists/$suite" && apt-ftparchive \
    -o APT::FTPArchive::Release::Origin="pg-images local PGDG" -o APT::FTPArchive::Release::Label="pg-images local PGDG" \
    -o APT::FTPArchive::Release::Suite="$suite" -o APT::FTPArchive::Release::Codename="$suite" \
    -o APT::FTPArchive::Release::Architectures=amd64 -o APT::FTPArchive::Release::Components="main $major" \
    release . >Release.new && mv Release.new Release)
  gpg --batch --yes --local-user "$fingerprint" --clearsign -o "$root/dists/$suite/InRelease" "$root/dists/$suite/Release"
  gpg --batch --yes --local-user "$fingerprint" -abs -o "$root/dists/$suite/Release.gpg" "$root/dists/$suite/Release"
}

