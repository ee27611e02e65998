// The default matrix planned once, with the recipe context the CLI would pass.
import { readFileSync } from "node:fs";
import { planFromText } from "../../src/plan/fromText.js";
import type { PlannedTarget } from "../../src/plan/types.js";
import type { RecipeContext } from "../../src/recipes/index.js";

const REQUIREMENTS = "images/failtester/requirements.txt";
export const files = new Map([[REQUIREMENTS, readFileSync(REQUIREMENTS, "utf8")]]);
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
