// The default package source end to end on a real Dagger engine: packageSource pgdg, from the
// PGDG-shaped mirror and archive scripts/world/pgdg.sh serves on this machine. build-all and
// publish, with exttester's regression suite from the mirror's source package and its debug
// symbols; an old minor only the archive carries, from the repositories on the caller's 127.0.0.1
// (a tunnel into the engine); a key with another fingerprint; a pin no
// repository carries. The module's functions run in client mode, as in chain.test.ts.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fillPgdg, packagesIn, readLocalPgdg, type LocalPgdg } from "../../scripts/world/pgdg.js";
import { REPO, resolveMatrix, useWorldEngine, WORLD } from "../../scripts/world/world.js";
import { call as harnessCall, dropWork, statuses, useWorldDagger, type Summary } from "./harness.js";
import { manifestDigest } from "./registry.js";

const runId = `pgdg${Date.now().toString(36)}`;
const work = join(REPO, ".pg-images", runId);
const prefix = `127.0.0.1:5000/${runId}`;
const registryArgs = ["--registry", prefix, "--testing-registry", `${prefix}/testing`];
// One run time for every call: publish pushes the images build-all built and tested (the engine
// has them), as a CI job that builds, then publishes, with the same --timestamp would.
const T = ["--timestamp", "202611250100"];
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

const call = (name: string, args: string[]) => harnessCall(work, name, args);
const outOf = (name: string) => join(work, "out", name);

/** name → versionInfo of the packages in a target's SPDX SBOM. */
function sbomVersions(out: string, summary: Summary, id: string): Map<string, string> {
  const spdx = JSON.parse(readFileSync(join(out, summary.targets[id]!.sbom!.spdx), "utf8")) as { packages: { name: string; versionInfo: string }[] };
  return new Map(spdx.packages.map((p) => [p.name, p.versionInfo]));
}

beforeAll(async () => {
  useWorldEngine();
  useWorldDagger();
  pgdg = readLocalPgdg();
  bookworm = pgdg.releases["bookworm"]!;
  if (!bookworm?.old) throw new Error(`${WORLD}/pgdg.json: bookworm has no older minor in the archive; re-run scripts/world/pgdg.sh`);
  mkdirSync(work, { recursive: true });
  text = (await resolveMatrix(await fillPgdg(readFileSync(join(REPO, "test/e2e/pgdg.yaml"), "utf8"), pgdg))).text;
}, 600_000);

afterAll(() => dropWork(work));

