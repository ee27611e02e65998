// failtester: an extbuilder plus Python with a hash-pinned requirements file (mitmproxy for
// failure injection between client and server). The file is copied from the build context and
// checked against the SHA-256 of the text the plan read, so a changed requirement changes the
// image's input key and a stale context fails the build.
import type { FailtesterTarget } from "../plan/types.js";
import { aptInstall, pgPath, pinned } from "./apt.js";
import { sha256 } from "./key.js";
import { onPath } from "./smoke.js";
import type { RecipeContext } from "./index.js";
import type { Recipe } from "./types.js";

export const FAILTESTER_DIR = "/opt/pg-images/failtester";
export const FAILTESTER_PACKAGES = ["gdb", "lsof", "net-tools", "python3", "python3-venv"];

export function failtesterRecipe(target: FailtesterTarget, ctx: RecipeContext): Recipe {
  const [pg] = target.postgres;
  const path = target.requirements;
  const requirements = ctx.files.get(path);
  if (requirements === undefined) throw new Error(`${target.id}: requirements file "${path}" was not read`);
  const venv = `${FAILTESTER_DIR}/venv`;
  return {
    target: target.id,
    base: { target: target.from },
    artifacts: [],
    steps: [
      { op: "run", script: aptInstall([...FAILTESTER_PACKAGES, ...target.packages.map((p) => pinned(p.name, p.version || undefined))]) },
      { op: "copy", source: { context: path }, what: "file", to: `${FAILTESTER_DIR}/requirements.txt` },
      {
        op: "run",
        script: [
          `echo "${sha256(requirements)}  ${FAILTESTER_DIR}/requirements.txt" | sha256sum -c --quiet`,
          `python3 -m venv ${venv}`,
          `${venv}/bin/pip install --no-cache-dir --require-hashes -r ${FAILTESTER_DIR}/requirements.txt`,
        ].join("\n"),
      },
      { op: "env", name: "PATH", value: pgPath(pg.major, [`${venv}/bin`]) },
    ],
    smoke: [
      { name: "mitmdump runs", script: `mitmdump --version` },
      { name: "python imports mitmproxy", script: `python -c 'import mitmproxy.http, mitmproxy.tools.dump; print(mitmproxy.__file__)'` },
      {
        name: `PostgreSQL ${pg.version} binaries on PATH`,
        script: [
          onPath(["initdb", "pg_ctl", "postgres", "psql", "pg_config"]),
          `v=$(postgres --version); case "$v" in *" ${pg.version.replace("~", "")}"*) echo "$v" ;; *) echo "postgres --version is '$v', expected ${pg.version}"; exit 1 ;; esac`,
        ].join("\n"),
      },
    ],
  };
}
