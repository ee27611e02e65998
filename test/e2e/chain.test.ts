// The whole chain on a real Dagger engine, real registries, real syft and real PostgreSQL:
// build-all → publish → publish --release → an unchanged re-run → a broken recipe → credentials.
// The module's own functions run in client mode (bin/pg-images-local.ts); only `dagger call`'s
// module loading is not exercised here (the introspection test covers what it registers).
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeContext, REPO, resolveMatrix, TEMPLATE, useWorldEngine } from "../../scripts/world/world.js";
import { BROKEN_TIME, call as harnessCall, dropWork, MATRIX_TIME, reasons, start, statuses, useWorldDagger } from "./harness.js";
import { startAuthRegistry, tagsIn, manifestDigest, type AuthRegistry } from "./registry.js";

const runId = `e2e${Date.now().toString(36)}`;
const work = join(REPO, ".pg-images", runId);
const prefix = `127.0.0.1:5000/${runId}`;
const registryArgs = ["--registry", prefix, "--testing-registry", `${prefix}/testing`];
const IDS = ["minimal-15-bookworm", "standard-15-bookworm", "stylechecker"];
// The run times: T1 and T3 are shared with the files that build the same images (harness.ts).
const [T1, T3] = [MATRIX_TIME, BROKEN_TIME];
const T2 = "202611230200";
const T4 = "202611230400";
let matrixPath = "";
let brokenPath = "";
let pgVersion = "";

const call = (name: string, args: string[], env: Record<string, string> = {}) => harnessCall(work, name, args, env);

