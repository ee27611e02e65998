// The chain's fault promises, on the real engine and real registries:
// - the registry dies in the middle of a release: no alias lands on an untested digest, and the
//   re-run converges;
// - two publishes of the same run at once: every unique tag is written exactly once;
// - the Dagger engine is killed in the middle of a build: the re-run completes.
// The last one kills and restarts the world's engine (scripts/world/dagger.sh), so this file
// must not share the engine with another run.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContext, REPO, resolveMatrix, useWorldEngine } from "../../scripts/world/world.js";
import { call, dropWork, MATRIX_TIME, start, statuses, useWorldDagger, type Summary } from "./harness.js";
import { manifestDigest, startRegistry, type LocalRegistry } from "./registry.js";

const runId = `faults${Date.now().toString(36)}`;
const work = join(REPO, ".pg-images", runId);
const IDS = ["minimal-15-bookworm", "standard-15-bookworm"];
const ONLY = ["--image", "minimal", "--image", "standard"];
let matrixPath = "";
let registry: LocalRegistry;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ok: () => Promise<boolean> | boolean, seconds: number): Promise<void> {
  for (const end = Date.now() + seconds * 1000; Date.now() < end; await sleep(100)) if (await ok()) return;
  throw new Error(`timed out after ${seconds}s waiting for ${what}`);
}
const digests = (s: Summary) => Object.fromEntries(Object.entries(s.targets).map(([id, t]) => [id, t.digest]));

beforeAll(async () => {
  useWorldEngine();
  useWorldDagger();
  mkdirSync(work, { recursive: true });
  matrixPath = join(".pg-images", runId, "matrix.yaml");
  makeContext(work, (await resolveMatrix(readFileSync(join(REPO, "test/e2e/matrix.yaml"), "utf8"))).text);
  registry = await startRegistry(join(work, "registry"), 5002);
}, 600_000);

afterAll(() => {
  registry?.stop();
  dropWork(work);
});

describe("the registry dies in the middle of a release", () => {
  it("leaves no alias on an untested digest, and the re-run converges", async () => {
    const args = ["--matrix", matrixPath, "--timestamp", MATRIX_TIME, "--registry", `${registry.host}/rel`, "--testing-registry", `${registry.host}/test`, ...ONLY];
    const dev = await call(work, "dev", ["publish", ...args]);
    expect(statuses(dev.summary)).toEqual({ "minimal-15-bookworm": "passed", "standard-15-bookworm": "passed" });
    const tested = digests(dev.summary);

    // Killed as soon as the first unique release tag is there: the promotion is under way.
    const run = start(work, "interrupted", ["publish", "--release", ...args]);
    const releaseTags = Object.values(dev.summary.targets).map((t) => t.tags.release);
    let finished = false;
    void run.done.then(() => (finished = true));
    await until("a release tag", async () => finished || (await Promise.all(releaseTags.map((r) => manifestDigest(r).catch(() => undefined)))).some(Boolean), 900);
    registry.kill();
    const interrupted = await run.done;
    await registry.restart();
    expect(interrupted.code).toBe(1);
    expect(Object.values(interrupted.summary?.targets ?? {}).some((t) => t.status === "failed" && /registry/.test(t.reason ?? ""))).toBe(true);

    for (const [id, t] of Object.entries(dev.summary.targets)) {
      for (const alias of t.tags.aliases) {
        const held = await manifestDigest(`${registry.host}/rel/postgresql:${alias}`);
        expect([undefined, tested[id]], `${alias} after the crash`).toContain(held);
      }
    }

    const again = await call(work, "converged", ["publish", "--release", ...args]);
    expect(again.code).toBe(0);
    // Which targets the interrupted run promoted before the registry died depends on timing:
    // those are reported unchanged, the rest are promoted now; either way every tag converges.
    const converged = statuses(again.summary);
    expect(Object.values(converged).length).toBeGreaterThan(0);
    expect(Object.values(converged).filter((s) => s !== "passed" && s !== "unchanged"), JSON.stringify(converged)).toEqual([]);
    for (const [id, t] of Object.entries(dev.summary.targets)) {
      expect(await manifestDigest(t.tags.release)).toBe(tested[id]);
      for (const alias of t.tags.aliases) expect(await manifestDigest(`${registry.host}/rel/postgresql:${alias}`)).toBe(tested[id]);
    }
  });
});

