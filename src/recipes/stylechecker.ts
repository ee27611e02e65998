// stylechecker: pinned code style tools on a digest-pinned base: Python tools in a venv from a
// hash-pinned requirements file, apt tools at pinned versions from the base's release, and tools
// built from source at a pinned ref (a formatter newer than the release's, a project's own
// wrapper), each in an artifact on the same base, as the upgrade tester builds older versions.
import type { SourceBuild, StylecheckerTarget } from "../plan/types.js";
import { aptInstall, pinned, shellQuote } from "./apt.js";
import { remoteUrl } from "./extupgradetester.js";
import { pipInstall } from "./failtester.js";
import { sha256 } from "./key.js";
import type { RecipeContext } from "./index.js";
import { splitRequirements } from "./requirements.js";
import type { Artifact, Recipe, SmokeCheck, Step } from "./types.js";

export const STYLE_DIR = "/opt/pg-images/style";
export const STYLE_VENV = `${STYLE_DIR}/venv`;
/** What building from source needs; only the artifact holds it, never the image. */
export const SOURCE_BUILD_PACKAGES = ["ca-certificates", "cmake", "g++", "git", "make", "perl", "python3"];
/** The prefix tools built from source install under (DESTDIR'd into the artifact, then copied). */
const PREFIX = "/usr/local";
const SOURCE_AT = "/src/repository";
const OUT = "/out";

/** How to ask each known tool its version; others are asked with --version. */
const VERSION_ARGS: Record<string, string> = { shellcheck: "--version", uncrustify: "--version" };

export function stylecheckerRecipe(target: StylecheckerTarget, ctx: RecipeContext): Recipe {
  const python = target.python;
  const apt = target.packages;
  const checks: SmokeCheck[] = [
    ...python.map((t) => ({
      name: `${t.name} ${t.version} runs`,
      script: `out=$(${t.name} --version 2>&1) && echo "$out" && echo "$out" | grep -qF ${t.version} || { echo "${t.name} --version: '$out', expected ${t.version}"; exit 1; }`,
    })),
    // A package may be a library with no command of its name: then being installed is the check.
    ...apt.map((p) => ({
      name: `${p.name} installed`,
      script: [
        `dpkg-query -W ${p.name} || { echo "${p.name} is not installed"; exit 1; }`,
        `if command -v ${p.name} >/dev/null; then ${p.name} ${VERSION_ARGS[p.name] ?? "--version"}; fi`,
      ].join("\n"),
    })),
    ...target.sources.map(sourceCheck),
  ];
  const builds = target.sources.map((s) => sourceArtifact(target, s));
  return {
    target: target.id,
    base: { image: target.base },
    artifacts: builds,
    steps: [
      aptInstall(["ca-certificates", "python3", "python3-venv", ...apt.map((p) => pinned(p.name, p.version || undefined))], "base"),
      ...pythonSteps(target, ctx),
      ...builds.map((a): Step => ({ op: "copy", source: { artifact: a.id, path: `${OUT}${PREFIX}` }, what: "directory", to: PREFIX })),
      { op: "env", name: "PATH", value: `${STYLE_VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
    ],
    smoke: checks,
  };
}

// Every pip install is hash-checked: the file is copied and installed as the failtester's is.
function pythonSteps(target: StylecheckerTarget, ctx: RecipeContext): Step[] {
  const path = target.requirements;
  if (path === undefined) return [];
  const text = ctx.files.get(path);
  if (text === undefined) throw new Error(`${target.id}: requirements file "${path}" was not read`);
  const { vcs, problems } = splitRequirements(text);
  if (problems.length > 0) throw new Error(`${target.id}: ${path} line ${problems[0]!.line}: ${problems[0]!.message}`);
  return [
    { op: "copy", source: { context: path }, what: "file", to: `${STYLE_DIR}/requirements.txt` },
    { op: "run", script: pipInstall({ dir: STYLE_DIR, python: "python3", venv: STYLE_VENV }, sha256(text), vcs) },
  ];
}

function sourceArtifact(target: StylecheckerTarget, s: SourceBuild): Artifact {
  const remote = remoteUrl(s.repository);
  const id = `${s.name}-${s.ref}`.toLowerCase().replace(/[^a-z0-9._-]/g, "-");
  return {
    id,
    base: { image: target.base },
    steps: [
      aptInstall(SOURCE_BUILD_PACKAGES, "base"),
      ...(remote ? [] : [{ op: "copy" as const, source: { context: s.repository }, what: "directory" as const, to: SOURCE_AT }]),
      { op: "run", script: buildFromSource(remote ?? `file://${SOURCE_AT}`, s) },
    ],
    output: OUT,
  };
}

/**
 * Shell: clone one ref, build and install it under /usr/local into /out: with the matrix's make
 * targets, else with CMake where the project has a CMakeLists.txt, else ./configure (if any) and
 * make install. Nothing is installed unless the build leaves a file under the prefix.
 */
export function buildFromSource(url: string, s: Pick<SourceBuild, "ref" | "make">): string {
  const build = s.make
    ? [`make -j"$(nproc)" prefix=${PREFIX} DESTDIR=${OUT} ${s.make.map(shellQuote).join(" ")}`]
    : [
        `if [ -f CMakeLists.txt ]; then`,
        `  cmake -S . -B /build/cmake -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=${PREFIX}`,
        `  cmake --build /build/cmake -j"$(nproc)"`,
        `  DESTDIR=${OUT} cmake --install /build/cmake`,
        `else`,
        `  if [ -x ./configure ]; then ./configure --prefix=${PREFIX}; fi`,
        `  make -j"$(nproc)"`,
        `  make install prefix=${PREFIX} DESTDIR=${OUT}`,
        `fi`,
      ];
  return [
    `git -c safe.directory='*' -c advice.detachedHead=false clone -q --depth 1 --branch ${shellQuote(s.ref)} -- ${shellQuote(url)} /build/src`,
    `cd /build/src`,
    ...build,
    `[ -n "$(find ${OUT}${PREFIX} ! -type d 2>/dev/null | head -1)" ] || { echo "building ${s.ref} installed nothing under ${PREFIX}"; exit 1; }`,
  ].join("\n");
}

function sourceCheck(s: SourceBuild): SmokeCheck {
  const found = `command -v ${s.name} || { echo "${s.name} (built from ${s.ref}) is not on PATH"; exit 1; }`;
  if (s.version === undefined) return { name: `${s.name} from ${s.ref} installed`, script: found };
  return {
    name: `${s.name} ${s.version} from ${s.ref} runs`,
    script: [found, `out=$(${s.name} --version 2>&1) && echo "$out" && echo "$out" | grep -qF -- ${shellQuote(s.version)} || { echo "${s.name} --version: '$out', expected ${s.version}"; exit 1; }`].join("\n"),
  };
}
