// One recipe per image kind; this picks it for a target.
import type { Matrix } from "../matrix/schema.js";
import type { Target } from "../plan/types.js";
import type { Recipe } from "./types.js";

export interface RecipeContext {
  pgdg: Matrix["pgdg"];
  /** Text of files the matrix names (requirements files), by their path relative to the matrix. */
  files: ReadonlyMap<string, string>;
}

export function recipeFor(target: Target, _ctx: RecipeContext): Recipe {
  return {
    target: target.id,
    base: target.from ? { target: target.from } : { image: target.base },
    artifacts: [],
    steps: [],
    smoke: [],
  };
}

/** Paths of files (relative to the matrix) whose text recipes embed, so the shell can read them. */
export function filesNeeded(m: Matrix): string[] {
  return [...new Set(m.images.flatMap((i) => (i.requirements ? [i.requirements] : [])))].sort();
}
