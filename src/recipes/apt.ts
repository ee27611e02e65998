// Where packages come from and how they are installed: the apt sources, preferences and pinned
// install lines every recipe shares. Pure: returns shell text, runs nothing.
import type { Matrix, PackageSource } from "../matrix/schema.js";
import { DEBIAN_RELEASES, previousRelease } from "../matrix/sources.js";
import type { PgVersion } from "../plan/types.js";
import type { RunStep } from "./types.js";

export const DEBIAN_MIRROR = "http://deb.debian.org/debian";
export const DEBIAN_SECURITY_MIRROR = "http://deb.debian.org/debian-security";
export const DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
/** The PGDG signing key, written armored after its fingerprint was checked. */
export const PGDG_KEYRING = "/usr/share/keyrings/pgdg.asc";
/** apt's priority for the previous release: below the default 500, so it only fills gaps. */
export const PREVIOUS_RELEASE_PRIORITY = 100;

/** One deb822 source stanza. */
export interface AptSource {
  uris: string;
  suites: string[];
  components: string[];
  signedBy: string;
}

/** One apt_preferences(5) stanza. */
export interface AptPin {
  package: string;
  pin: string;
  priority: number;
}

/** A file the setup step writes, with its text. */
export interface AptFile {
  path: string;
  text: string;
}

/** The release's own archive, its -updates suite and its security suite. */
export function debianSources(release: string): AptSource[] {
  return [
    { uris: DEBIAN_MIRROR, suites: [release, `${release}-updates`], components: ["main"], signedBy: DEBIAN_KEYRING },
    { uris: DEBIAN_SECURITY_MIRROR, suites: [`${release}-security`], components: ["main"], signedBy: DEBIAN_KEYRING },
  ];
}

/** True when some major can only come from the previous Debian release (distro source only). */
export function needsPreviousRelease(source: PackageSource, distro: string, postgres: readonly PgVersion[]): boolean {
  const own = DEBIAN_RELEASES[distro]?.pg;
  return source === "distro" && postgres.some((p) => p.major !== own);
}

/**
 * PGDG: the stable suite with one component per major (it carries that major's libpq), preview
 * majors from the testing suite, and apt-archive for minors the mirror no longer serves.
 */
export function pgdgSources(pgdg: Matrix["pgdg"], distro: string, postgres: readonly PgVersion[]): AptSource[] {
  const stable = postgres.filter((p) => !p.preview).map((p) => String(p.major));
  const preview = postgres.filter((p) => p.preview).map((p) => String(p.major));
  const sources: AptSource[] = [];
  if (stable.length > 0 || preview.length === 0) {
    sources.push({ uris: pgdg.mirror, suites: [`${distro}-pgdg`], components: ["main", ...stable], signedBy: PGDG_KEYRING });
  }
  if (preview.length > 0) {
    sources.push({ uris: pgdg.mirror, suites: [`${distro}-pgdg-testing`], components: ["main", ...preview], signedBy: PGDG_KEYRING });
  }
  sources.push({ uris: pgdg.archive, suites: [`${distro}-pgdg-archive`], components: ["main", ...stable, ...preview], signedBy: PGDG_KEYRING });
  return sources;
}

/** Low-priority pins for the previous release, so its packages never replace the current ones. */
export function previousReleasePins(distro: string): AptPin[] {
  const previous = previousRelease(distro);
  if (!previous) return [];
  return [previous, `${previous}-updates`, `${previous}-security`].map((suite) => ({
    package: "*",
    pin: `release n=${suite}`,
    priority: PREVIOUS_RELEASE_PRIORITY,
  }));
}

/** deb822 stanzas: binary package indexes (deb), or source package indexes (deb-src). */
export function renderSources(sources: readonly AptSource[], type: "deb" | "deb-src" = "deb"): string {
  return sources
    .map((s) => `Types: ${type}\nURIs: ${s.uris}\nSuites: ${s.suites.join(" ")}\nComponents: ${s.components.join(" ")}\nSigned-By: ${s.signedBy}\n`)
    .join("\n");
}

