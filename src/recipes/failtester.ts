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
export const FAILTESTER_PACKAGES = ["gdb", "lsof", "net-tools"];

/** The interpreter's apt packages and command: the distro's python3, or python3.N asked for. */
function interpreterOf(target: FailtesterTarget): { packages: string[]; command: string; check?: string } {
  const want = target.interpreter;
  if (!want) return { packages: ["python3", "python3-venv"], command: "python3" };
  const command = `python${want.version}`;
  // From the base image: it must be there before anything is installed with it.
  if (want.source === "image") {
    return { packages: [], command, check: `command -v ${command} >/dev/null || { echo "Python ${want.version} (${command}) is not on the base image's PATH; interpreter.source: image needs a base that has it"; exit 1; }` };
  }
  return { packages: [command, `${command}-venv`], command };
}

export function failtesterRecipe(target: FailtesterTarget, ctx: RecipeContext): Recipe {
  const [pg] = target.postgres;
  const path = target.requirements;
  const requirements = ctx.files.get(path);
  if (requirements === undefined) throw new Error(`${target.id}: requirements file "${path}" was not read`);
  const venv = `${FAILTESTER_DIR}/venv`;
  const { vcs, problems } = splitRequirements(requirements);
  // The plan refuses these first; a recipe made from an unchecked file must not install them.
  if (problems.length > 0) throw new Error(`${target.id}: ${path} line ${problems[0]!.line}: ${problems[0]!.message}`);
  const python = interpreterOf(target);
  const version = target.interpreter?.version;
  return {
    target: target.id,
    base: { target: target.from },
    artifacts: [],
    steps: [
      aptInstall([...FAILTESTER_PACKAGES, ...python.packages, ...target.packages.map((p) => pinned(p.name, p.version || undefined))], "parent"),
      { op: "copy", source: { context: path }, what: "file", to: `${FAILTESTER_DIR}/requirements.txt` },
      { op: "run", script: [...(python.check ? [python.check] : []), pipInstall({ dir: FAILTESTER_DIR, python: python.command, venv }, sha256(requirements), vcs)].join("\n") },
      { op: "env", name: "PATH", value: pgPath(pg.major, [`${venv}/bin`]) },
    ],
    smoke: [
      { name: "mitmdump runs", script: `mitmdump --version` },
      { name: "installed Python packages are consistent", script: `${venv}/bin/pip check` },
      { name: "python imports mitmproxy", script: `python -c 'import mitmproxy.http, mitmproxy.tools.dump; print(mitmproxy.__file__)'` },
      ...(version
        ? [{
            name: `the venv's Python is ${version}`,
            script: `v=$(python -c 'import sys; print("%d.%d" % sys.version_info[:2])'); [ "$v" = ${version} ] || { echo "python in ${venv} is $v, expected ${version}"; exit 1; }; echo "Python $v"`,
          }]
        : []),
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

/** Where a venv is made and its requirements file lies (copied there by the recipe). */
export interface VenvAt {
  /** Folder holding requirements.txt, and the split files made from it. */
  dir: string;
  /** The interpreter the venv is made with: python3, python3.13. */
  python: string;
  venv: string;
}

/**
 * Shell: check the copied file against the planned text, install its hashed lines with
 * --require-hashes, then each VCS requirement with --no-deps (its dependencies must be in the
 * hashed part) and --no-build-isolation (no unhashed build backend is fetched; the hashed part
 * holds it). pip refuses a VCS line under --require-hashes, hence two passes.
 */
export function pipInstall(at: VenvAt, sha: string, vcs: readonly { line: number; requirement: string }[]): string {
  const file = `${at.dir}/requirements.txt`;
  const pip = `${at.venv}/bin/pip install --no-cache-dir`;
  const lines = [`echo "${sha}  ${file}" | sha256sum -c --quiet`, `${at.python} -m venv ${at.venv}`];
  if (vcs.length === 0) return [...lines, `${pip} --require-hashes -r ${file}`].join("\n");
  return [
    ...lines,
    `awk -v skip=' ${vcs.map((v) => v.line).join(" ")} ' 'index(skip, " " NR " ") == 0' ${file} > ${at.dir}/hashed.txt`,
    writeFile(`${at.dir}/vcs.txt`, vcs.map((v) => v.requirement).join("\n") + "\n"),
    `${pip} --require-hashes -r ${at.dir}/hashed.txt`,
    `${pip} --no-deps --no-build-isolation -r ${at.dir}/vcs.txt`,
  ].join("\n");
}
