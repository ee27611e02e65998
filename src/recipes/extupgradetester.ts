// extupgradetester: older builds of an extension, ready to install, for upgrade tests. Each older
// version is an artifact built in the extbuilder image (so with the same PostgreSQL), installed
// into a staging root and packed into the tarballs the matrix names (extension.tarballs; by
// default /opt/pg-images/ext-upgrade/install-pg<major>-<extension><version>.tar).
//
// A tarball holds files only, no directory entries: projects remove an old version with
// `tar tf <tarball> | xargs rm` from /, which a "./" entry would break. `tar -C / -xf <tarball>`
// installs that version; the test then builds the new one and runs ALTER EXTENSION ... UPDATE.
// The repository is a git URL, or a path relative to the matrix (copied from the build context,
// so a local repository works without a server).
import type { ExtupgradetesterTarget, TarballTemplate } from "../plan/types.js";
import { aptInstall, pinned, shellQuote } from "./apt.js";
import { dropTo } from "./customise.js";
import { AS_POSTGRES, binDir, startCluster, stopCluster } from "./smoke.js";
import type { Artifact, Recipe, SmokeCheck, Step } from "./types.js";

const SOURCE_AT = "/src/repository";
/** Where an artifact leaves its tarballs: each at its final path below this directory. */
const OUT = "/out";

type Version = ExtupgradetesterTarget["extension"]["versions"][number];

