// The default package source end to end on a real Dagger engine: packageSource pgdg, from the
// PGDG-shaped mirror and archive scripts/world/pgdg.sh serves on this machine. build-all and
// publish; an old minor only the archive carries; a key with another fingerprint; a pin no
// repository carries. The module's functions run in client mode, as in chain.test.ts.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fillPgdg, packagesIn, readLocalPgdg, type LocalPgdg } from "../../scripts/world/pgdg.js";
import { REPO, resolveMatrix, useWorldEngine, WORLD } from "../../scripts/world/world.js";
import { manifestDigest } from "./registry.js";

interface Summary {
  targets: Record<string, { status: string; digest?: string; reason?: string; published?: string[]; sbom?: { spdx: string } }>;
}

const runId = `pgdg${Date.now().toString(36)}`;
const work = join(REPO, ".pg-images", runId);
const prefix = `127.0.0.1:5000/${runId}`;
const registryArgs = ["--registry", prefix, "--testing-registry", `${prefix}/testing`];
const IDS = ["extbuilder-15-bookworm", "exttester-15-bookworm", "minimal-15-bookworm", "standard-15-bookworm"];
let pgdg: LocalPgdg;
let bookworm: LocalPgdg["releases"][string];
let text = "";

/** A matrix variant under .pg-images/<run>/, by the path the CLI takes. */
function matrix(name: string, edit: (t: string) => string = (t) => t): string {
  const path = join(".pg-images", runId, `${name}.yaml`);
  writeFileSync(join(REPO, path), edit(text));
  return path;
}

/** One module function through the local engine; its report lands in out/<name>. */
async function call(name: string, args: string[]): Promise<{ code: number; summary: Summary; out: string }> {
  const out = join(work, "out", name);
  const child = spawn("node", ["dist/bin/pg-images-local.js", ...args, "--out", out], { cwd: REPO, env: process.env });
  let log = "";
  child.stdout.on("data", (d: Buffer) => (log += d.toString()));
  child.stderr.on("data", (d: Buffer) => (log += d.toString()));
  const code = await new Promise<number>((done) => child.on("close", (c) => done(c ?? 1)));
  writeFileSync(join(work, `${name}.log`), log);
  try {
    return { code, out, summary: JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as Summary };
  } catch {
    throw new Error(`${name}: no summary (exit ${code}); log ends:\n${log.split("\n").slice(-40).join("\n")}`);
  }
}

const statuses = (s: Summary) => Object.fromEntries(Object.entries(s.targets).map(([id, t]) => [id, t.status]));

/** name → versionInfo of the packages in a target's SPDX SBOM. */
function sbomVersions(out: string, summary: Summary, id: string): Map<string, string> {
  const spdx = JSON.parse(readFileSync(join(out, summary.targets[id]!.sbom!.spdx), "utf8")) as { packages: { name: string; versionInfo: string }[] };
  return new Map(spdx.packages.map((p) => [p.name, p.versionInfo]));
}

