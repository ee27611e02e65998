// exttester: an extbuilder plus what regression and isolation suites need. Debian ships
// pg_regress, pg_isolation_regress and isolationtester in postgresql-client-NN under
// lib/pgxs/src/test/; they are linked onto PATH. PostgreSQL's own regression suite (regress.so
// and lib/regress/, for an extension's run of the core suite) is packaged nowhere: it is built
// here from the source package of the exact server installed.
import type { ExttesterTarget, PgVersion } from "../plan/types.js";
import { aptInstall, pgPattern, pinned, renderSources, sourcePackageSources, writeFile } from "./apt.js";
import { fixtureBuildScript, generateLocales, LOCALES } from "./extbuilder.js";
import { PGXS_FIXTURE, REAL_FIXTURE } from "./fixtures.js";
import type { RecipeContext } from "./index.js";
import { AS_POSTGRES, binDir, onPath, startCluster, stopCluster } from "./smoke.js";
import type { Recipe, RunStep, SmokeCheck, Step } from "./types.js";

export const TEST_PACKAGES = ["gdb", "lcov", "libdbd-pg-perl", "libipc-run-perl"];
/** Test tools Debian keeps under pgxs, by their path below lib/pgxs/src/test/. */
export const PGXS_TEST_TOOLS = ["regress/pg_regress", "isolation/pg_isolation_regress", "isolation/isolationtester"];
/** Locales extension suites collate in beyond the builder's: Danish, in UTF-8 and in a legacy encoding. */
export const TESTER_LOCALES = ["da_DK.UTF-8", "da_DK ISO-8859-1"];
/** What unpacks a source package: dpkg-source (dpkg-dev) and the tarballs' compressors. */
export const SOURCE_PACKAGES = ["bzip2", "dpkg-dev", "xz-utils"];

export function exttesterRecipe(target: ExttesterTarget, ctx: RecipeContext): Recipe {
  const [pg] = target.postgres;
  const pgxs = `/usr/lib/postgresql/${pg.major}/lib/pgxs/src/test`;
  // wal2json exists for every released major in both sources; not (yet) for previews.
  const wal2json = pg.preview ? [] : [`postgresql-${pg.major}-wal2json`];
  // The server's debug symbols, exactly its version.
  const dbgsym = target.carries.debugSymbols ? [pinned(`postgresql-${pg.major}-dbgsym`, pgPattern(pg))] : [];
  const steps: Step[] = [
    aptInstall([...TEST_PACKAGES, ...wal2json, ...dbgsym, ...target.packages.map((p) => pinned(p.name, p.version || undefined))], "parent"),
    { op: "run", script: generateLocales([...LOCALES, ...TESTER_LOCALES]) },
    { op: "run", script: PGXS_TEST_TOOLS.map((t) => `ln -sf ${pgxs}/${t} /usr/local/bin/`).join("\n") },
    ...(target.carries.regressionSuite ? [regressionSuiteStep(target, ctx)] : []),
  ];
  const bin = binDir(pg.major);
  return {
    target: target.id,
    base: { target: target.from },
    artifacts: [],
    steps,
    smoke: [
      {
        name: "test tools present",
        script: [
          onPath(["pg_regress", "pg_isolation_regress", "isolationtester", "gdb", "lcov"]),
          // isolationtester has no --version; it is checked by being on PATH.
          `pg_regress --version && pg_isolation_regress --version`,
          `perl -MIPC::Run -MDBD::Pg -e1 || { echo "perl IPC::Run or DBD::Pg missing"; exit 1; }`,
          `locale -a | grep -qi '^da_DK.utf8$' || { echo "da_DK.UTF-8 locale missing"; exit 1; }`,
          `[ "$(LC_ALL=da_DK locale charmap)" = ISO-8859-1 ] || { echo "da_DK ISO-8859-1 locale missing (locale -a: $(locale -a | tr '\\n' ' '))"; exit 1; }`,
          ...wal2json.map(() => `test -f "$(pg_config --pkglibdir)/wal2json.so" || { echo "wal2json.so missing"; exit 1; }`),
        ].join("\n"),
      },
      {
        name: "fixture regression suite passes",
        script: [
          fixtureBuildScript(PGXS_FIXTURE),
          startCluster({ bin, asPostgres: AS_POSTGRES }),
          `PGHOST=$d PGUSER=postgres make installcheck >check.log 2>&1 || { cat check.log; cat regression.diffs 2>/dev/null; echo "make installcheck failed"; exit 1; }`,
          stopCluster({ bin, asPostgres: AS_POSTGRES }),
        ].join("\n"),
        mounts: [{ fixture: PGXS_FIXTURE.path, at: PGXS_FIXTURE.at }],
      },
      realSuites(bin),
      ...(target.carries.regressionSuite ? [regressionSuiteCheck(pg)] : []),
      ...(target.carries.debugSymbols ? [debugSymbolsCheck(pg)] : []),
    ],
  };
}

