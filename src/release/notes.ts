// Release notes from two SBOMs: what a new image adds, removes, upgrades and downgrades against
// the image it replaces, with a loud line when the C library or ICU changed (collations).
import semver from "semver";
import { byKey } from "../plan/order.js";
import { compareDebianVersions } from "./debversion.js";

export interface Package {
  /** purl type: deb, pypi, … */
  type: string;
  name: string;
  version: string;
}

export interface PackageDiff {
  added: Package[];
  removed: Package[];
  upgraded: { name: string; type: string; from: string; to: string }[];
  downgraded: { name: string; type: string; from: string; to: string }[];
  /** Version changed in an ecosystem whose order is not known here (PyPI, Maven, …): no direction claimed. */
  changed: { name: string; type: string; from: string; to: string }[];
  /** Changed packages whose change can reorder text indexes: glibc, ICU. */
  collationRisk: string[];
}

interface SpdxDocument {
  packages?: { name?: string; versionInfo?: string; externalRefs?: { referenceType?: string; referenceLocator?: string }[] }[];
}

/** Packages of an SPDX JSON document as syft writes it, keyed by their purl type. */
export function packagesFromSpdx(json: string): Package[] {
  const doc = JSON.parse(json) as SpdxDocument;
  return (doc.packages ?? []).flatMap((p) => {
    const purl = p.externalRefs?.find((r) => r.referenceType === "purl")?.referenceLocator;
    const type = purl ? /^pkg:([^/]+)\//.exec(purl)?.[1] : undefined;
    return type && p.name && p.versionInfo ? [{ type, name: p.name, version: p.versionInfo }] : [];
  });
}

// purl types whose versions are semver by the ecosystem's own rules (Go writes a leading "v").
const SEMVER_TYPES = new Set(["npm", "cargo", "golang"]);

/**
 * Order two versions of one package by its ecosystem's rules: dpkg's for deb, semver's for
 * npm, Cargo and Go. Undefined where the order is not known here, rather than a guess.
 */
export function compareVersions(type: string, a: string, b: string): number | undefined {
  if (type === "deb") return compareDebianVersions(a, b);
  if (!SEMVER_TYPES.has(type)) return undefined;
  const parse = (v: string) => semver.parse(type === "golang" ? v.replace(/^v/, "") : v);
  const [pa, pb] = [parse(a), parse(b)];
  return pa && pb ? semver.compare(pa, pb) : undefined;
}

const COLLATION = [/^libc6$/, /^libc-bin$/, /^libicu\d+/];

export function diffPackages(before: readonly Package[], after: readonly Package[]): PackageDiff {
  const key = (p: Package) => `${p.type}/${p.name}`;
  const old = new Map(before.map((p) => [key(p), p]));
  const now = new Map(after.map((p) => [key(p), p]));
  const diff: PackageDiff = { added: [], removed: [], upgraded: [], downgraded: [], changed: [], collationRisk: [] };
  for (const [k, p] of now) {
    const was = old.get(k);
    if (!was) diff.added.push(p);
    else if (was.version !== p.version) {
      const cmp = compareVersions(p.type, p.version, was.version);
      const list = cmp === undefined ? diff.changed : cmp >= 0 ? diff.upgraded : diff.downgraded;
      list.push({ name: p.name, type: p.type, from: was.version, to: p.version });
    }
  }
  for (const [k, p] of old) if (!now.has(k)) diff.removed.push(p);
  const touched = [...diff.added, ...diff.removed, ...diff.upgraded, ...diff.downgraded, ...diff.changed].map((p) => p.name);
  diff.collationRisk = [...new Set(touched.filter((n) => COLLATION.some((re) => re.test(n))))].sort();
  const byName = byKey((p: { type: string; name: string }) => `${p.type}/${p.name}`);
  for (const list of [diff.added, diff.removed, diff.upgraded, diff.downgraded, diff.changed]) list.sort(byName);
  return diff;
}

/** Markdown for one target's release. */
export function releaseNotes(title: string, replaces: string | undefined, diff: PackageDiff | undefined, why?: string): string {
  const lines = [`## ${title}`, "", ...(why ? [`Why: ${why}`, ""] : [])];
  if (!replaces || !diff) return [...lines, "First release of this image: nothing to compare with.", ""].join("\n");
  lines.push(`Compared with ${replaces}.`, "");
  if (diff.collationRisk.length > 0) {
    lines.push(
      `**WARNING: ${diff.collationRisk.join(", ")} changed. Collation order may differ: reindex text indexes of existing databases (and check amcheck) before relying on them.**`,
      "",
    );
  }
  const section = (name: string, items: string[]) => (items.length ? [`### ${name} (${items.length})`, ...items.map((i) => `- ${i}`), ""] : []);
  lines.push(
    ...section("Upgraded", diff.upgraded.map((p) => `${p.name} ${p.from} → ${p.to}`)),
    ...section("Downgraded", diff.downgraded.map((p) => `${p.name} ${p.from} → ${p.to}`)),
    ...section("Changed (no known order)", diff.changed.map((p) => `${p.name} (${p.type}) ${p.from} → ${p.to}`)),
    ...section("Added", diff.added.map((p) => `${p.name} ${p.version}`)),
    ...section("Removed", diff.removed.map((p) => `${p.name} ${p.version}`)),
  );
  if (diff.added.length + diff.removed.length + diff.upgraded.length + diff.downgraded.length + diff.changed.length === 0) lines.push("No package changed.", "");
  return lines.join("\n");
}
