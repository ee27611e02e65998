// Same inputs, same digest: the same targets built on the shared (warm) engine and on fresh
// engines, each with its own state and network (scripts/world/dagger.sh extra-start), give
// byte-identical images on every platform. On a mismatch the failure names the differing files.
// One fresh engine in npm test (a cold build that shares nothing with the warm one but the
// inputs); PG_IMAGES_REPRO_ENGINES=2 adds a second, each on its own state and network.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, resolveMatrix, useWorldEngine } from "../../scripts/world/world.js";
import { call, dropWork, statuses, useWorldDagger } from "./harness.js";
import { explainDifference } from "./ocidiff.js";

const runId = `repro${Date.now().toString(36)}`;
const work = join(REPO, ".pg-images", runId);
const prefix = `127.0.0.1:5000/${runId}`;
// Fresh engines beside the shared one: their own names, state, address ranges and DNS ports.
const FRESH = [
  { name: `pg-images-${runId}-a`, cidr: "10.88.0.0/16", dns: "5391" },
  { name: `pg-images-${runId}-b`, cidr: "10.89.0.0/16", dns: "5392" },
].slice(0, Number(process.env.PG_IMAGES_REPRO_ENGINES ?? "1"));
// The template's platforms (amd64) unless PG_IMAGES_REPRO_PLATFORMS names others (e.g. "linux/amd64, linux/arm64").
const PLATFORMS = process.env.PG_IMAGES_REPRO_PLATFORMS;
let matrixPath = "";

const dagger = (...args: string[]) => spawnSync("bash", [join(REPO, "scripts/world/dagger.sh"), ...args], { encoding: "utf8" });

beforeAll(async () => {
  useWorldEngine();
  useWorldDagger();
  mkdirSync(work, { recursive: true });
  let { text } = await resolveMatrix(readFileSync(join(REPO, "test/e2e/reproducible.yaml"), "utf8"));
  if (PLATFORMS) text = text.replace(/platforms: \[[^\]]*\]/, `platforms: [${PLATFORMS}]`);
  matrixPath = join(".pg-images", runId, "matrix.yaml");
  writeFileSync(join(REPO, matrixPath), text);
}, 600_000);

afterAll(() => {
  for (const e of FRESH) dagger("extra-stop", e.name);
  dropWork(work);
});

/**
 * publish on one engine to a repository of its own; every target's platform manifests, by
 * "<target> <platform>". The promise covers those: the index over them also holds the SBOM and
 * provenance attestations, made at the time of each run, so its digest differs from run to run.
 */
async function publishOn(label: string, env: Record<string, string>): Promise<Record<string, string>> {
  const start = Date.now();
  const r = await call(work, label, ["publish", "--matrix", matrixPath, "--timestamp", "202611290100", "--registry", `${prefix}/${label}`, "--testing-registry", `${prefix}/${label}/testing`], env);
  expect(Object.values(statuses(r.summary)).every((s) => s === "passed"), `${label}: ${JSON.stringify(r.summary.targets, null, 1)}`).toBe(true);
  const manifests = Object.fromEntries(Object.entries(r.summary.targets).flatMap(([id, t]) => Object.entries(t.manifests ?? {}).map(([p, d]) => [`${id} ${p}`, d])));
  console.log(`${label}: ${Math.round((Date.now() - start) / 1000)}s ${JSON.stringify(manifests)}`);
  expect(Object.keys(manifests).length, `${label}: no platform manifests in the report`).toBeGreaterThan(0);
  return manifests;
}

describe("same inputs, same digest", () => {
  it("a warm engine and fresh engines give identical image manifests on every platform", async () => {
    const digests: Record<string, Record<string, string>> = { warm: await publishOn("warm", {}) };
    for (const [i, e] of FRESH.entries()) {
      const started = dagger("extra-start", e.name, e.cidr, e.dns);
      expect(started.status, started.stderr).toBe(0);
      const host = started.stdout.trim().split("\n").pop()!;
      try {
        digests[`fresh${i + 1}`] = await publishOn(`fresh${i + 1}`, { _EXPERIMENTAL_DAGGER_RUNNER_HOST: host });
      } finally {
        const stopped = dagger("extra-stop", e.name);
        expect(stopped.status, stopped.stderr).toBe(0);
      }
    }
    const problems: string[] = [];
    for (const [label, byImage] of Object.entries(digests).slice(1)) {
      expect(Object.keys(byImage).sort()).toEqual(Object.keys(digests.warm!).sort());
      for (const [image, digest] of Object.entries(byImage)) {
        const warm = digests.warm![image]!;
        if (digest === warm) continue;
        const repo = (l: string) => `${prefix}/${l}/testing/postgresql`;
        problems.push(`${image}: warm ${warm} ≠ ${label} ${digest}`, ...(await explainDifference(`${repo("warm")}@${warm}`, `${repo(label)}@${digest}`)));
      }
    }
    expect(problems.join("\n")).toBe("");
    // With arm64 under emulation: about 14 minutes a build from nothing on 2 cores.
  }, 4_500_000);
});
