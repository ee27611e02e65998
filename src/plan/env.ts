// Environment variables as data: the kind's defaults (kinds.ts) merged with the image's `env`,
// placeholders filled per target. Pure.
import { KINDS, type ImageKind } from "../kinds.js";
import { byKey } from "./order.js";
import type { PgVersion } from "./types.js";

/** Every placeholder an env value may use; which a kind may use: envPlaceholders. */
export const ENV_PLACEHOLDERS = ["major", "version", "versions", "majors", "extensionVersions"] as const;
export type EnvPlaceholder = (typeof ENV_PLACEHOLDERS)[number];

/**
 * The placeholders that mean something for a kind: one major and version where a target has one,
 * all of them (space-separated) where it has any, the carried versions on an upgrade tester.
 */
export function envPlaceholders(kind: ImageKind): readonly EnvPlaceholder[] {
  const postgres = KINDS[kind].postgres;
  const pg: EnvPlaceholder[] = postgres === "one" ? ["major", "version", "versions", "majors"] : postgres === "every" ? ["versions", "majors"] : [];
  return kind === "extupgradetester" ? [...pg, "extensionVersions"] : pg;
}

/** The names in a template, in order of appearance: "{major}-{x}" → ["major", "x"]. */
export function placeholdersIn(template: string): string[] {
  return [...template.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]!);
}

export interface EnvValues {
  postgres: readonly PgVersion[];
  /** The older extension versions an upgrade tester carries for this target. */
  extensionVersions?: readonly string[];
}

/** A template with its placeholders filled; names the rules refused never reach here. */
export function fillEnv(template: string, v: EnvValues): string {
  const values: Record<EnvPlaceholder, string> = {
    major: String(v.postgres[0]?.major ?? ""),
    version: v.postgres[0]?.version ?? "",
    versions: v.postgres.map((p) => p.version).join(" "),
    majors: v.postgres.map((p) => String(p.major)).join(" "),
    extensionVersions: (v.extensionVersions ?? []).join(" "),
  };
  return template.replace(/\{([^}]*)\}/g, (whole, name: string) => (name in values ? values[name as EnvPlaceholder] : whole));
}

/** The kind's defaults with the image's env over them (null removes one), filled, sorted by name. */
export function resolveEnv(kind: ImageKind, env: Readonly<Record<string, string | null>> | undefined, v: EnvValues): { name: string; value: string }[] {
  const merged: Record<string, string | null> = { ...KINDS[kind].env, ...env };
  return Object.entries(merged)
    .flatMap(([name, value]) => (value === null ? [] : [{ name, value: fillEnv(value, v) }]))
    .sort(byKey((e) => e.name));
}

/** The kind's default packages with the image's over them (null removes one), sorted by name. */
export function resolvePackages(kind: ImageKind, packages: Readonly<Record<string, string | null>> | undefined): { name: string; version: string }[] {
  const merged: Record<string, string | null> = { ...Object.fromEntries(KINDS[kind].packages.map((p) => [p, ""])), ...packages };
  return Object.entries(merged)
    .flatMap(([name, version]) => (version === null ? [] : [{ name, version }]))
    .sort(byKey((e) => e.name));
}