/**
 * Where the source packages of a target's PostgreSQL come from: the same repositories and keys
 * as its binaries. PGDG keeps them in main (the per-major components hold only libpq builds).
 */
export function sourcePackageSources(source: PackageSource, distro: string, postgres: readonly PgVersion[], pgdg: Matrix["pgdg"]): AptSource[] {
  if (source === "pgdg") return pgdgSources(pgdg, distro, postgres).map((s) => ({ ...s, components: ["main"] }));
  const previous = needsPreviousRelease(source, distro, postgres) ? previousRelease(distro) : undefined;
  return [...debianSources(distro), ...(previous ? debianSources(previous) : [])];
}

export function renderPins(pins: readonly AptPin[]): string {
  return pins.map((p) => `Package: ${p.package}\nPin: ${p.pin}\nPin-Priority: ${p.priority}\n`).join("\n");
}

/**
 * The apt files a target needs: the release's sources always (a debootstrap base lists only the
 * main suite, and packages then lag behind), plus PGDG, or the previous release pinned low.
 */
export function aptFiles(source: PackageSource, distro: string, postgres: readonly PgVersion[], pgdg: Matrix["pgdg"]): AptFile[] {
  const files: AptFile[] = [{ path: "/etc/apt/sources.list.d/debian.sources", text: renderSources(debianSources(distro)) }];
  if (source === "pgdg") {
    files.push({ path: "/etc/apt/sources.list.d/pgdg.sources", text: renderSources(pgdgSources(pgdg, distro, postgres)) });
  } else if (needsPreviousRelease(source, distro, postgres)) {
    const previous = previousRelease(distro);
    // The rules accept a major from the previous release only where there is one (sources.ts).
    if (!previous) throw new Error(`${distro}: PostgreSQL ${postgres.map((p) => p.major).join(", ")} needs the previous Debian release, and ${distro} has none known`);
    files.push({ path: `/etc/apt/sources.list.d/${previous}.sources`, text: renderSources(debianSources(previous)) });
    files.push({ path: `/etc/apt/preferences.d/${previous}`, text: renderPins(previousReleasePins(distro)) });
  }
  return files;
}

/** Shell that writes a file with printf, one single-quoted line per argument. */
export function writeFile(path: string, text: string): string {
  const lines = text.replace(/\n$/, "").split("\n").map(shellQuote);
  return `printf '%s\\n' \\\n  ${lines.join(" \\\n  ")} \\\n  > ${path}`;
}

export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `name=version` when the version is pinned, else the bare name. */
export function pinned(name: string, version: string | undefined): string {
  return version ? `${name}=${version}` : name;
}

/** The apt version pattern for a PostgreSQL version: any Debian revision of exactly it. */
export function pgPattern(p: PgVersion): string {
  return `${p.version}-*`;
}

const APT_GET = "DEBIAN_FRONTEND=noninteractive apt-get";
const CLEAN = "rm -rf /var/lib/apt/lists/* /var/cache/apt/*";
const UPGRADE = `${APT_GET} upgrade -y -q`;

/**
 * update, install without recommends, clean lists and caches: one step, so no layer keeps them.
 * A stage on a base image upgrades first, so the archive's fixes for what the base holds ship; a
 * stage on a parent does not (its parent upgraded against the same archive, and an upgrade there
 * could move a package the parent pinned to an older version).
 */
export function aptInstall(packages: readonly string[], on: "base" | "parent"): RunStep {
  return {
    op: "run",
    script: [`${APT_GET} update -q`, ...(on === "base" ? [UPGRADE] : []), `${APT_GET} install -y -q --no-install-recommends \\\n  ${packages.join(" \\\n  ")}`, CLEAN].join("\n"),
    apt: { install: [...packages] },
  };
}

