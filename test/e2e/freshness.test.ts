// Freshness on the real engine and registry: a scheduled publish ships every upstream fix and
// nothing else. The matrix installs from a fork of the PGDG-shaped mirror that the test changes
// the way an archive changes (scripts/world/pgdg-update.sh): an unrelated package appears, then a
// package one target pulls in without a pin gets a new revision.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fillPgdg, readLocalPgdg } from "../../scripts/world/pgdg.js";
import { REPO, resolveMatrix, useWorldEngine } from "../../scripts/world/world.js";
import { call as harnessCall, dropWork, reasons, statuses, useWorldDagger, type Summary } from "./harness.js";
import { manifestDigest, tagsIn } from "./registry.js";

const runId = `fresh${Date.now().toString(36)}`;
const work = join(REPO, ".pg-images", runId);
const prefix = `127.0.0.1:5000/${runId}`;
// One fork name for every run: the sources the images list stay the same, so the engine's cache
// of earlier runs serves the first release.
const FORK = "freshness";
const IDS = ["minimal-15-bookworm", "standard-15-bookworm"];
const UPDATED = "postgresql-15-wal2json"; // standard installs it without a pin; nothing else does
let matrixPath = "";
let minute = 0;

function world(...args: string[]): string {
  const r = spawnSync("bash", ["scripts/world/pgdg-update.sh", ...args], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`pgdg-update.sh ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return r.stdout.trim();
}

/** publish --release under a new timestamp each time, as a weekly schedule would. */
async function release(name: string) {
  minute += 1;
  const timestamp = `2026112900${String(minute).padStart(2, "0")}`;
  return harnessCall(work, name, ["publish", "--release", "--matrix", matrixPath, "--registry", prefix, "--testing-registry", `${prefix}/testing`, "--timestamp", timestamp]);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

beforeAll(async () => {
  useWorldEngine();
  useWorldDagger();
  mkdirSync(work, { recursive: true });
  const forkUrl = world("fork", FORK);
  const pgdg = readLocalPgdg();
  const text = (await resolveMatrix(await fillPgdg(readFileSync(join(REPO, "test/e2e/freshness.yaml"), "utf8"), { ...pgdg, mirror: forkUrl }))).text;
  matrixPath = join(".pg-images", runId, "matrix.yaml");
  writeFileSync(join(REPO, matrixPath), text);
}, 600_000);

afterAll(() => {
  world("drop", FORK);
  dropWork(work);
});

describe("freshness: every upstream fix ships in the next run, and nothing else makes a new digest", () => {
  let first: Summary;

  it("the first release publishes every target", async () => {
    const r = await release("first");
    expect(statuses(r.summary)).toEqual(Object.fromEntries(IDS.map((id) => [id, "passed"])));
    expect(r.code).toBe(0);
    first = r.summary;
  });

  it("an archive change that touches no image's packages: every target unchanged, nothing pushed", async () => {
    world("add", FORK, "bookworm", "pg-images-unrelated");
    const before = await tagsIn(prefix);
    const r = await release("unrelated");
    expect(statuses(r.summary), JSON.stringify(reasons(r.summary))).toEqual(Object.fromEntries(IDS.map((id) => [id, "unchanged"])));
    expect(reasons(r.summary)).toEqual(Object.fromEntries(IDS.map((id) => [id, "unchanged (same packages)"])));
    expect(r.code).toBe(0);
    expect(await tagsIn(prefix)).toEqual(before);
  });

  it("an update of a package one target pulls in without a pin rebuilds that target alone, and the release says which package moved", async () => {
    const newVersion = world("bump", FORK, "bookworm", UPDATED);
    const oldVersion = newVersion.replace(/\+(\d+)$/, (_, n: string) => `+${Number(n) - 1}`);
    // The origin is apt's own name for the suite, e.g. "pg-images local PGDG:bookworm-pgdg".
    const expected = new RegExp(`^changed: ${UPDATED} ${escape(oldVersion)} → ${escape(newVersion)} \\(pg-images local PGDG[^)]*\\)$`);

    // plan --explain says the same before anything builds.
    const plan = spawnSync("node", ["dist/bin/pg-images-local.js", "plan", "--explain", "--format", "json", "--matrix", matrixPath, "--registry", prefix, "--testing-registry", `${prefix}/testing`], { cwd: REPO, encoding: "utf8" });
    expect(plan.status, plan.stderr.split("\n").slice(-20).join("\n")).toBe(0);
    const explained = Object.fromEntries((JSON.parse(plan.stdout) as { targets: { id: string; change: string }[] }).targets.map((t) => [t.id, t.change]));
    const line = explained["standard-15-bookworm"]!;
    expect(line).toMatch(expected);
    expect(explained).toEqual({ ...Object.fromEntries(IDS.map((id) => [id, "unchanged (same packages)"])), "standard-15-bookworm": line });

    const before = await tagsIn(prefix);
    const r = await release("update");
    const s = r.summary;
    expect(statuses(s), JSON.stringify(reasons(s))).toEqual({ "minimal-15-bookworm": "unchanged", "standard-15-bookworm": "passed" });
    expect(r.code).toBe(0);
    expect(reasons(s)["standard-15-bookworm"]).toBe(line);

    // New unique tags for standard only (testing and release); its aliases moved to the new digest.
    const after = await tagsIn(prefix);
    const added: Record<string, string[]> = {};
    for (const [repo, tags] of Object.entries(after)) {
      const fresh = tags.filter((tag) => !(before[repo] ?? []).includes(tag) && !tag.startsWith("sha256-"));
      if (fresh.length > 0) added[repo] = fresh;
    }
    const moved = s.targets["standard-15-bookworm"]!;
    const tagOf = (ref: string) => ref.slice(ref.lastIndexOf(":") + 1);
    expect(added).toEqual({ [`${runId}/testing/postgresql`]: [tagOf(moved.tags.testing)], [`${runId}/postgresql`]: [tagOf(moved.tags.release)] });
    expect(moved.digest).not.toBe(first.targets["standard-15-bookworm"]!.digest);
    for (const alias of moved.tags.aliases) expect(await manifestDigest(`${prefix}/postgresql:${alias}`), alias).toBe(moved.digest);

    // The image holds the new revision: no cached apt step hid the update.
    const out = join(work, "out", "update");
    const notes = readFileSync(join(out, "notes", "standard-15-bookworm.md"), "utf8");
    expect(notes).toContain(`Why: ${line}`);
    expect(notes).toContain(`${UPDATED} ${oldVersion} → ${newVersion}`);
    expect(readdirSync(join(out, "notes"))).toEqual(["standard-15-bookworm.md"]);
  });
});