/** A tarball's path for one older version: the template with its placeholders filled. */
export function tarballPath(template: TarballTemplate, major: number, extension: string, v: Version): string {
  const values: Record<string, string> = { major: String(major), name: extension, ref: v.ref, version: v.version };
  return template.path.replace(/\{([^}]*)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** A URL git can clone, or undefined for a path relative to the matrix. */
export function remoteUrl(repository: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\//.test(repository) ? repository : undefined;
}

/** The tarball every upgrade check installs from: the first that keeps every file (the rules require one). */
function fullTemplate(t: ExtupgradetesterTarget): TarballTemplate {
  const full = t.extension.tarballs.find((x) => x.only === undefined);
  if (!full) throw new Error(`${t.id}: every tarball has only; one must hold all files`);
  return full;
}

export function extupgradetesterRecipe(target: ExtupgradetesterTarget): Recipe {
  const [pg] = target.postgres;
  const ext = target.extension;
  const remote = remoteUrl(ext.repository);
  const builds = ext.versions.map((v): { artifact: Artifact; paths: string[] } => {
    const tarballs = ext.tarballs.map((t) => ({ path: tarballPath(t, pg.major, ext.name, v), only: t.only }));
    const steps: Step[] = [
      ...(remote ? [] : [{ op: "copy" as const, source: { context: ext.repository }, what: "directory" as const, to: SOURCE_AT }]),
      { op: "run", script: buildTarballs(remote ?? `file://${SOURCE_AT}`, v.ref, tarballs) },
    ];
    const id = `${ext.name}-${v.version}-pg${pg.major}`.toLowerCase().replace(/[^a-z0-9._-]/g, "-");
    return { artifact: { id, base: { target: target.from }, steps, output: OUT }, paths: tarballs.map((t) => t.path) };
  });
  const packages = target.packages.map((p) => pinned(p.name, p.version || undefined));
  const steps: Step[] = [
    ...(packages.length > 0 ? [aptInstall(packages, "parent")] : []),
    ...builds.flatMap(({ artifact, paths }) => paths.map((path): Step => ({ op: "copy", source: { artifact: artifact.id, path: `${OUT}${path}` }, what: "file", to: path }))),
  ];
  return {
    target: target.id,
    base: { target: target.from },
    artifacts: builds.map((b) => b.artifact),
    steps,
    smoke: smoke(target),
  };
}

/**
 * Shell: clone one ref, build it (configure first when the project has one), stage the install,
 * list its files (no directories), and tar each list. "--" ends git's options, so a URL is never
 * read as one (the matrix refuses those too).
 */
export function buildTarballs(url: string, ref: string, tarballs: readonly { path: string; only?: string | undefined }[]): string {
  return [
    `git -c safe.directory='*' -c advice.detachedHead=false clone -q --depth 1 --branch ${shellQuote(ref)} -- ${shellQuote(url)} /build/src`,
    `cd /build/src`,
    `if [ -x ./configure ]; then ./configure; fi`,
    `make -j"$(nproc)"`,
    `make install DESTDIR=/build/root`,
    `cd /build/root`,
    ...tarballs.flatMap((t, i) => {
      const list = `/build/files-${i}.lst`;
      const filter = t.only === undefined ? "" : ` -name ${shellQuote(t.only)}`;
      return [
        `find . ! -type d${filter} | LC_ALL=C sort > ${list}`,
        `[ -s ${list} ] || { echo "no installed file for ${t.path}${t.only === undefined ? "" : ` (only: ${t.only})`}"; exit 1; }`,
        `mkdir -p "$(dirname ${OUT}${t.path})"`,
        `tar --no-recursion --owner=0 --group=0 --numeric-owner -cf ${OUT}${t.path} -T ${list}`,
      ];
    }),
  ].join("\n");
}

/** Shell: the SQL version (default_version) of the extension's installed control file, into $sqlv. */
function readSqlVersion(name: string): string {
  const control = `"$(pg_config --sharedir)/extension/${name}.control"`;
  return [
    `sqlv=$(sed -n "s/^[[:space:]]*default_version[[:space:]]*=[[:space:]]*'\\([^']*\\)'.*/\\1/p" ${control})`,
    `[ -n "$sqlv" ] || { echo "no default_version in ${name}.control"; exit 1; }`,
  ].join("\n");
}

function smoke(target: ExtupgradetesterTarget): SmokeCheck[] {
  const [pg] = target.postgres;
  const ext = target.extension;
  const remote = remoteUrl(ext.repository);
  const bin = binDir(pg.major);
  const all = ext.versions.flatMap((v) => ext.tarballs.map((t) => ({ t, tar: tarballPath(t, pg.major, ext.name, v) })));
  const checks: SmokeCheck[] = [
    {
      name: "old versions packed, files only",
      script: all
        .flatMap(({ t, tar }) => [
          `tar -tf ${tar} >/tmp/entries || { echo "${tar} is missing or not a tar"; exit 1; }`,
          `[ -s /tmp/entries ] || { echo "${tar} is empty"; exit 1; }`,
          `if grep -q '/$' /tmp/entries; then echo "${tar} holds directory entries:"; grep '/$' /tmp/entries; exit 1; fi`,
          ...(t.only === undefined ? [`grep -q '/extension/${ext.name}\\.control$' /tmp/entries || { echo "${tar} has no ${ext.name}.control"; exit 1; }`] : []),
        ])
        .join("\n"),
    },
  ];
  // The CI user untars and removes where the matrix gave it paths to own; root otherwise.
  const as = target.ciUser && target.ciUser.owns.length > 0 ? `${dropTo(target.ciUser)} ` : "";
  const newest = remote ?? "file:///mnt/repository";
  for (const v of ext.versions) {
    const tar = tarballPath(fullTemplate(target), pg.major, ext.name, v);
    checks.push({
      name: `upgrade ${ext.name} from ${v.version}`,
      user: "root",
      ...(remote ? {} : { mounts: [{ context: ext.repository, at: "/mnt/repository" }] }),
      script: [
        `${as}tar -C / -xf ${tar}`,
        // The SQL version the old build installs, not the git ref: a tag v12.1.6 may be SQL 12.1-1.
        readSqlVersion(ext.name),
        // An extension with a library of its own name may need it preloaded.
        `preload=; if [ -f "$(pg_config --pkglibdir)/${ext.name}.so" ]; then preload=${ext.name}; fi`,
        startCluster({ bin, asPostgres: AS_POSTGRES, preload: ["$preload"] }),
        `$psql -c "CREATE EXTENSION ${ext.name} VERSION '$sqlv'" || { echo "CREATE EXTENSION ${ext.name} VERSION '$sqlv' (${v.ref}) failed"; exit 1; }`,
        stopCluster({ bin, asPostgres: AS_POSTGRES }),
        // Remove the old version the way projects do; a directory entry would stop rm here.
        `cd / && tar -tf ${tar} | ${as}xargs rm || { echo "tar -tf ${tar} | xargs rm failed"; exit 1; }`,
        `git -c safe.directory='*' clone -q --depth 1 -- ${shellQuote(newest)} /tmp/newest`,
        `cd /tmp/newest && { if [ -x ./configure ]; then ./configure; fi; make -j"$(nproc)" && make install; } >/tmp/newest.log 2>&1 || { cat /tmp/newest.log; echo "building the newest ${ext.name} failed"; exit 1; }`,
        `${AS_POSTGRES} ${bin}/pg_ctl -D "$d/data" -l "$d/server.log" -w -o "$opts" start >/dev/null || { cat "$d/server.log"; echo "server did not restart"; exit 1; }`,
        `$psql -c 'ALTER EXTENSION ${ext.name} UPDATE' || { echo "ALTER EXTENSION ${ext.name} UPDATE failed"; exit 1; }`,
        `got=$($psql -c "SELECT extversion FROM pg_extension WHERE extname = '${ext.name}'")`,
        `want=$($psql -c "SELECT default_version FROM pg_available_extensions WHERE name = '${ext.name}'")`,
        `[ "$got" = "$want" ] || { echo "after ALTER EXTENSION UPDATE: version '$got', expected '$want' (from $sqlv)"; exit 1; }`,
        `echo "${ext.name} ${v.ref} ($sqlv) -> $got"`,
        stopCluster({ bin, asPostgres: AS_POSTGRES }),
      ].join("\n"),
    });
  }
  return checks;
}
