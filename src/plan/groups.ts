// CI fan-out, computed once for every provider: the plan's targets grouped by dependency chain,
// each group with the filters that pick exactly its targets. build-all and publish build a
// target's parents in the same engine session, so a chain never spans two jobs; chains are
// independent, so each can run on its own runner. CI files only format this (a job matrix, a
// child pipeline); none groups targets itself.
import type { Problem } from "../matrix/problems.js";
import { selectTargets } from "./graph.js";
import { byCodeUnit } from "./order.js";
import type { Filters, Target } from "./types.js";

export interface Group {
  /** The chain's root target id; names the CI job. */
  group: string;
  /** Target ids of the chain, in build order. */
  targets: string[];
  /** The filters that pick exactly these targets. */
  filters: Required<Pick<Filters, "image" | "pg" | "distro">>;
  /** The same filters as command-line flags: "--image minimal --image standard --pg 17 --distro trixie". */
  args: string;
}

/**
 * Groups `planned` (in build order) by the root of each target's `from` chain. `all` is every
 * target of the matrix, unfiltered: a group's filters must pick none of another group's targets
 * there, or two jobs would build (and publish) it.
 */
export function groupTargets(planned: readonly Target[], all: readonly Target[]): { groups: Group[]; problems: Problem[] } {
  const byId = new Map(all.map((t) => [t.id, t]));
  const root = (t: Target): string => {
    let r = t;
    while (r.from && byId.has(r.from)) r = byId.get(r.from)!;
    return r.id;
  };
  const chains = new Map<string, Target[]>();
  for (const t of planned) chains.set(root(t), [...(chains.get(root(t)) ?? []), t]);
  const groups: Group[] = [];
  const problems: Problem[] = [];
  for (const [group, targets] of [...chains].sort(([a], [b]) => byCodeUnit(a, b))) {
    const filters = {
      image: unique(targets.map((t) => t.image)).sort(byCodeUnit),
      pg: unique(targets.flatMap((t) => t.postgres.map((p) => p.major))).sort((a, b) => a - b),
      distro: unique(targets.flatMap((t) => (t.distro === undefined ? [] : [t.distro]))).sort(byCodeUnit),
    };
    const ids = new Set(targets.map((t) => t.id));
    const extra = [...selectTargets(all, filters).picked].filter((id) => !ids.has(id)).sort(byCodeUnit);
    const args = [...filters.image.map((v) => `--image ${v}`), ...filters.pg.map((v) => `--pg ${v}`), ...filters.distro.map((v) => `--distro ${v}`)].join(" ");
    if (extra.length > 0) {
      problems.push({
        path: ["images"],
        message: `the CI group ${group} (${args}) would also pick ${extra.join(", ")}, which another group builds, so two CI jobs would build it; give the images of one chain pg and distros of their own, so filters can pick each chain alone`,
      });
    }
    groups.push({ group, targets: targets.map((t) => t.id), filters, args });
  }
  return { groups, problems };
}

const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

