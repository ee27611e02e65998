// pgupgradetester: every major of the target in one image, for pg_upgrade tests, with what it
// takes to build an extension against each (server-dev, build tools, Python): extension projects
// build themselves in it before the upgrade. With the `distro` source the older major comes from
// the previous Debian release, pinned low.
import type { PgupgradetesterTarget } from "../plan/types.js";
import { aptSetup, pgInstall, pgPackages, pgPath } from "./apt.js";
import { socketDirCheck, socketDirWritable } from "./customise.js";
import { BUILD_PACKAGES, generateLocales, LOCALES, withPackages } from "./extbuilder.js";
import { PGXS_FIXTURE } from "./fixtures.js";
import { binDir, expectVersion, startCluster, stopCluster } from "./smoke.js";
import type { RecipeContext } from "./index.js";
import type { Recipe } from "./types.js";

/** Python for the test drivers extension projects run here, in a venv of their own. */
export const PYTHON_PACKAGES = ["python3", "python3-venv"];

export function pgupgradetesterRecipe(target: PgupgradetesterTarget, ctx: RecipeContext): Recipe {
  // The plan lists the majors oldest first (targets.ts), two or more by type.
  const majors = target.postgres;
  const oldest = majors.reduce((a, b) => (b.major < a.major ? b : a));
  const newest = majors.reduce((a, b) => (b.major > a.major ? b : a));
  const [oldBin, newBin] = [binDir(oldest.major), binDir(newest.major)];
  return {
    target: target.id,
    base: { image: target.base },
    artifacts: [],
    steps: [
      aptSetup(target.packageSource, target.distro, target.postgres, ctx.pgdg),
      pgInstall([...pgPackages(majors, ["server-dev", "libpq-dev"]), ...withPackages([...BUILD_PACKAGES, ...PYTHON_PACKAGES], target.packages)]),
      { op: "run", script: [generateLocales(LOCALES), socketDirWritable()].join("\n") },
      { op: "env", name: "PATH", value: pgPath(newest.major) },
    ],
    smoke: [
      {
        name: `every major installed (${majors.map((p) => p.version).join(", ")})`,
        script: majors
          .map((p) => `v=$(${binDir(p.major)}/postgres --version) && case "$v" in *" ${p.version.replace("~", "")}"*) echo "$v" ;; *) echo "PostgreSQL ${p.major}: '$v', expected ${p.version}"; exit 1 ;; esac`)
          .join("\n"),
      },
      {
        name: `pg_upgrade ${oldest.major} to ${newest.major}`,
        // As postgres: pg_upgrade refuses root and writes its logs to the working directory.
        user: "postgres",
        script: [
          startCluster({ bin: oldBin }),
          `$psql -c 'CREATE TABLE upgraded AS SELECT 42 AS answer'`,
          stopCluster({ bin: oldBin }),
          `old=$d`,
          `${newBin}/initdb -D "$old/new" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null`,
          `cd "$old" && ${newBin}/pg_upgrade -b ${oldBin} -B ${newBin} -d "$old/data" -D "$old/new" -U postgres -s "$old" >upgrade.log 2>&1 || { cat upgrade.log; echo "pg_upgrade failed"; exit 1; }`,
          `d=$old && rm -rf "$d/data" && mv "$d/new" "$d/data" && : >"$d/server.log"`,
          `${newBin}/pg_ctl -D "$d/data" -l "$d/server.log" -w -o "-c listen_addresses= -k $d" start >/dev/null || { cat "$d/server.log"; echo "upgraded server did not start"; exit 1; }`,
          `psql="${newBin}/psql -h $d -U postgres -X -q -At -v ON_ERROR_STOP=1"`,
          expectVersion(newest),
          `a=$($psql -c 'SELECT answer FROM upgraded') && [ "$a" = 42 ] || { echo "upgraded table reads '$a', expected 42"; exit 1; }`,
          stopCluster({ bin: newBin }),
        ].join("\n"),
      },
      {
        name: `builds a PGXS extension against ${majors.map((p) => p.major).join(", ")}`,
        user: "root",
        script: majors
          .map((p) =>
            [
              `b=$(mktemp -d) && cp -R ${PGXS_FIXTURE.at}/. "$b" && cd "$b"`,
              `make PG_CONFIG=${binDir(p.major)}/pg_config >make.log 2>&1 && make PG_CONFIG=${binDir(p.major)}/pg_config install >>make.log 2>&1 || { cat make.log; echo "building against PostgreSQL ${p.major} failed"; exit 1; }`,
              `test -f "$(${binDir(p.major)}/pg_config --pkglibdir)/${PGXS_FIXTURE.extension}.so" || { echo "${PGXS_FIXTURE.extension}.so not installed for PostgreSQL ${p.major}"; exit 1; }`,
            ].join("\n"),
          )
          .join("\n"),
        mounts: [{ fixture: PGXS_FIXTURE.path, at: PGXS_FIXTURE.at }],
      },
      { name: "python3 makes a venv", script: `d=$(mktemp -d) && python3 -m venv "$d/venv" && "$d/venv/bin/python" --version` },
      socketDirCheck(),
    ],
  };
}
