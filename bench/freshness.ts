// What freshness costs: a scheduled publish --release of the freshness matrix (minimal and
// standard from the PGDG-shaped mirror) when nothing changed, against a cold build of the same
// targets; then after one package update (standard's unpinned wal2json gets a new revision).
// Side by side in one run, each measurement its own engine session; pushes counted from the
// registry's tag lists. The cold build runs on a throwaway engine (dagger.sh extra-start), so the
// shared engine keeps its cache.
// Run: npm run build && bash scripts/world/up.sh && source scripts/world/env.sh && node dist/bench/freshness.js
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hostSource, LocalPgImages } from "../scripts/world/localModule.js";
import { fillPgdg, readLocalPgdg } from "../scripts/world/pgdg.js";
import { REPO, resolveMatrix, useWorldEngine } from "../scripts/world/world.js";
import type { Report } from "../src/report.js";
import { tagsIn } from "../test/e2e/registry.js";
import { session } from "./session.js";

useWorldEngine();
const FORK = "bench-freshness";
const prefix = `127.0.0.1:5000/bench-fresh-${Date.now().toString(36)}`;
const world = (...args: string[]) => {
  const r = spawnSync("bash", ["scripts/world/pgdg-update.sh", ...args], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`pgdg-update.sh ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
};

const dir = join(REPO, ".pg-images", "bench");
mkdirSync(dir, { recursive: true });
const mirror = world("fork", FORK);
const { text } = await resolveMatrix(await fillPgdg(readFileSync(join(REPO, "test/e2e/freshness.yaml"), "utf8"), { ...readLocalPgdg(), mirror }));
writeFileSync(join(dir, "freshness.yaml"), text);

/** Every tag under the prefix, from the registry's own API (its catalog read page by page). */
async function tags(): Promise<Set<string>> {
  return new Set(Object.entries(await tagsIn(prefix)).flatMap(([repo, list]) => list.map((t) => `${repo}:${t}`)));
}

let minute = 0;
async function timed(what: string, call: (m: LocalPgImages) => Promise<Report>): Promise<{ seconds: number; summary: string; pushed: number }> {
  minute += 1;
  const before = await tags();
  const seconds = await session(async () => {
    const m = new LocalPgImages(hostSource(REPO), ".pg-images/bench/freshness.yaml", prefix, `${prefix}/testing`, `2026112901${String(minute).padStart(2, "0")}`, "bench");
    const start = performance.now();
    const report = await call(m);
    if (report.failed.length > 0) throw new Error(`${what} failed:\n${report.summary}`);
    summaries.set(what, report.summary);
    return (performance.now() - start) / 1000;
  });
  const after = await tags();
  return { seconds, summary: summaries.get(what)!, pushed: [...after].filter((t) => !before.has(t)).length };
}
const summaries = new Map<string, string>();
const release = (m: LocalPgImages) => m.publish(true, undefined, undefined, [], [], [], [], false);

/** A measurement on a fresh engine of its own: nothing cached. */
async function onFreshEngine<T>(fn: () => Promise<T>): Promise<T> {
  const name = `pg-images-bench-${Date.now().toString(36)}`;
  const dagger = (...args: string[]) => spawnSync("bash", ["scripts/world/dagger.sh", ...args], { cwd: REPO, encoding: "utf8" });
  const started = dagger("extra-start", name, "10.90.0.0/16", "5393");
  if (started.status !== 0) throw new Error(`extra-start: ${started.stderr}`);
  const shared = process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST;
  process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST = started.stdout.trim().split("\n").pop()!;
  try {
    return await fn();
  } finally {
    process.env._EXPERIMENTAL_DAGGER_RUNNER_HOST = shared;
    dagger("extra-stop", name);
  }
}

try {
  const cold = await onFreshEngine(() => timed("cold build-all", (m) => m.buildAll([], [], [], [])));
  await timed("first release", release);
  const unchanged = await timed("nothing changed", release);
  const version = world("bump", FORK, "bookworm", "postgresql-15-wal2json");
  const updated = await timed("one package updated", release);
  const pct = (s: number) => `${((100 * s) / cold.seconds).toFixed(1)} % of cold`;
  console.log(`freshness matrix (minimal, standard from the PGDG-shaped mirror), publish --release against a cold build-all`);
  console.log(`  cold build-all:                          ${cold.seconds.toFixed(1)} s`);
  console.log(`  nothing changed:                         ${unchanged.seconds.toFixed(1)} s  (${pct(unchanged.seconds)}), ${unchanged.pushed} tags pushed`);
  console.log(`  postgresql-15-wal2json → ${version}: ${updated.seconds.toFixed(1)} s  (${pct(updated.seconds)}), ${updated.pushed} tags pushed`);
  console.log(`\n${summaries.get("nothing changed")}\n${summaries.get("one package updated")}`);
} finally {
  world("drop", FORK);
}
