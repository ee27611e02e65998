// Dependency order and filters over targets.
import { INPUT, known, type Problem } from "../matrix/problems.js";
import type { Filters, Plan, PlannedTarget, Target } from "./types.js";

/**
 * Targets ordered so each comes after the one it is built from; ties broken by id, so the same
 * targets always give the same order.
 */
export function buildOrder<T extends Pick<Target, "id" | "from">>(targets: readonly T[]): T[] {
  const byId = new Map(targets.map((t) => [t.id, t]));
  const depths = new Map<string, number>();
  const depth = (t: T): number => {
    let d = depths.get(t.id);
    if (d === undefined) {
      d = t.from && byId.has(t.from) ? 1 + depth(byId.get(t.from)!) : 0;
      depths.set(t.id, d);
    }
    return d;
  };
  return [...targets].sort((a, b) => depth(a) - depth(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Ids picked by the filters, plus every target they are built on. */
export function selectTargets(targets: readonly Target[], f: Filters): { picked: Set<string>; needed: Set<string> } {
  const matches = (t: Target) =>
    (!f.image?.length || f.image.includes(t.image)) &&
    (!f.pg?.length || t.postgres.some((p) => f.pg!.includes(p.major))) &&
    (!f.distro?.length || (t.distro !== undefined && f.distro.includes(t.distro))) &&
    (!f.flavour?.length || (t.flavour !== undefined && f.flavour.includes(t.flavour)));
  const byId = new Map(targets.map((t) => [t.id, t]));
  const picked = new Set(targets.filter(matches).map((t) => t.id));
  const needed = new Set<string>();
  for (const id of picked) {
    for (let t = byId.get(id); t; t = t.from ? byId.get(t.from) : undefined) needed.add(t.id);
  }
  return { picked, needed };
}

/**
 * Filter values that pick nothing, each named with the values there are, and the filters
 * together when each matches something but no target matches them all.
 */
export function filterProblems(targets: readonly Target[], f: Filters, picked: ReadonlySet<string>): Problem[] {
  const axes: [keyof Filters, (t: Target) => (string | number)[]][] = [
    ["image", (t) => [t.image]],
    ["pg", (t) => t.postgres.map((p) => p.major)],
    ["distro", (t) => (t.distro === undefined ? [] : [t.distro])],
    ["flavour", (t) => (t.flavour === undefined ? [] : [t.flavour])],
  ];
  const problems: Problem[] = axes.flatMap(([flag, values]) => {
    const there = new Set(targets.flatMap(values));
    return (f[flag] ?? []).filter((v) => !there.has(v)).map((v) => ({ path: [INPUT, flag], message: `${JSON.stringify(v)} matches no target; ${known(there)}` }));
  });
  const given = axes.filter(([flag]) => (f[flag]?.length ?? 0) > 0);
  if (problems.length === 0 && given.length > 0 && picked.size === 0) {
    const flags = given.flatMap(([flag]) => f[flag]!.map((v) => `--${flag} ${v}`)).join(" ");
    problems.push({ path: [INPUT, given[0]![0]], message: `${flags} together match no target; drop one of them` });
  }
  return problems;
}

/** A planned target by id; the error lists the ids there are. */
export function findTarget(plan: Plan, id: string): PlannedTarget {
  const t = plan.targets.find((x) => x.id === id);
  if (!t) throw new Error(`no target "${id}" in the plan; targets: ${plan.targets.map((x) => x.id).join(", ")}`);
  return t;
}
