// Pins bumped from the package source: the PostgreSQL minors and the extensions' versions
// matrix.yaml pins, compared with what the configured archive carries for every distro that
// installs them, and matrix.yaml rewritten in place (comments and layout kept). Pure: the engine
// side asks apt what each distro's sources carry.
import { isScalar, parseDocument } from "yaml";
import { compareDebianVersions } from "../release/debversion.js";
import { comparePgVersions, parsePgVersion } from "../plan/pgversion.js";
import type { Matrix } from "./schema.js";

/** A package whose versions apt is asked for on one distro. */
export interface PinQuery {
  distro: string;
  package: string;
}

/** One pin of matrix.yaml: where it is, what it says, and the packages that decide it. */
interface Pin {
  path: (string | number)[];
  /** postgres: an upstream version ("17.9"); extension: an apt pattern ("1.7.0-*") or version. */
  kind: "postgres" | "extension";
  current: string;
  packages: PinQuery[];
  preview: boolean;
}

export interface PinBump {
  /** Key path in matrix.yaml as shown: postgres.1.version, extensions.pgaudit.pins.pgdg.17. */
  path: string;
  /** The same path as keys: list indexes are numbers, map keys strings (a major as "17"). */
  keys: (string | number)[];
  from: string;
  to: string;
}

export interface PinReport {
  bumps: PinBump[];
  /** Pins left alone, with why (nothing newer everywhere, or not carried at all). */
  kept: { path: string; pin: string; reason: string }[];
}

const distrosWith = (m: Matrix, major: number) => m.distros.filter((d) => d.pg.includes(major)).map((d) => d.name);

function pinsOf(m: Matrix): Pin[] {
  const pins: Pin[] = m.postgres.map((p, i) => ({
    path: ["postgres", i, "version"],
    kind: "postgres",
    current: p.version,
    preview: p.preview,
    packages: distrosWith(m, p.major).map((distro) => ({ distro, package: `postgresql-${p.major}` })),
  }));
  for (const [name, ext] of Object.entries(m.extensions)) {
    for (const [major, pin] of Object.entries(ext.pins[m.packageSource] ?? {})) {
      const pg = m.postgres.find((p) => p.major === Number(major));
      pins.push({
        path: ["extensions", name, "pins", m.packageSource, major],
        kind: "extension",
        current: pin,
        preview: pg?.preview ?? false,
        packages: distrosWith(m, Number(major)).map((distro) => ({ distro, package: ext.package.replaceAll("{major}", major) })),
      });
    }
  }
  return pins;
}

/** Every package version the bump needs to know, one query per distro and package. */
export function pinQueries(m: Matrix): PinQuery[] {
  const seen = new Map<string, PinQuery>();
  for (const pin of pinsOf(m)) for (const q of pin.packages) seen.set(`${q.distro} ${q.package}`, q);
  return [...seen.values()];
}

/** `apt-cache madison` lines → package → versions, for one distro. */
export function parseMadison(text: string): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const [name, version] = line.split("|").map((s) => s.trim());
    if (name && version && /^[a-z0-9][a-z0-9+.-]*$/.test(name)) found.set(name, [...new Set([...(found.get(name) ?? []), version])]);
  }
  return found;
}

/** "17.9-1.pgdg120+1" → "17.9"; "19~beta3-1.pgdg120+1" → "19~beta3". */
const upstreamOf = (debian: string) => debian.replace(/^\d+:/, "").replace(/-[^-]*$/, "");

/** The version a pin moves to, as the pin is written: "1.7.0-*" stays a pattern, an exact version stays exact. */
function asPin(current: string, debian: string, kind: Pin["kind"]): string {
  if (kind === "postgres") return upstreamOf(debian);
  return current.endsWith("-*") ? `${upstreamOf(debian)}-*` : debian;
}

/**
 * For each pin, the newest version every distro that installs it carries (so no target is left
 * with a pin its archive lacks); previews move only to newer previews, releases to releases.
 */
export function proposeBumps(m: Matrix, available: ReadonlyMap<string, ReadonlyMap<string, readonly string[]>>): PinReport {
  const report: PinReport = { bumps: [], kept: [] };
  for (const pin of pinsOf(m)) {
    const path = pin.path.join(".");
    const candidates = pin.packages.map((q) =>
      (available.get(q.distro)?.get(q.package) ?? []).map((v) => asPin(pin.current, v, pin.kind)).filter((v) => pin.kind !== "postgres" || isRelease(v, pin.preview)),
    );
    const everywhere = candidates.reduce((acc, list) => acc.filter((v) => list.includes(v)), [...new Set(candidates[0] ?? [])]);
    const newest = everywhere.sort(pin.kind === "postgres" ? comparePgVersions : compareDebianPins).at(-1);
    if (!newest) {
      report.kept.push({ path, pin: pin.current, reason: `no version that ${pin.packages.map((q) => `${q.distro} (${q.package})`).join(" and ")} all carry` });
      continue;
    }
    const newer = pin.kind === "postgres" ? comparePgVersions(newest, pin.current) > 0 : compareDebianPins(newest, pin.current) > 0;
    if (newer) report.bumps.push({ path, keys: pin.path, from: pin.current, to: newest });
    else report.kept.push({ path, pin: pin.current, reason: "newest carried everywhere" });
  }
  return report;
}

function isRelease(version: string, preview: boolean): boolean {
  const p = parsePgVersion(version);
  return p !== undefined && (p.stage !== undefined) === preview;
}

/** Debian order of two pins, a "-*" pattern compared by its upstream part. */
function compareDebianPins(a: string, b: string): number {
  const strip = (v: string) => v.replace(/-\*$/, "");
  return compareDebianVersions(strip(a), strip(b));
}

/**
 * matrix.yaml with the bumps applied as edits of the text itself: each pin's scalar is replaced
 * where it stands, in its own quotes, so every other byte (comments, flow style, spacing) stays.
 */
export function applyBumps(text: string, bumps: readonly PinBump[]): string {
  const doc = parseDocument(text);
  const edits = bumps.map((b) => {
    const node = doc.getIn(b.keys, true);
    if (!isScalar(node) || String(node.value) !== b.from || !node.range) {
      throw new Error(`${b.path}: expected ${b.from} in the matrix, found ${isScalar(node) ? String(node.value) : "no value"}`);
    }
    const [start, end] = node.range;
    const quote = text[start] === '"' || text[start] === "'" ? text[start]! : "";
    return { start, end, with: `${quote}${b.to}${quote}` };
  });
  let out = text;
  for (const e of edits.sort((x, y) => y.start - x.start)) out = out.slice(0, e.start) + e.with + out.slice(e.end);
  return out;
}

/** The report as text: one line per bump, then what stayed. */
export function pinReportText(r: PinReport): string {
  const lines = r.bumps.length > 0 ? r.bumps.map((b) => `${b.path}: ${b.from} → ${b.to}`) : ["no pin to bump"];
  return [...lines, ...r.kept.map((k) => `${k.path}: ${k.pin} kept (${k.reason})`)].join("\n") + "\n";
}
