// extupgradetester: older builds of an extension, ready to install, for upgrade tests. Each older
// version is an artifact built in the extbuilder image (so with the same PostgreSQL), installed
// into a staging root and packed as a tarball of the installed files:
//
//   /opt/pg-images/ext-upgrade/install-pg<major>-<extension><version>.tar
//
// `tar -C / -xf <tarball>` installs that version; the test then builds the new one and runs
// ALTER EXTENSION ... UPDATE. The repository is a git URL, or a path relative to the matrix
// (copied from the build context, so a local repository works without a server).
import type { ExtupgradetesterTarget } from "../plan/types.js";
import { shellQuote } from "./apt.js";
import { AS_POSTGRES, binDir, startCluster, stopCluster } from "./smoke.js";
import type { Artifact, Recipe, SmokeCheck, Step } from "./types.js";

export const EXT_UPGRADE_DIR = "/opt/pg-images/ext-upgrade";
const SOURCE_AT = "/src/repository";

export const tarballName = (major: number, extension: string, version: string) => `install-pg${major}-${extension}${version}.tar`;

/** A URL git can clone, or undefined for a path relative to the matrix. */
export function remoteUrl(repository: string): string | undefined {
  return /^[a-z][a-z0-9+.-]*:\/\//.test(repository) ? repository : undefined;
}

export function extupgradetesterRecipe(target: ExtupgradetesterTarget): Recipe {
  const [pg] = target.postgres;
  const ext = target.extension;
  const remote = remoteUrl(ext.repository);
  // Each older version: the artifact that builds it, and the tarball it leaves in /out.
  const builds = ext.versions.map((v): { artifact: Artifact; tarball: string } => {
    const tarball = tarballName(pg.major, ext.name, v.version);
    const steps: Step[] = [
      ...(remote ? [] : [{ op: "copy" as const, source: { context: ext.repository }, what: "directory" as const, to: SOURCE_AT }]),
      { op: "run", script: buildTarball(remote ?? `file://${SOURCE_AT}`, v.ref, tarball) },
    ];
    const id = `${ext.name}-${v.version}-pg${pg.major}`.toLowerCase().replace(/[^a-z0-9._-]/g, "-");
    return { artifact: { id, base: { target: target.from }, steps, output: "/out" }, tarball };
  });
  const artifacts = builds.map((b) => b.artifact);
  const steps: Step[] = [
    ...builds.map(({ artifact, tarball }): Step => ({ op: "copy", source: { artifact: artifact.id, path: `/out/${tarball}` }, what: "file", to: `${EXT_UPGRADE_DIR}/` })),
    { op: "env", name: "PG_IMAGES_EXT_UPGRADE_DIR", value: EXT_UPGRADE_DIR },
  ];
  return {
    target: target.id,
    base: { target: target.from },
    artifacts,
    steps,
    smoke: smoke(target),
  };
}

// Clone one ref, build it (configure first when the project has one), stage the install, tar
// it. "--" ends git's options, so a URL is never read as one (the matrix refuses those too).
function buildTarball(url: string, ref: string, tarball: string): string {
  return [
    `git -c safe.directory='*' -c advice.detachedHead=false clone -q --depth 1 --branch ${shellQuote(ref)} -- ${shellQuote(url)} /build/src`,
    `cd /build/src`,
    `if [ -x ./configure ]; then ./configure; fi`,
    `make -j"$(nproc)"`,
    `make install DESTDIR=/build/root`,
    `mkdir -p /out && tar -C /build/root -cf /out/${tarball} .`,
  ].join("\n");
}

function smoke(target: ExtupgradetesterTarget): SmokeCheck[] {
  const [pg] = target.postgres;
  const ext = target.extension;
  const remote = remoteUrl(ext.repository);
  const bin = binDir(pg.major);
  const checks: SmokeCheck[] = [
    {
      name: "old versions packed",
      script: ext.versions
        .map((v) => {
          const tar = `${EXT_UPGRADE_DIR}/${tarballName(pg.major, ext.name, v.version)}`;
          return `tar -tf ${tar} | grep -q '/extension/${ext.name}\\.control$' || { echo "${tar} is missing or has no ${ext.name}.control"; exit 1; }`;
        })
        .join("\n"),
    },
  ];
  // The newest version: the repository's default branch, mounted when it is a local path.
  const newest = remote ?? "file:///mnt/repository";
  for (const v of ext.versions) {
    const tar = `${EXT_UPGRADE_DIR}/${tarballName(pg.major, ext.name, v.version)}`;
    checks.push({
      name: `upgrade ${ext.name} from ${v.version}`,
      user: "root",
      ...(remote ? {} : { mounts: [{ context: ext.repository, at: "/mnt/repository" }] }),
      script: [
        `tar -C / -xf ${tar}`,
        // An extension with a library of its own name may need it preloaded (citus does).
        `preload=; if [ -f "$(pg_config --pkglibdir)/${ext.name}.so" ]; then preload=${ext.name}; fi`,
        startCluster({ bin, asPostgres: AS_POSTGRES, preload: ["$preload"] }),
        `$psql -c "CREATE EXTENSION ${ext.name} VERSION '${v.version}'" || { echo "CREATE EXTENSION ${ext.name} VERSION '${v.version}' failed"; exit 1; }`,
        stopCluster({ bin, asPostgres: AS_POSTGRES }),
        `git -c safe.directory='*' clone -q --depth 1 -- ${shellQuote(newest)} /tmp/newest`,
        `cd /tmp/newest && { if [ -x ./configure ]; then ./configure; fi; make -j"$(nproc)" && make install; } >/tmp/newest.log 2>&1 || { cat /tmp/newest.log; echo "building the newest ${ext.name} failed"; exit 1; }`,
        `${AS_POSTGRES} ${bin}/pg_ctl -D "$d/data" -l "$d/server.log" -w -o "$opts" start >/dev/null || { cat "$d/server.log"; echo "server did not restart"; exit 1; }`,
        `$psql -c 'ALTER EXTENSION ${ext.name} UPDATE' || { echo "ALTER EXTENSION ${ext.name} UPDATE failed"; exit 1; }`,
        `got=$($psql -c "SELECT extversion FROM pg_extension WHERE extname = '${ext.name}'")`,
        `want=$($psql -c "SELECT default_version FROM pg_available_extensions WHERE name = '${ext.name}'")`,
        `[ "$got" = "$want" ] && [ "$got" != ${shellQuote(v.version)} ] || { echo "after ALTER EXTENSION UPDATE: version '$got', expected '$want' (from ${v.version})"; exit 1; }`,
        `echo "${ext.name} ${v.version} -> $got"`,
        stopCluster({ bin, asPostgres: AS_POSTGRES }),
      ].join("\n"),
    });
  }
  return checks;
}
