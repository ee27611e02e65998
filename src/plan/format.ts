// A plan for people (a table) and for CI providers (JSON, byte-stable for the same input).
import type { Plan } from "./types.js";

/** Changes: per target, why it would be built or not (plan --explain). */
export function planJson(plan: Plan, changes?: ReadonlyMap<string, string>): string {
  const shown = changes ? { ...plan, targets: plan.targets.map((t) => ({ ...t, change: changes.get(t.id) })) } : plan;
  return JSON.stringify(shown, null, 2) + "\n";
}

export function planTable(plan: Plan, changes?: ReadonlyMap<string, string>): string {
  const rows = plan.targets.map((t) => [
    t.selected ? t.id : `(${t.id})`,
    t.kind === "operand" ? `${t.kind}/${t.flavour}` : t.kind,
    t.postgres.map((p) => p.version).join(" ") || "-",
    t.distro ?? "-",
    t.from ?? "-",
    `${t.repository.release}:${t.tags.release}`,
    t.tags.aliases.join(" ") || "-",
    ...(changes ? [changes.get(t.id) ?? "-"] : []),
  ]);
  const lines = table(["TARGET", "KIND", "PG", "DISTRO", "FROM", "RELEASE", "ALIASES", ...(changes ? ["CHANGE"] : [])], rows);
  const skipped = plan.skipped.map((s) => `  ${[s.image, s.pg, s.distro].filter((x) => x !== undefined).join(" ")}: ${s.reason}`);
  const excluded = plan.targets.flatMap((t) => t.excluded.map((e) => `  ${t.id}: ${e.extension} left out: ${e.reason}`));
  const leftOut = plan.targets.flatMap((t) => (t.carries?.leftOut ?? []).map((l) => `  ${t.id}: ${l}`));
  return [
    ...lines,
    "",
    `${plan.targets.length} targets; timestamp ${plan.inputs.timestamp}, revision ${plan.inputs.revision}`,
    ...(skipped.length ? ["not built:", ...skipped] : []),
    ...(excluded.length ? ["extensions left out:", ...excluded] : []),
    ...(leftOut.length ? ["left out:", ...leftOut] : []),
  ].join("\n") + "\n";
}

/** Left-aligned columns, two spaces apart. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), ...rows.map(line)];
}