/** Where the regression suite is installed, as PostgreSQL's own tree has it under src/test/regress. */
export const regressDir = (major: number) => `/usr/lib/postgresql/${major}/lib/regress`;
const SOURCE_LIST = "/etc/apt/sources.list.d/postgresql-source.sources";

/**
 * PostgreSQL's regression suite from the source package of the installed server, as apt fetches
 * it: the source index is covered by the repository's signed InRelease, and apt checks every
 * file against it; dpkg-source then checks the tarballs against the .dsc's own checksums (and
 * refuses a .dsc with no strong ones). regress.c is compiled with PGXS against the installed
 * headers and flags; src/test/regress is copied whole (schedules, sql, expected, input, output,
 * data), as PostgreSQL's tree has it. The source entries and the download leave in the same step.
 */
function regressionSuiteStep(target: ExttesterTarget, ctx: RecipeContext): RunStep {
  const [pg] = target.postgres;
  const server = `postgresql-${pg.major}`;
  const pgConfig = `${binDir(pg.major)}/pg_config`;
  const makefile = ["MODULES = regress", `PG_CONFIG = ${pgConfig}`, "PGXS := $(shell $(PG_CONFIG) --pgxs)", "include $(PGXS)"].join("\n");
  const apt = "DEBIAN_FRONTEND=noninteractive apt-get";
  const script = [
    writeFile(SOURCE_LIST, renderSources(sourcePackageSources(target.packageSource, target.distro, target.postgres, ctx.pgdg), "deb-src")),
    `${apt} update -q`,
    `${apt} install -y -q --no-install-recommends ${SOURCE_PACKAGES.join(" ")}`,
    `src=$(dpkg-query -W -f='\${source:Package}' ${server}) && v=$(dpkg-query -W -f='\${source:Version}' ${server})`,
    `w=$(mktemp -d) && cd "$w"`,
    `${apt} source -q --download-only "$src=$v" >source.log 2>&1 || { cat source.log; echo "no source package $src $v (the server's) in the package source's deb-src indexes: a mirror must carry PostgreSQL's source packages beside its binaries, or set regressionSuite: false"; exit 1; }`,
    `dpkg-source --require-strong-checksums -x "\${src}_\${v#*:}.dsc" tree >unpack.log 2>&1 || { cat unpack.log; echo "$src $v: the source package does not unpack or match its .dsc"; exit 1; }`,
    `r=tree/src/test/regress`,
    `for f in parallel_schedule regress.c sql expected; do [ -e "$r/$f" ] || { echo "$src $v has no src/test/regress/$f: not PostgreSQL's source"; exit 1; }; done`,
    `mkdir build && cp "$r/regress.c" build/ && printf '%s\\n' ${makefile.split("\n").map((l) => `'${l}'`).join(" ")} >build/Makefile`,
    `make -C build >build.log 2>&1 || { cat build.log; echo "regress.so did not build from $src $v"; exit 1; }`,
    `lib=$(${pgConfig} --pkglibdir)`,
    `install -m 0755 build/regress.so "$lib/regress.so"`,
    `rm -rf ${regressDir(pg.major)} && cp -R "$r" ${regressDir(pg.major)}`,
    `cd / && rm -rf "$w" ${SOURCE_LIST}`,
    "rm -rf /var/lib/apt/lists/* /var/cache/apt/*",
  ].join("\n");
  return { op: "run", script, apt: { install: [...SOURCE_PACKAGES] } };
}

