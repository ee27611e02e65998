// Freshness: a target is changed when its recipe changed or when the packages it would hold
// changed. What apt would install is resolved against the archive of the run (a simulation, no
// build) and folded into the target's input key, so an archive update is a new key and nothing
// else is. Pure: the engine side runs the simulation and reads the registry.
import { canonicalJson, sha256 } from "../recipes/key.js";
import { KEYS } from "../plan/metadata.js";
import type { Plan, PlannedTarget } from "../plan/types.js";
import { byKey } from "../plan/order.js";

/** One package as apt resolves it. The origin (archive and suite) says where an update came from. */
export interface LockedPackage {
  name: string;
  version: string;
  arch: string;
  origin: string;
}

/** What a target would hold beyond its base image, per platform. */
export type Lock = Record<string, LockedPackage[]>;

// apt-get -s prints one "Inst" line per package it would unpack:
//   Inst libssl3 [3.0.14-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])
const INST = /^Inst (\S+)(?: \[[^\]]*\])? \((\S+) (.*) \[([^\]]+)\]\)/;

/**
 * The packages of apt-get -s output (install and upgrade simulations, concatenated). A package
 * named twice keeps its last line: the install simulation comes after the upgrade one.
 */
export function parseSimulation(text: string): LockedPackage[] {
  const found = new Map<string, LockedPackage>();
  for (const line of text.split("\n")) {
    const m = INST.exec(line);
    if (m) found.set(`${m[1]}:${m[4]}`, { name: m[1]!, version: m[2]!, arch: m[4]!, origin: m[3]!.trim() });
  }
  return [...found.values()].sort(byKey((p) => `${p.name}:${p.arch}`));
}

/** The lock's key: names, versions and architectures (not origins: the same bytes from another suite are the same package). */
export function packagesKey(lock: Lock): string {
  const lines = Object.keys(lock)
    .sort()
    .flatMap((platform) => lock[platform]!.map((p) => `${platform} ${p.name} ${p.version} ${p.arch}`));
  return "sha256:" + sha256(lines.join("\n"));
}

/** The key a target is published under: its recipe, its packages and its parent's key. */
export function resolvedKey(recipeKey: string, lockKey: string, parentKey: string | undefined): string {
  return "sha256:" + sha256(canonicalJson({ recipe: recipeKey, packages: lockKey, parent: parentKey ?? null }));
}

/**
 * The plan with each target's packages folded in: inputKey becomes the resolved key (parents
 * first, so a changed parent changes its children), and the labels carry the recipe's key and the
 * packages' key apart, so a later run can say which of the two changed.
 */
export function resolvePlan(plan: Plan, locks: ReadonlyMap<string, Lock>): Plan {
  const keys = new Map<string, string>();
  const targets = plan.targets.map((t): PlannedTarget => {
    const lock = locks.get(t.id);
    // Unresolved (apt refused a pin): the target fails before it builds; its key stays the recipe's.
    if (!lock) {
      keys.set(t.id, t.inputKey);
      return t;
    }
    const lockKey = packagesKey(lock);
    const key = resolvedKey(t.recipeKey, lockKey, t.from ? keys.get(t.from) : undefined);
    keys.set(t.id, key);
    const annotations = { ...t.annotations, [KEYS.inputKey]: key, [KEYS.recipeKey]: t.recipeKey, [KEYS.packagesKey]: lockKey };
    return { ...t, inputKey: key, annotations: Object.fromEntries(Object.entries(annotations).sort(byKey(([k]) => k))) };
  });
  return { ...plan, targets };
}

export interface PackageChange {
  name: string;
  arch: string;
  before?: string;
  after?: string;
  origin?: string;
}

/** What differs between two locks, every platform folded together (a change on two platforms is one change). */
export function diffLocks(before: Lock, after: Lock): PackageChange[] {
  const index = (lock: Lock) => {
    const m = new Map<string, LockedPackage>();
    for (const packages of Object.values(lock)) for (const p of packages) m.set(`${p.name}:${p.arch}`, p);
    return m;
  };
  const [was, now] = [index(before), index(after)];
  const changes: PackageChange[] = [];
  for (const key of [...new Set([...was.keys(), ...now.keys()])].sort()) {
    const [b, a] = [was.get(key), now.get(key)];
    if (b?.version === a?.version) continue;
    const p = (a ?? b)!;
    changes.push({ name: p.name, arch: p.arch, ...(b ? { before: b.version } : {}), ...(a ? { after: a.version, origin: a.origin } : {}) });
  }
  return changes;
}

/** One change as the report says it: `libssl3 3.0.15-1~deb12u1 → 3.0.16-1~deb12u1 (Debian-Security:12/stable-security)`. */
export function formatChange(c: PackageChange): string {
  if (!c.before) return `${c.name} ${c.after} added (${c.origin})`;
  if (!c.after) return `${c.name} ${c.before} removed`;
  return `${c.name} ${c.before} → ${c.after} (${c.origin})`;
}

/** What the first alias holds now: its labels, and the lock published beside it when there is one. */
export interface CurrentImage {
  labels: Record<string, string>;
  lock?: Lock;
}

export interface Freshness {
  changed: boolean;
  /** One line: `unchanged (same packages)`, `changed: recipe (…)`, `changed: parent …`, `changed: <package> a → b (…)`. */
  reason: string;
}

const SHOWN = 3;

/**
 * Changed or not, and why, in the order a reader needs: the recipe first (it explains every other
 * difference), then the parent (its packages are the child's too), then the packages themselves.
 */
export function decideFreshness(
  t: Pick<PlannedTarget, "inputKey" | "recipeKey" | "postgres">,
  lock: Lock,
  alias: string | undefined,
  current: CurrentImage | undefined,
  parent?: { id: string; changed: boolean },
): Freshness {
  if (!alias) return { changed: true, reason: "changed: no alias to compare with" };
  if (!current) return { changed: true, reason: `changed: ${alias} does not exist yet` };
  const held = current.labels;
  if (held[KEYS.inputKey] === t.inputKey) return { changed: false, reason: "unchanged (same packages)" };
  if (held[KEYS.recipeKey] !== t.recipeKey) {
    const was = held[KEYS.pgVersion];
    const now = t.postgres.map((p) => p.version).join(" ");
    return { changed: true, reason: `changed: recipe${was && now && was !== now ? ` (PostgreSQL ${was} → ${now})` : ""}` };
  }
  if (parent?.changed) return { changed: true, reason: `changed: parent ${parent.id}` };
  if (!current.lock) return { changed: true, reason: `changed: packages (${alias} has no package record to compare with)` };
  const changes = diffLocks(current.lock, lock);
  if (changes.length === 0) return { changed: true, reason: "changed: packages (same versions, other architectures or platforms)" };
  const shown = changes.slice(0, SHOWN).map(formatChange).join(", ");
  return { changed: true, reason: `changed: ${shown}${changes.length > SHOWN ? ` and ${changes.length - SHOWN} more` : ""}` };
}

/** The lock as the file published beside each image (packages.lock.json). */
export function lockFile(lock: Lock): string {
  return canonicalJson(lock) + "\n";
}

export function parseLockFile(text: string): Lock | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
    return value as Lock;
  } catch {
    return undefined;
  }
}
