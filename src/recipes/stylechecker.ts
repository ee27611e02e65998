// stylechecker: pinned code style tools on a digest-pinned base: Python tools in a venv at exact
// versions, apt tools (shellcheck, uncrustify) at pinned versions from the base's release.
import type { StylecheckerTarget } from "../plan/types.js";
import { aptInstall, pinned } from "./apt.js";
import type { Recipe, SmokeCheck } from "./types.js";

export const STYLE_VENV = "/opt/pg-images/style/venv";

/** How to ask each known tool its version; others are asked with --version. */
const VERSION_ARGS: Record<string, string> = { shellcheck: "--version", uncrustify: "--version" };

export function stylecheckerRecipe(target: StylecheckerTarget): Recipe {
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
  ];
  return {
    target: target.id,
    base: { image: target.base },
    artifacts: [],
    steps: [
      aptInstall(["ca-certificates", "python3", "python3-venv", ...apt.map((p) => pinned(p.name, p.version || undefined))], "base"),
      {
        op: "run",
        script: [`python3 -m venv ${STYLE_VENV}`, `${STYLE_VENV}/bin/pip install --no-cache-dir ${python.map((t) => `${t.name}==${t.version}`).join(" ")}`].join("\n"),
      },
      { op: "env", name: "PATH", value: `${STYLE_VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` },
    ],
    smoke: checks,
  };
}
