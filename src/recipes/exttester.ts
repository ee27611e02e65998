// exttester: an extbuilder plus what regression and isolation suites need. Debian ships
// pg_regress, pg_isolation_regress and isolationtester in postgresql-client-NN under
// lib/pgxs/src/test/; they are linked onto PATH. The core suite's regress.so is not packaged.
import type { ExttesterTarget } from "../plan/types.js";
import { aptInstall, pinned } from "./apt.js";
import { fixtureBuildScript, generateLocales, LOCALES } from "./extbuilder.js";
import { PGXS_FIXTURE, REAL_FIXTURE } from "./fixtures.js";
import { AS_POSTGRES, binDir, onPath, startCluster, stopCluster } from "./smoke.js";
import type { Recipe, SmokeCheck, Step } from "./types.js";

export const TEST_PACKAGES = ["gdb", "lcov", "libdbd-pg-perl", "libipc-run-perl"];
/** Test tools Debian keeps under pgxs, by their path below lib/pgxs/src/test/. */
export const PGXS_TEST_TOOLS = ["regress/pg_regress", "isolation/pg_isolation_regress", "isolation/isolationtester"];

export function exttesterRecipe(target: ExttesterTarget): Recipe {
  const [pg] = target.postgres;
  const pgxs = `/usr/lib/postgresql/${pg.major}/lib/pgxs/src/test`;
  // wal2json exists for every released major in both sources; not (yet) for previews.
  const wal2json = pg.preview ? [] : [`postgresql-${pg.major}-wal2json`];
  const steps: Step[] = [
    aptInstall([...TEST_PACKAGES, ...wal2json, ...target.packages.map((p) => pinned(p.name, p.version || undefined))], "parent"),
    { op: "run", script: generateLocales([...LOCALES, "da_DK.UTF-8"]) },
    { op: "run", script: PGXS_TEST_TOOLS.map((t) => `ln -sf ${pgxs}/${t} /usr/local/bin/`).join("\n") },
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
    ],
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
