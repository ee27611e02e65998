// Recipe steps → Dockerfile text, for users who build without the pipeline.
import { recipeFor, type RecipeContext } from "../recipes/index.js";
import type { Plan } from "../plan/types.js";

export function dockerfileFor(plan: Plan, targetId: string, ctx: RecipeContext): string {
  const recipe = recipeFor(plan.targets.find((t) => t.id === targetId)!, ctx);
  return `FROM ${"image" in recipe.base ? recipe.base.image : recipe.base.target}\n`;
}
