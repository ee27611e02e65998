// One recipe per image kind; this picks it for a target.
import type { ImageKind, Matrix } from "../matrix/schema.js";
import type { Target } from "../plan/types.js";
import { extbuilderRecipe } from "./extbuilder.js";
import { exttesterRecipe } from "./exttester.js";
import { extupgradetesterRecipe } from "./extupgradetester.js";
import { failtesterRecipe } from "./failtester.js";
import { operandRecipe } from "./operand.js";
import { pgupgradetesterRecipe } from "./pgupgradetester.js";
import { stylecheckerRecipe } from "./stylechecker.js";
import type { Recipe } from "./types.js";

export interface RecipeContext {
  pgdg: Matrix["pgdg"];
  /** Text of files the matrix names (requirements files), by their path relative to the matrix. */
  files: ReadonlyMap<string, string>;
}

const RECIPES: Record<ImageKind, (target: Target, ctx: RecipeContext) => Recipe> = {
  operand: operandRecipe,
  extbuilder: extbuilderRecipe,
  exttester: exttesterRecipe,
  failtester: failtesterRecipe,
  pgupgradetester: pgupgradetesterRecipe,
  extupgradetester: extupgradetesterRecipe,
  stylechecker: stylecheckerRecipe,
};

export function recipeFor(target: Target, ctx: RecipeContext): Recipe {
  return RECIPES[target.kind](target, ctx);
}

/** Paths of files (relative to the matrix) whose text recipes embed, so the shell can read them. */
export function filesNeeded(m: Matrix): string[] {
  return [...new Set(m.images.flatMap((i) => (i.requirements ? [i.requirements] : [])))].sort();
}