describe("packageSource pgdg from a PGDG-shaped mirror and archive", () => {
  it("build-all, then publish: every target passes, with PostgreSQL and the extensions from the mirror", async () => {
    const path = matrix("default");
    const built = await call("build-all", ["build-all", "--matrix", path, ...T]);
    expect(statuses(built.summary)).toEqual(Object.fromEntries(IDS.map((id) => [id, "passed"])));
    const versions = sbomVersions(outOf("build-all"), built.summary, "standard-15-bookworm");
    expect(versions.get("postgresql-15")).toMatch(new RegExp(`^${bookworm.current.replaceAll(".", "\\.")}-.*\\${bookworm.suffix.replace("+", "\\+")}$`));
    for (const p of ["postgresql-15-pgaudit", "postgresql-15-hll", "libpq5"]) expect(versions.get(p), p).toMatch(/\.pgdg120\+1$/);
    // exttester: PostgreSQL's regression suite built from the mirror's source package (the
    // fixture tree packed as postgresql-15), run with pg_regress and its parallel_schedule against
    // regress.so (one of its tests collates in a LATIN1 database on da_DK ISO-8859-1); the
    // server's -dbgsym package from the mirror.
    const checks = built.summary.targets["exttester-15-bookworm"]!.checks;
    for (const name of ["PostgreSQL's regression suite passes against regress.so", "debug symbols match the server", "test tools present"]) {
      expect(checks.find((c) => c.name.endsWith(name)), name).toMatchObject({ ok: true });
    }
    const tester = sbomVersions(outOf("build-all"), built.summary, "exttester-15-bookworm");
    expect(tester.get("postgresql-15-dbgsym")).toBe(tester.get("postgresql-15"));

    const published = await call("publish", ["publish", "--matrix", path, ...registryArgs, ...T]);
    expect(statuses(published.summary)).toEqual(Object.fromEntries(IDS.map((id) => [id, "passed"])));
    expect(published.code).toBe(0);
    for (const t of Object.values(published.summary.targets)) {
      for (const ref of t.published!) expect(await manifestDigest(ref), ref).toBe(t.digest);
    }
  });

  it("an old minor only the archive carries is installed from there, from a mirror and archive on the caller's 127.0.0.1 (through a tunnel)", async () => {
    const mirror = await packagesIn(pgdg.mirror, "bookworm-pgdg");
    const archive = await packagesIn(pgdg.archive, "bookworm-pgdg-archive");
    const old = (v: string) => v.startsWith(`${bookworm.old}-`);
    expect(mirror.get("postgresql-15")!.filter(old)).toEqual([]);
    expect(archive.get("postgresql-15")!.filter(old)).toHaveLength(1);

    const onLoopback = (t: string) => t.replaceAll(pgdg.url, pgdg.loopbackUrl).replace(`version: "${bookworm.current}"`, `version: "${bookworm.old}"`);
    const path = matrix("old-minor", onLoopback);
    expect(readFileSync(join(REPO, path), "utf8")).not.toContain(pgdg.url);
    const r = await call("old-minor", ["build-all", ...T, "--image", "minimal", "--matrix", path]);
    expect(statuses(r.summary)).toEqual({ "minimal-15-bookworm": "passed" });
    expect(sbomVersions(outOf("old-minor"), r.summary, "minimal-15-bookworm").get("postgresql-15")).toBe(archive.get("postgresql-15")!.find(old));
  });

  it("bump-pins moves the old minor to the mirror's current one from the mirror's own indexes, writes it, and the written matrix validates and plans", async () => {
    const path = matrix("bump", (t) => t.replace(`version: "${bookworm.current}"`, `version: "${bookworm.old}"`));
    const before = readFileSync(join(REPO, path), "utf8");
    const r = spawnSync("node", ["dist/bin/pg-images-local.js", "bump-pins", "--write", "--matrix", path], { cwd: REPO, encoding: "utf8" });
    expect(r.status, r.stderr.split("\n").slice(-20).join("\n")).toBe(0);
    expect(r.stdout).toContain(`postgres.0.version: ${bookworm.old} → ${bookworm.current}`);
    // The extensions are pinned to what the mirror carries: nothing newer to move to.
    expect(r.stdout).toMatch(/extensions\.pgaudit\.pins\.pgdg\.15: \S+ kept \(newest carried everywhere\)/);
    const after = readFileSync(join(REPO, path), "utf8");
    expect(after).toBe(before.replace(`version: "${bookworm.old}"`, `version: "${bookworm.current}"`));
    for (const command of ["validate", "plan"]) {
      const v = spawnSync("node", ["dist/bin/pg-images.js", command, "--matrix", path], { cwd: REPO, encoding: "utf8" });
      expect(v.status, `${command}: ${v.stdout}${v.stderr}`).toBe(0);
    }
  });

  it("a key whose fingerprint is not the pinned one fails the build, naming the key URL and both fingerprints", async () => {
    const r = await call("wrong-key", ["build-all", ...T, "--image", "minimal", "--matrix", matrix("wrong-key", (t) => t.replace(pgdg.keyUrl, pgdg.otherKeyUrl))]);
    expect(r.code).toBe(1);
    expect(statuses(r.summary)).toEqual({ "minimal-15-bookworm": "failed" });
    expect(r.summary.targets["minimal-15-bookworm"]!.reason).toContain(`PGDG key from ${pgdg.otherKeyUrl}: fingerprint '${pgdg.otherFingerprint}', expected ${pgdg.fingerprint}`);
  });

  it("a pin no repository carries fails the build, naming the package and the pin", async () => {
    const r = await call("no-pin", ["build-all", ...T, "--image", "standard", "--matrix", matrix("no-pin", (t) => t.replace(/("15": ")1\.[^"]*(" \} \}\n  hll)/, "$19.9.9-*$2"))]);
    expect(r.code).toBe(1);
    expect(statuses(r.summary)).toEqual({ "minimal-15-bookworm": "passed", "standard-15-bookworm": "failed" });
    expect(r.summary.targets["standard-15-bookworm"]!.reason).toMatch(/Version '9\.9\.9-\*' for 'postgresql-15-pgaudit' was not found/);
  });
});
