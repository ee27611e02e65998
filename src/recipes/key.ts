// The input key: a hash of everything that decides an image's content. Same key, same image:
// that is what lets a run skip building and publishing what has not changed.
import { createHash } from "node:crypto";
import type { Recipe } from "./types.js";

/** Canonical JSON: object keys sorted, so equal data always hashes the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * Recipe steps, base and artifacts, the platforms built, plus the key of the target it is built
 * on. Smoke checks are left out: a changed check re-tests an image, it does not change it.
 */
export function inputKey(recipe: Recipe, platforms: readonly string[], parentKey?: string): string {
  const { base, steps, artifacts } = recipe;
  return "sha256:" + sha256(canonicalJson({ base, steps, artifacts, platforms, parentKey: parentKey ?? null }));
}
