// The default matrix planned once, with the recipe context the CLI would pass.
import { readFileSync } from "node:fs";
import { planFromText } from "../../src/plan/fromText.js";
import type { ImageKind } from "../../src/kinds.js";
import type { Planned, PlannedTarget, TargetOf } from "../../src/plan/types.js";
import type { RecipeContext } from "../../src/recipes/index.js";
import type { Recipe } from "../../src/recipes/types.js";

export const files = new Map(["images/failtester/requirements.txt", "images/stylechecker/requirements.txt"].map((p) => [p, readFileSync(p, "utf8")]));
const planned = planFromText(readFileSync("matrix.yaml", "utf8"), "matrix.yaml", {
  inputs: { timestamp: "202611231530", revision: "abc1234" },
  files,
});
export const plan = planned.plan;
export const ctx: RecipeContext = { pgdg: planned.matrix.pgdg, files };

export function target(id: string): PlannedTarget {
  const t = plan.targets.find((x) => x.id === id);
  if (!t) throw new Error(`no target ${id}`);
  return t;
}

/** A target of a known kind, typed as that kind's target. */
export function targetOf<K extends ImageKind>(id: string, kind: K): TargetOf<K> & Planned {
  const t = target(id);
  if (!isKind(t, kind)) throw new Error(`${id} is a ${t.kind}, not a ${kind}`);
  return t;
}

const isKind = <K extends ImageKind>(t: PlannedTarget, kind: K): t is TargetOf<K> & Planned => t.kind === kind;

/** Every run script of a recipe, its artifacts' first. */
export const runScripts = (r: Recipe) => [...r.artifacts.flatMap((a) => a.steps), ...r.steps].flatMap((s) => (s.op === "run" ? [s.script] : []));

/** Every package on an `apt-get install` line of a recipe, as written. */
export function installed(r: Recipe): string[] {
  return runScripts(r).flatMap((script) =>
    [...script.replaceAll("\\\n", " ").matchAll(/apt-get install ([^\n]*)/g)].flatMap((m) => m[1]!.split(/\s+/).filter((w) => w && !w.startsWith("-"))),
  );
}