/**
 * The step that configures apt. PGDG's key is fetched from the matrix's keyUrl and refused unless
 * its one primary key has the matrix's fingerprint; curl and gpg leave again in the same step.
 * PGDG's sources are written only once its key is in place: apt refuses to update from a source
 * whose Signed-By file is missing, and curl and gpg come from the release's archive first.
 */
export function aptSetup(source: PackageSource, distro: string, postgres: readonly PgVersion[], pgdg: Matrix["pgdg"]): RunStep {
  const files = aptFiles(source, distro, postgres, pgdg);
  const afterKey = source === "pgdg" ? files.filter((f) => f.text.includes(`Signed-By: ${PGDG_KEYRING}`)) : [];
  const lines = ["rm -f /etc/apt/sources.list", ...files.filter((f) => !afterKey.includes(f)).map((f) => writeFile(f.path, f.text))];
  if (source === "pgdg") {
    lines.push(
      `${APT_GET} update -q`,
      `${APT_GET} install -y -q --no-install-recommends ca-certificates curl gpg`,
      `curl -fsSL ${shellQuote(pgdg.keyUrl)} -o /tmp/pgdg.asc`,
      `fpr=$(gpg --batch --with-colons --show-keys /tmp/pgdg.asc | awk -F: '$1 == "pub" { n++ } $1 == "fpr" && !f { f = $10 } END { if (n == 1) print f }')`,
      `[ "$fpr" = ${pgdg.fingerprint} ] || { echo "PGDG key from ${pgdg.keyUrl}: fingerprint '$fpr', expected ${pgdg.fingerprint}" >&2; exit 1; }`,
      `mv /tmp/pgdg.asc ${PGDG_KEYRING}`,
      ...afterKey.map((f) => writeFile(f.path, f.text)),
      `${APT_GET} purge -y -q --auto-remove curl gpg`,
      CLEAN,
    );
  }
  // ca-certificates stays (apt reaches https mirrors with it); curl and gpg leave again.
  return { op: "run", script: lines.join("\n"), apt: { install: source === "pgdg" ? ["ca-certificates"] : [], sources: true } };
}

/**
 * Install PostgreSQL without a main cluster: postgresql-common first, its createcluster.conf set
 * to `create_main_cluster = false`, then the pinned packages, all in one step.
 */
export function pgInstall(packages: readonly string[]): RunStep {
  const conf = "/etc/postgresql-common/createcluster.conf";
  const script = [
    `${APT_GET} update -q`,
    UPGRADE,
    `${APT_GET} install -y -q --no-install-recommends postgresql-common`,
    `sed -ri 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*$/create_main_cluster = false/' ${conf}`,
    `grep -qx 'create_main_cluster = false' ${conf}`,
    `${APT_GET} install -y -q --no-install-recommends \\\n  ${packages.join(" \\\n  ")}`,
    CLEAN,
  ].join("\n");
  return { op: "run", script, apt: { install: ["postgresql-common", ...packages] } };
}

/** The server, client and libpq packages of each major, pinned to the target's exact version. */
export function pgPackages(postgres: readonly PgVersion[], extra: readonly ("server-dev" | "libpq-dev")[] = []): string[] {
  const newest = [...postgres].sort((a, b) => b.major - a.major)[0];
  const packages = postgres.flatMap((p) => [
    pinned(`postgresql-${p.major}`, pgPattern(p)),
    pinned(`postgresql-client-${p.major}`, pgPattern(p)),
    ...(extra.includes("server-dev") ? [pinned(`postgresql-server-dev-${p.major}`, pgPattern(p))] : []),
  ]);
  // libpq comes from the newest major's source package; both sources build it there.
  if (newest) {
    packages.push(pinned("libpq5", pgPattern(newest)));
    if (extra.includes("libpq-dev")) packages.push(pinned("libpq-dev", pgPattern(newest)));
  }
  return packages;
}

/** A PATH with the major's binaries first. */
export function pgPath(major: number, prefix: readonly string[] = []): string {
  return [...prefix, `/usr/lib/postgresql/${major}/bin`, "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"].join(":");
}
