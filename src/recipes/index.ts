// One recipe per image kind; this picks it for a target. The kind's name is the reference from
// the table in kinds.ts (see there why the recipe is not a field of it).
import type { ImageKind } from "../kinds.js";
import type { Matrix } from "../matrix/schema.js";
import type { Problem } from "../matrix/problems.js";
import type { Target, TargetOf } from "../plan/types.js";
import { customise } from "./customise.js";
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

/** Each recipe takes its own kind's target type, so it reads only what that kind guarantees. */
const RECIPES: { [K in ImageKind]: (target: TargetOf<K>, ctx: RecipeContext) => Recipe } = {
  operand: operandRecipe,
  extbuilder: extbuilderRecipe,
  exttester: exttesterRecipe,
  failtester: failtesterRecipe,
  pgupgradetester: pgupgradetesterRecipe,
  extupgradetester: extupgradetesterRecipe,
  stylechecker: stylecheckerRecipe,
};

/** The kind's recipe for a target, with the image's own customisation (env, CI user) appended. */
export function recipeFor(target: Target, ctx: RecipeContext): Recipe {
  return customise(recipeOf(target, ctx), target);
}

// Generic over the kind, so the compiler pairs the target with its own kind's recipe.
function recipeOf<K extends ImageKind>(target: TargetOf<K>, ctx: RecipeContext): Recipe {
  const recipe: (target: TargetOf<K>, ctx: RecipeContext) => Recipe = RECIPES[target.kind];
  return recipe(target, ctx);
}

/** Paths of files (relative to the matrix) whose text recipes embed, so the shell can read them. */
export function filesNeeded(m: Matrix): string[] {
  return [...new Set(m.images.flatMap((i) => (i.requirements ? [i.requirements] : [])))].sort();
}

/** Each file that could not be read (path → why) as a problem of the image that names it. */
export function unreadableFileProblems(m: Matrix, matrixPath: string, failed: ReadonlyMap<string, string>): Problem[] {
  return m.images.flatMap((img, i) => {
    const reason = img.requirements === undefined ? undefined : failed.get(img.requirements);
    return reason ? [{ path: ["images", i, "requirements"], message: `file "${img.requirements}" next to ${matrixPath}: ${reason}` }] : [];
  });
}