beforeAll(async () => {
  useWorldEngine();
  const env = spawnSync("bash", ["-c", "source scripts/world/env.sh && test -S ${_EXPERIMENTAL_DAGGER_RUNNER_HOST#unix://} && env -0"], { cwd: REPO, encoding: "utf8" });
  if (env.status !== 0) throw new Error(`no Dagger engine socket under ${WORLD}: run scripts/world/up.sh (the README's test command does)`);
  for (const [k, v] of env.stdout.split("\0").map((l) => l.split(/=(.*)/s) as [string, string])) {
    if (/^(_EXPERIMENTAL_DAGGER|DAGGER_|DO_NOT_TRACK|DOCKER_HOST|PATH$)/.test(k)) process.env[k] = v;
  }
  pgdg = readLocalPgdg();
  bookworm = pgdg.releases["bookworm"]!;
  if (!bookworm?.old) throw new Error(`${WORLD}/pgdg.json: bookworm has no older minor in the archive; re-run scripts/world/pgdg.sh`);
  mkdirSync(work, { recursive: true });
  text = (await resolveMatrix(await fillPgdg(readFileSync(join(REPO, "test/e2e/pgdg.yaml"), "utf8"), pgdg))).text;
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("packageSource pgdg from a PGDG-shaped mirror and archive", () => {
  it("build-all, then publish: every target passes, with PostgreSQL and the extensions from the mirror", async () => {
    const path = matrix("default");
    const built = await call("build-all", ["build-all", "--matrix", path]);
    expect(statuses(built.summary)).toEqual(Object.fromEntries(IDS.map((id) => [id, "passed"])));
    const versions = sbomVersions(built.out, built.summary, "standard-15-bookworm");
    expect(versions.get("postgresql-15")).toMatch(new RegExp(`^${bookworm.current.replaceAll(".", "\\.")}-.*\\${bookworm.suffix.replace("+", "\\+")}$`));
    for (const p of ["postgresql-15-pgaudit", "postgresql-15-hll", "libpq5"]) expect(versions.get(p), p).toMatch(/\.pgdg120\+1$/);

    const published = await call("publish", ["publish", "--matrix", path, ...registryArgs]);
    expect(statuses(published.summary)).toEqual(Object.fromEntries(IDS.map((id) => [id, "passed"])));
    expect(published.code).toBe(0);
    for (const t of Object.values(published.summary.targets)) {
      for (const ref of t.published!) expect(await manifestDigest(ref), ref).toBe(t.digest);
    }
  });

  it("an old minor only the archive carries is installed from there", async () => {
    const mirror = await packagesIn(pgdg.mirror, "bookworm-pgdg");
    const archive = await packagesIn(pgdg.archive, "bookworm-pgdg-archive");
    const old = (v: string) => v.startsWith(`${bookworm.old}-`);
    expect(mirror.get("postgresql-15")!.filter(old)).toEqual([]);
    expect(archive.get("postgresql-15")!.filter(old)).toHaveLength(1);

    const r = await call("old-minor", ["build-all", "--image", "minimal", "--matrix", matrix("old-minor", (t) => t.replace(`version: "${bookworm.current}"`, `version: "${bookworm.old}"`))]);
    expect(statuses(r.summary)).toEqual({ "minimal-15-bookworm": "passed" });
    expect(sbomVersions(r.out, r.summary, "minimal-15-bookworm").get("postgresql-15")).toBe(archive.get("postgresql-15")!.find(old));
  });

  it("a key whose fingerprint is not the pinned one fails the build, naming the key URL and both fingerprints", async () => {
    const r = await call("wrong-key", ["build-all", "--image", "minimal", "--matrix", matrix("wrong-key", (t) => t.replace(pgdg.keyUrl, pgdg.otherKeyUrl))]);
    expect(r.code).toBe(1);
    expect(statuses(r.summary)).toEqual({ "minimal-15-bookworm": "failed" });
    expect(r.summary.targets["minimal-15-bookworm"]!.reason).toContain(`PGDG key from ${pgdg.otherKeyUrl}: fingerprint '${pgdg.otherFingerprint}', expected ${pgdg.fingerprint}`);
  });

  it("a pin no repository carries fails the build, naming the package and the pin", async () => {
    const r = await call("no-pin", ["build-all", "--image", "standard", "--matrix", matrix("no-pin", (t) => t.replace(/("15": ")1\.[^"]*(" \} \}\n  hll)/, "$19.9.9-*$2"))]);
    expect(r.code).toBe(1);
    expect(statuses(r.summary)).toEqual({ "minimal-15-bookworm": "passed", "standard-15-bookworm": "failed" });
    expect(r.summary.targets["standard-15-bookworm"]!.reason).toMatch(/Version '9\.9\.9-\*' for 'postgresql-15-pgaudit' was not found/);
  });
});
