// Dependency order and filters over targets.
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

/** A planned target by id; the error lists the ids there are. */
export function findTarget(plan: Plan, id: string): PlannedTarget {
  const t = plan.targets.find((x) => x.id === id);
  if (!t) throw new Error(`no target "${id}" in the plan; targets: ${plan.targets.map((x) => x.id).join(", ")}`);
  return t;
}