beforeAll(async () => {
  useWorldEngine();
  useWorldDagger();
  mkdirSync(work, { recursive: true });
  const { text, values } = await resolveMatrix(readFileSync(join(REPO, "test/e2e/matrix.yaml"), "utf8"));
  pgVersion = values["{{pg:bookworm:15}}"]!;
  matrixPath = join(".pg-images", runId, "matrix.yaml");
  // The matrix with the files and local repositories its stylechecker names.
  makeContext(work, text);
  // The broken recipe: "pgaudit" installs another extension's package, so the image builds
  // but its CREATE EXTENSION check fails.
  brokenPath = join(".pg-images", runId, "broken.yaml");
  writeFileSync(join(REPO, brokenPath), text.replace("package: postgresql-{major}-pgaudit", "package: postgresql-{major}-hll").replace(/("15": ")[^"]*(")/, `$1${values["{{pin:bookworm:postgresql-15-hll}}"]}$2`));
}, 600_000);

afterAll(() => dropWork(work));

describe("every image kind through the Dagger renderer", () => {
  // The PostgreSQL 15 targets: every kind but the stylechecker (in the chain's matrix below); the
  // 17-on-trixie twins render the same steps and are built on Docker (test/images).
  it("builds and passes its smoke checks on the engine (the image tests' matrix)", async () => {
    const dir = join(work, "all-kinds");
    makeContext(dir, (await resolveMatrix(readFileSync(TEMPLATE, "utf8"))).text);
    const { code, summary } = await call("all-kinds", ["build-all", "--pg", "15", "--timestamp", T1, "--matrix", join(".pg-images", runId, "all-kinds", "matrix.yaml")]);
    expect(Object.keys(summary.targets).sort()).toEqual([
      "extbuilder-15-bookworm", "exttester-15-bookworm", "extupgradetester-15-bookworm", "failtester-15-bookworm", "full-15-bookworm",
      "minimal-15-bookworm", "pgupgradetester-trixie", "standard-15-bookworm",
    ]);
    expect(Object.entries(summary.targets).filter(([, t]) => t.status !== "passed")).toEqual([]);
    expect(code).toBe(0);
  });
});

describe("the chain on a real engine", () => {
  let tested: Record<string, string> = {};

  it("build-all: every target builds, is smoke-tested and has a real SBOM", async () => {
    const { code, summary } = await call("build-all", ["build-all", "--matrix", matrixPath, "--timestamp", T1]);
    expect(statuses(summary)).toEqual(Object.fromEntries(IDS.map((id) => [id, "passed"])));
    expect(code).toBe(0);
    for (const t of Object.values(summary.targets)) expect(t.checks.every((c) => c.ok)).toBe(true);
    // Operands ran the check under the operator's runtime, by name, through the Dagger runner.
    for (const id of ["minimal-15-bookworm", "standard-15-bookworm"]) {
      expect(summary.targets[id]!.checks.map((c) => c.name)).toContain("runs as an operator runs it: read-only root, 26:26, no capabilities");
    }
    const spdx = JSON.parse(readFileSync(join(work, "out/build-all", summary.targets["minimal-15-bookworm"]!.sbom!.spdx), "utf8")) as { packages: { name: string; versionInfo: string }[] };
    const pg = spdx.packages.find((p) => p.name === "postgresql-15");
    expect(pg?.versionInfo).toMatch(new RegExp(`^${pgVersion.replace(/\./g, "\\.")}-`));
  });

  it("a parent that fails to build blocks its child; the exit code is 1 and the report is still written", async () => {
    const failingPath = join(".pg-images", runId, "failing-parent.yaml");
    const text = readFileSync(join(REPO, matrixPath), "utf8").replace("flavour: minimal", 'flavour: minimal\n    packages: { pg-images-no-such-package: "" }');
    writeFileSync(join(REPO, failingPath), text);
    const { code, log, summary } = await call("failing-parent", ["build-all", "--matrix", failingPath, "--timestamp", T1]);
    expect(statuses(summary)).toEqual({ "minimal-15-bookworm": "failed", "standard-15-bookworm": "blocked", stylechecker: "passed" });
    expect(summary.targets["standard-15-bookworm"]!.reason).toBe("minimal-15-bookworm failed, so it is not tested");
    expect(code).toBe(1);
    expect(log).toContain("2 targets did not pass: minimal-15-bookworm, standard-15-bookworm");
    expect(readFileSync(join(work, "out/failing-parent/summary.txt"), "utf8")).toMatch(/1 passed, 0 unchanged, 1 failed, 1 blocked/);
    expect(readdirSync(join(work, "out/failing-parent/sbom")).sort()).toEqual(["stylechecker.cdx.json", "stylechecker.spdx.json"]);
  });

  it("a file the matrix names but the source lacks: exit 1 before any build, naming the key and the path", async () => {
    const dir = join(work, "no-requirements");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "matrix.yaml"), readFileSync(join(REPO, matrixPath), "utf8"));
    const { code, log } = await start(work, "no-requirements", ["build-all", "--matrix", join(".pg-images", runId, "no-requirements", "matrix.yaml"), "--timestamp", T1]).done;
    expect(code).toBe(1);
    expect(log).toMatch(/images\[2\]\.requirements: file "images\/stylechecker\/requirements\.txt" next to \S+: not found in the source directory/);
    expect(log).not.toMatch(/at \S+ \(file:|GraphQLRequestError/);
  });

  it("publish, then publish --release: every release tag holds the digest that was tested", async () => {
    const dev = await call("publish", ["publish", "--matrix", matrixPath, "--timestamp", T1, ...registryArgs]);
    expect(statuses(dev.summary)).toEqual(Object.fromEntries(IDS.map((id) => [id, "passed"])));
    tested = Object.fromEntries(Object.entries(dev.summary.targets).map(([id, t]) => [id, t.digest!]));
    const release = await call("release", ["publish", "--release", "--matrix", matrixPath, "--timestamp", T1, ...registryArgs]);
    expect(statuses(release.summary)).toEqual(Object.fromEntries(IDS.map((id) => [id, "passed"])));
    expect(release.code).toBe(0);
    for (const [id, t] of Object.entries(release.summary.targets)) {
      expect(t.published!.length).toBeGreaterThan(1);
      for (const ref of t.published!) expect(await manifestDigest(ref), `${ref} (${id})`).toBe(tested[id]);
    }
    expect(readdirSync(join(work, "out/release/catalogs")).sort()).toEqual(["catalog-minimal-bookworm.yaml", "catalog-standard-bookworm.yaml", "kustomization.yaml"]);
  });

  it("runs again unchanged: zero pushes, every target reported unchanged", async () => {
    const before = await tagsIn(prefix);
    expect(Object.keys(before).sort()).toEqual([`${runId}/postgresql`, `${runId}/stylechecker`, `${runId}/testing/postgresql`, `${runId}/testing/stylechecker`]);
    for (const [name, extra] of [["again", []], ["again-release", ["--release"]]] as const) {
      const r = await call(name, ["publish", ...extra, "--matrix", matrixPath, "--timestamp", T2, ...registryArgs]);
      expect(statuses(r.summary), JSON.stringify(reasons(r.summary))).toEqual(Object.fromEntries(IDS.map((id) => [id, "unchanged"])));
      expect(Object.values(r.summary.targets).flatMap((t) => t.published ?? [])).toEqual([]);
    }
    expect(await tagsIn(prefix)).toEqual(before);
  });

  it("a broken recipe fails its smoke test, reaches no repository, and leaves the others alone", async () => {
    const before = await tagsIn(prefix);
    expect(before[`${runId}/postgresql`]!.length).toBeGreaterThan(0);
    const r = await call("broken", ["publish", "--release", "--matrix", brokenPath, "--timestamp", T3, ...registryArgs]);
    expect(r.code).toBe(1);
    expect(statuses(r.summary), JSON.stringify(reasons(r.summary))).toEqual({ "minimal-15-bookworm": "unchanged", "standard-15-bookworm": "failed", stylechecker: "unchanged" });
    expect(r.summary.targets["standard-15-bookworm"]!.reason).toMatch(/^smoke check "CREATE EXTENSION[^"]*" failed/m);
    expect(readFileSync(join(work, "out/broken/summary.txt"), "utf8")).toMatch(/^standard-15-bookworm: smoke check "CREATE EXTENSION[^"]*" failed/m);
    expect(await tagsIn(prefix)).toEqual(before);
  });

  it("a changed image is released over the current one: the gate compares both, the notes list the diff", async () => {
    const changedPath = join(".pg-images", runId, "changed.yaml");
    writeFileSync(join(REPO, changedPath), readFileSync(join(REPO, matrixPath), "utf8").replace('packages: { locales-all: "" }', 'packages: { locales-all: "", less: "" }'));
    const r = await call("changed", ["publish", "--release", "--matrix", changedPath, "--timestamp", T4, ...registryArgs]);
    expect(statuses(r.summary), JSON.stringify(reasons(r.summary))).toEqual({ "minimal-15-bookworm": "unchanged", "standard-15-bookworm": "passed", stylechecker: "unchanged" });
    const standard = r.summary.targets["standard-15-bookworm"]!;
    expect(standard.gate).toBe("candidate passes every check");
    expect(await manifestDigest(`${prefix}/postgresql:15-standard-bookworm`)).toBe(standard.digest);
    expect(standard.digest).not.toBe(tested["standard-15-bookworm"]);
    const notes = readFileSync(join(work, "out/changed/notes/standard-15-bookworm.md"), "utf8");
    expect(notes).toContain(`Compared with ${prefix}/postgresql@${tested["standard-15-bookworm"]}.`);
    expect(notes).toMatch(/### Added \(\d+\)\n(- .*\n)*- less /);
  });

  it("retention deletes old dev tags only, and only when asked", async () => {
    const before = await tagsIn(prefix);
    const dry = spawnSync("node", ["dist/bin/pg-images-local.js", "retention", "--days", "0", "--matrix", matrixPath, ...registryArgs], { cwd: REPO, encoding: "utf8" });
    expect(dry.status).toBe(0);
    const devTags = Object.entries(before).flatMap(([repo, tags]) => tags.filter((t) => !t.endsWith(".sbom") && repo.includes("/testing")).map((t) => `127.0.0.1:5000/${repo}:${t}`));
    expect(devTags.length).toBeGreaterThan(0);
    expect(dry.stdout.trim().split("\n").sort()).toEqual(devTags.map((r) => `would delete ${r}`).sort());
    expect(await tagsIn(prefix)).toEqual(before);
    const real = spawnSync("node", ["dist/bin/pg-images-local.js", "retention", "--days", "0", "--delete", "--matrix", matrixPath, ...registryArgs], { cwd: REPO, encoding: "utf8" });
    expect(real.status).toBe(0);
    const after = await tagsIn(prefix);
    for (const ref of devTags) expect(await manifestDigest(ref)).toBeUndefined();
    for (const [repo, tags] of Object.entries(after)) if (!repo.includes("/testing")) expect(tags).toEqual(before[repo]);
  });

  describe("credentials", () => {
    let auth: AuthRegistry;
    const secret = `pw-${runId}-${Math.random().toString(36).slice(2)}`;
    beforeAll(async () => {
      auth = await startAuthRegistry(join(work, "auth-registry"), "pgimages", secret);
    });
    afterAll(() => auth?.stop());

    it("are refused when missing, used as a Secret when given, and appear nowhere", async () => {
      const args = ["publish", "--matrix", matrixPath, "--timestamp", T1, "--image", "minimal", "--registry", `${auth.host}/rel`, "--testing-registry", `${auth.host}/test`];
      const denied = await call("no-credentials", args);
      expect(denied.summary.targets["minimal-15-bookworm"]!.status).toBe("failed");
      expect(denied.summary.targets["minimal-15-bookworm"]!.reason).toMatch(/UNAUTHORIZED|401|authentication required/i);

      const ok = await call("credentials", [...args, "--username", "pgimages", "--password-env", "E2E_REGISTRY_PASSWORD"], { E2E_REGISTRY_PASSWORD: secret });
      expect(ok.summary.targets["minimal-15-bookworm"]!.status).toBe("passed");
      expect(await manifestDigest(ok.summary.targets["minimal-15-bookworm"]!.published![0]!, { user: "pgimages", password: secret })).toBe(ok.summary.targets["minimal-15-bookworm"]!.digest);

      // Logs, reports and SBOMs, every blob the registry stored (layers, configs with their
      // labels, manifests with their annotations), and the engine's own log.
      expect(ok.log).not.toContain(secret);
      expect(grepTree(join(work, "out", "credentials"), secret)).toEqual([]);
      expect(grepTree(auth.storage, secret)).toEqual([]);
      const engineLog = spawnSync("docker", ["logs", "pg-images-dagger-engine"], { encoding: "utf8", maxBuffer: 1 << 30 });
      expect(engineLog.stdout + engineLog.stderr).not.toContain(secret);
    });
  });

  it("publishes to a throwaway registry inside the engine when no registry is given", async () => {
    const r = await call("ephemeral", ["publish", "--matrix", matrixPath, "--timestamp", T1, "--image", "minimal"]);
    expect(r.summary.targets["minimal-15-bookworm"]!.status).toBe("passed");
    expect(r.summary.targets["minimal-15-bookworm"]!.published).toEqual([`pg-images-registry:5000/testing/postgresql:${pgVersion}-${T1}-minimal-bookworm`]);
  });
});

/** Files under dir whose bytes contain the needle (gzip layers are searched unpacked). */
function grepTree(dir: string, needle: string): string[] {
  const r = spawnSync("bash", ["-c", 'grep -rl --binary-files=text -F -- "$1" "$2"; find "$2" -type f -size +0 -print0 | xargs -0 -r sh -c \'for f; do zcat -f "$f" 2>/dev/null | grep -q --binary-files=text -F -- "$0" && echo "$f"; done\' "$1"', "_", needle, dir], { encoding: "utf8" });
  return [...new Set(r.stdout.split("\n").filter(Boolean))].filter((f) => statSync(f).isFile());
}
