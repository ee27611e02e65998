// failtester: an extbuilder plus Python with a hash-pinned requirements file (mitmproxy for
// failure injection between client and server). The file is copied from the build context and
// checked against the SHA-256 of the text the plan read, so a changed requirement changes the
// image's input key and a stale context fails the build. VCS requirements pinned to a commit
// (requirements.ts) are installed apart, without their dependencies, after the hashed part.
import type { FailtesterTarget } from "../plan/types.js";
import { aptInstall, pgPath, pinned, writeFile } from "./apt.js";
import { sha256 } from "./key.js";
import { onPath } from "./smoke.js";
import type { RecipeContext } from "./index.js";
import { splitRequirements } from "./requirements.js";
import type { Recipe } from "./types.js";

export const FAILTESTER_DIR = "/opt/pg-images/failtester";
export const FAILTESTER_PACKAGES = ["gdb", "lsof", "net-tools", "python3", "python3-venv"];

export function failtesterRecipe(target: FailtesterTarget, ctx: RecipeContext): Recipe {
  const [pg] = target.postgres;
  const path = target.requirements;
  const requirements = ctx.files.get(path);
  if (requirements === undefined) throw new Error(`${target.id}: requirements file "${path}" was not read`);
  const venv = `${FAILTESTER_DIR}/venv`;
  const { vcs, problems } = splitRequirements(requirements);
  // The plan refuses these first; a recipe made from an unchecked file must not install them.
  if (problems.length > 0) throw new Error(`${target.id}: ${path} line ${problems[0]!.line}: ${problems[0]!.message}`);
  return {
    target: target.id,
    base: { target: target.from },
    artifacts: [],
    steps: [
      aptInstall([...FAILTESTER_PACKAGES, ...target.packages.map((p) => pinned(p.name, p.version || undefined))], "parent"),
      { op: "copy", source: { context: path }, what: "file", to: `${FAILTESTER_DIR}/requirements.txt` },
      { op: "run", script: pipInstall(venv, sha256(requirements), vcs) },
      { op: "env", name: "PATH", value: pgPath(pg.major, [`${venv}/bin`]) },
    ],
    smoke: [
      { name: "mitmdump runs", script: `mitmdump --version` },
      { name: "installed Python packages are consistent", script: `${venv}/bin/pip check` },
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

/**
 * Shell: check the copied file against the planned text, install its hashed lines with
 * --require-hashes, then each VCS requirement with --no-deps (its dependencies must be in the
 * hashed part) and --no-build-isolation (no unhashed build backend is fetched; the hashed part
 * holds it).
 */
export function pipInstall(venv: string, sha: string, vcs: readonly { line: number; requirement: string }[]): string {
  const file = `${FAILTESTER_DIR}/requirements.txt`;
  const pip = `${venv}/bin/pip install --no-cache-dir`;
  const lines = [`echo "${sha}  ${file}" | sha256sum -c --quiet`, `python3 -m venv ${venv}`];
  if (vcs.length === 0) return [...lines, `${pip} --require-hashes -r ${file}`].join("\n");
  return [
    ...lines,
    `awk -v skip=' ${vcs.map((v) => v.line).join(" ")} ' 'index(skip, " " NR " ") == 0' ${file} > ${FAILTESTER_DIR}/hashed.txt`,
    writeFile(`${FAILTESTER_DIR}/vcs.txt`, vcs.map((v) => v.requirement).join("\n") + "\n"),
    `${pip} --require-hashes -r ${FAILTESTER_DIR}/hashed.txt`,
    `${pip} --no-deps --no-build-isolation -r ${FAILTESTER_DIR}/vcs.txt`,
  ].join("\n");
}