describe("two publishes of the same run at once", () => {
  it("write every unique tag exactly once", async () => {
    const args = ["publish", "--matrix", matrixPath, "--timestamp", MATRIX_TIME, "--registry", `${registry.host}/twice`, "--testing-registry", `${registry.host}/twice/test`, ...ONLY];
    const [a, b] = await Promise.all([start(work, "first", args).done, start(work, "second", args).done]);
    for (const r of [a, b]) {
      expect(r.code, r.log.slice(-2000)).toBe(0);
      expect(statuses(r.summary!)).toEqual({ "minimal-15-bookworm": "passed", "standard-15-bookworm": "passed" });
    }
    expect(digests(a.summary!)).toEqual(digests(b.summary!));
    const log = registry.log();
    for (const id of IDS) {
      const ref = a.summary!.targets[id]!.tags.testing;
      const [repo, tag] = [ref.slice(registry.host.length + 1, ref.lastIndexOf(":")), ref.slice(ref.lastIndexOf(":") + 1)];
      const puts = log.split("\n").filter((l) => l.includes(`"PUT /v2/${repo}/manifests/${tag} `));
      expect(puts, `manifest PUTs of ${ref}`).toHaveLength(1);
      expect(await manifestDigest(ref)).toBe(a.summary!.targets[id]!.digest);
    }
    // Both reports are true: one wrote each tag, the other found it there.
    const written = (r: typeof a) => Object.values(r.summary!.targets).flatMap((t) => t.published ?? []);
    expect([...written(a), ...written(b)].sort()).toEqual(IDS.map((id) => a.summary!.targets[id]!.tags.testing).sort());
  });
});

describe("the engine is killed in the middle of a build", () => {
  it("fails that run, and the re-run completes", async () => {
    // A base no build has used yet, so the apt steps really run while the engine dies.
    const base = freshBase();
    const path = join(".pg-images", runId, "fresh-base.yaml");
    writeFileSync(join(REPO, path), readFileSync(join(REPO, matrixPath), "utf8").replace(/base: "[^"]+"/, `base: "${base}"`));
    // minimal alone: its apt steps are where the engine dies, and what the re-run must complete.
    const args = ["build-all", "--matrix", path, "--timestamp", "202611240300", "--image", "minimal"];
    const run = start(work, "killed", args);
    let log = "";
    run.child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
    await until("the apt step of the build", () => /apt-get/.test(log), 600);
    await sleep(3000);
    const kill = spawnSync("docker", ["kill", "pg-images-dagger-engine"], { encoding: "utf8" });
    expect(kill.status, kill.stderr).toBe(0);
    const killed = await run.done;
    expect(killed.code).not.toBe(0);
    expect(killed.summary).toBeUndefined();

    const restart = spawnSync("bash", ["scripts/world/dagger.sh"], { cwd: REPO, encoding: "utf8" });
    expect(restart.status, restart.stderr.slice(-2000)).toBe(0);
    const again = await call(work, "after-kill", args);
    expect(again.code).toBe(0);
    expect(statuses(again.summary)).toEqual({ "minimal-15-bookworm": "passed" });
  });
});

/** The e2e matrix's bookworm base with one more layer holding this run's id: a new digest. */
function freshBase(): string {
  const text = readFileSync(join(REPO, matrixPath), "utf8");
  const base = /base: "([^"]+)"/.exec(text)![1]!;
  const dir = join(work, "fresh-base");
  mkdirSync(join(dir, "etc"), { recursive: true });
  writeFileSync(join(dir, "etc/pg-images-run"), `${runId}\n`);
  const layer = join(work, "fresh-base.tar");
  spawnSync("tar", ["-C", dir, "-cf", layer, "etc"]);
  const target = `127.0.0.1:5000/${runId}/base:bookworm`;
  const r = spawnSync("crane", ["append", "--insecure", "-f", layer, "-b", base, "-t", target], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`crane append: ${r.stderr}`);
  const digest = /sha256:[0-9a-f]{64}/.exec(r.stdout)?.[0];
  if (!digest) throw new Error(`crane append printed no digest: ${r.stdout}`);
  return `${target}@${digest}`;
}