/**
 * The suite's parallel_schedule under pg_regress against a running server, with regress.so found
 * through --dlpath and the data through --inputdir, as an extension's run of the core suite does.
 * As postgres: initdb refuses root.
 */
function regressionSuiteCheck(pg: PgVersion): SmokeCheck {
  const bin = binDir(pg.major);
  const dir = regressDir(pg.major);
  return {
    name: "PostgreSQL's regression suite passes against regress.so",
    script: [
      `lib=$(${bin}/pg_config --pkglibdir)`,
      `for f in "$lib/regress.so" ${dir}/parallel_schedule; do test -f "$f" || { echo "$f missing"; exit 1; }; done`,
      startCluster({ bin, asPostgres: AS_POSTGRES }),
      `o=$(${AS_POSTGRES} mktemp -d)`,
      `${AS_POSTGRES} env PATH="$PATH" pg_regress --inputdir=${dir} --outputdir="$o" --dlpath="$lib" --bindir=${bin} --host="$d" --user=postgres --schedule=${dir}/parallel_schedule >"$o/check.log" 2>&1 || { cat "$o/check.log"; head -c 20000 "$o/regression.diffs" 2>/dev/null; echo "pg_regress --schedule=${dir}/parallel_schedule failed"; exit 1; }`,
      `ls "$o"/results/*.out >/dev/null 2>&1 || { cat "$o/check.log"; echo "pg_regress ran no test"; exit 1; }`,
      stopCluster({ bin, asPostgres: AS_POSTGRES }),
    ].join("\n"),
  };
}

/** The server's -dbgsym package at its version, with a debug file for the server binary's build id. */
function debugSymbolsCheck(pg: PgVersion): SmokeCheck {
  const server = `postgresql-${pg.major}`;
  return {
    name: "debug symbols match the server",
    script: [
      `v=$(dpkg-query -W -f='\${Version}' ${server}) && dv=$(dpkg-query -W -f='\${Version}' ${server}-dbgsym 2>/dev/null) || { echo "${server}-dbgsym is not installed"; exit 1; }`,
      `[ "$v" = "$dv" ] || { echo "${server}-dbgsym $dv is not the server's version $v"; exit 1; }`,
      `id=$(readelf -n ${binDir(pg.major)}/postgres | awk '/Build ID:/ { print $3 }')`,
      `f=/usr/lib/debug/.build-id/$(echo "$id" | cut -c1-2)/$(echo "$id" | cut -c3-).debug`,
      `[ -n "$id" ] && [ -f "$f" ] || { echo "no debug file for ${binDir(pg.major)}/postgres (build id '$id'): $f"; exit 1; }`,
    ].join("\n"),
  };
}

/** What each suite leaves behind once it ran: PGXS skips a suite silently when it cannot run it. */
export const SUITE_TRACES = ["results/libraries.out", "output_iso/results/concurrent.out", "tmp_check/log/regress_log_001_preload"];

/**
 * The real-shaped fixture's three suites under `make installcheck`, as postgres: the TAP suite's
 * PostgreSQL::Test::Cluster runs initdb, which refuses root. The server it checks against has the
 * library preloaded, as the extension demands.
 */
function realSuites(bin: string): SmokeCheck {
  return {
    name: "a preloaded extension's regression, isolation and TAP suites pass",
    script: [
      fixtureBuildScript(REAL_FIXTURE),
      `chown -R postgres "$b"`,
      startCluster({ bin, asPostgres: AS_POSTGRES, preload: [REAL_FIXTURE.extension] }),
      `${AS_POSTGRES} env PATH="$PATH" PGHOST="$d" PGUSER=postgres make installcheck >check.log 2>&1 || { cat check.log; cat regression.diffs output_iso/regression.diffs tmp_check/log/regress_log_* 2>/dev/null; echo "make installcheck failed"; exit 1; }`,
      `for f in ${SUITE_TRACES.join(" ")}; do test -s "$f" || { cat check.log; echo "make installcheck left no $f: a suite did not run"; exit 1; }; done`,
      stopCluster({ bin, asPostgres: AS_POSTGRES }),
    ].join("\n"),
    mounts: [{ fixture: REAL_FIXTURE.path, at: REAL_FIXTURE.at }],
  };
}
