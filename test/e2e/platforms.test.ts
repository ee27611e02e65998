// Operand images at CloudNativePG's level, on the real engine and registry: one image index for
// linux/amd64 and linux/arm64 (arm64 under emulation), smoke-tested on both, signed with a key and
// attested (SBOM per platform, SLSA provenance) once it passed, promoted as a whole index; then
// checked with standard tools (crane, cosign) against the registry.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, resolveMatrix, useWorldEngine, WORLD } from "../../scripts/world/world.js";
import { call, dropWork, statuses, useWorldDagger } from "./harness.js";
import { manifestDigest } from "./registry.js";

const runId = `platforms${Date.now().toString(36)}`;
const work = join(REPO, ".pg-images", runId);
const prefix = `127.0.0.1:5000/${runId}`;
const T = "202611240500";
const PASSWORD = `key-${runId}`;
const MINIMAL = "minimal-15-bookworm";
let matrixPath = "";
let brokenPath = "";
let registryArgs: string[] = [];
let signingArgs: string[] = [];
let tested = "";

/** The world's cosign (scripts/world/tools.sh) against the plain-HTTP registry on 127.0.0.1. */
function cosign(args: string[], env: Record<string, string> = {}): { code: number; out: string } {
  const [sub, ...rest] = args;
  const registryFlags = sub === "generate-key-pair" || sub === "verify-blob" ? [] : ["--allow-insecure-registry", "--allow-http-registry"];
  const r = spawnSync(join(WORLD, "bin/cosign"), [sub!, ...registryFlags, ...rest], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    cwd: work,
    // verify-attestation prints every attestation in full: an SBOM per platform.
    maxBuffer: 1 << 30,
  });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
const crane = (...args: string[]) => spawnSync(join(WORLD, "bin/crane"), ["--insecure", ...args], { encoding: "utf8" });
// An empty trusted root keeps cosign off the internet: with a key, no Sigstore roots are needed.
const verifyArgs = ["--key", "cosign.pub", "--insecure-ignore-tlog=true", "--trusted-root", "empty-root.json"];

beforeAll(async () => {
  useWorldEngine();
  useWorldDagger();
  mkdirSync(work, { recursive: true });
  const { text, values } = await resolveMatrix(readFileSync(join(REPO, "test/e2e/platforms.yaml"), "utf8"));
  matrixPath = join(".pg-images", runId, "matrix.yaml");
  writeFileSync(join(REPO, matrixPath), text);
  // The broken recipe: pgaudit's package swapped for another extension's, so CREATE EXTENSION fails.
  brokenPath = join(".pg-images", runId, "broken.yaml");
  const pgaudit = `"15": "${values["{{pin:bookworm:postgresql-15-pgaudit}}"]}"`;
  const hll = `"15": "${values["{{pin:bookworm:postgresql-15-hll}}"]}"`;
  writeFileSync(join(REPO, brokenPath), text.replace("package: postgresql-{major}-pgaudit", "package: postgresql-{major}-hll").replace(pgaudit, hll));
  registryArgs = ["--registry", prefix, "--testing-registry", `${prefix}/testing`];
  writeFileSync(join(work, "empty-root.json"), JSON.stringify({ mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1" }));
  const keys = cosign(["generate-key-pair"], { COSIGN_PASSWORD: PASSWORD });
  if (keys.code !== 0) throw new Error(`cosign generate-key-pair: ${keys.out}`);
  signingArgs = ["--signing-key-env", "E2E_COSIGN_KEY", "--signing-password-env", "E2E_COSIGN_PASSWORD"];
}, 600_000);

afterAll(() => dropWork(work));

const signingEnv = () => ({ E2E_COSIGN_KEY: readFileSync(join(work, "cosign.key"), "utf8"), E2E_COSIGN_PASSWORD: PASSWORD });

describe("one index for amd64 and arm64", () => {
  it("build-all smoke-tests both platforms; PostgreSQL reports each architecture; an SBOM per platform", async () => {
    const r = await call(work, "build-all", ["build-all", "--matrix", matrixPath, "--timestamp", T, "--image", "minimal"]);
    expect(r.code).toBe(0);
    const t = r.summary.targets[MINIMAL]!;
    expect(t.status).toBe("passed");
    const names = t.checks.map((c) => c.name);
    for (const p of ["linux/amd64", "linux/arm64"]) expect(names.filter((n) => n.startsWith(`${p}: `)).length).toBeGreaterThan(2);
    expect(t.checks.every((c) => c.ok)).toBe(true);
    expect(readdirSync(join(work, "out/build-all/sbom")).sort()).toEqual([
      `${MINIMAL}.cdx.json`, `${MINIMAL}.linux-arm64.cdx.json`, `${MINIMAL}.linux-arm64.spdx.json`, `${MINIMAL}.spdx.json`,
    ]);
    const arm = JSON.parse(readFileSync(join(work, "out/build-all/sbom", `${MINIMAL}.linux-arm64.spdx.json`), "utf8")) as { packages: { name: string; externalRefs?: { referenceLocator: string }[] }[] };
    const pg = arm.packages.find((p) => p.name === "postgresql-15");
    expect(JSON.stringify(pg?.externalRefs)).toContain("arch=arm64");
  });

  it("publish signs and attests the tested index; publish --release promotes it whole", async () => {
    const dev = await call(work, "publish", ["publish", "--matrix", matrixPath, "--timestamp", T, "--image", "minimal", ...registryArgs, ...signingArgs], signingEnv());
    expect(dev.code).toBe(0);
    const t = dev.summary.targets[MINIMAL]!;
    tested = t.digest!;
    expect(t.signed).toEqual([`${prefix}/testing/postgresql@${tested}`]);
    expect(readFileSync(join(work, "out/publish/cosign.pub"), "utf8")).toBe(readFileSync(join(work, "cosign.pub"), "utf8"));
    expect(readFileSync(join(work, "out/publish/signatures.md"), "utf8")).toContain(`cosign verify --key cosign.pub --insecure-ignore-tlog=true ${prefix}/testing/postgresql@${tested}`);

    // A release needs no identity for the images (their signatures are copied); given one, it
    // signs the catalogs it writes.
    const release = await call(work, "release", ["publish", "--release", "--matrix", matrixPath, "--timestamp", T, "--image", "minimal", ...registryArgs, ...signingArgs], signingEnv());
    expect(release.code).toBe(0);
    expect(statuses(release.summary)).toEqual({ [MINIMAL]: "passed" });
    for (const ref of release.summary.targets[MINIMAL]!.published!) expect(await manifestDigest(ref), ref).toBe(tested);
  });

  it("the ClusterImageCatalog names the index digest and is signed as a blob", () => {
    const catalog = join(work, "out/release/catalogs/catalog-minimal-bookworm.yaml");
    expect(readFileSync(catalog, "utf8")).toContain(`@${tested}`);
    const verifyBlob = ["verify-blob", "--key", "cosign.pub", "--insecure-ignore-tlog=true", "--new-bundle-format", "--trusted-root", "empty-root.json", "--bundle", `${catalog}.bundle`];
    const ok = cosign([...verifyBlob, catalog]);
    expect(ok.code, ok.out).toBe(0);
    writeFileSync(join(work, "tampered.yaml"), readFileSync(catalog, "utf8").replace(tested, "sha256:" + "0".repeat(64)));
    const tampered = cosign([...verifyBlob, join(work, "tampered.yaml")]);
    expect(tampered.code).not.toBe(0);
  });

  it("the release tag is an index of both platforms, annotated on the index and on every manifest", () => {
    const index = JSON.parse(crane("manifest", `${prefix}/postgresql:15-minimal-bookworm`).stdout) as {
      mediaType: string;
      annotations?: Record<string, string>;
      manifests: { platform: { architecture: string }; annotations?: Record<string, string> }[];
    };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => m.platform.architecture).sort()).toEqual(["amd64", "arm64"]);
    for (const a of [index.annotations, ...index.manifests.map((m) => m.annotations)]) {
      expect(a?.["io.pg-images.target"]).toBe(MINIMAL);
      expect(a?.["org.opencontainers.image.base.name"]).toMatch(/debian/);
    }
  });

  it.each(["testing", "release"])("cosign verifies the %s digest, its SBOM and its provenance", (where) => {
    const ref = `${where === "testing" ? `${prefix}/testing` : prefix}/postgresql@${tested}`;
    const sig = cosign(["verify", ...verifyArgs, ref]);
    expect(sig.code, sig.out).toBe(0);
    for (const type of ["spdxjson", "slsaprovenance"]) {
      const att = cosign(["verify-attestation", ...verifyArgs, "--type", type, ref]);
      expect(att.code, `${type}: ${att.out}`).toBe(0);
    }
    const statement = cosign(["verify-attestation", ...verifyArgs, "--type", "slsaprovenance", ref]).out.split("\n").find((l) => l.startsWith("{"))!;
    const predicate = JSON.parse(Buffer.from((JSON.parse(statement) as { payload: string }).payload, "base64").toString()).predicate;
    expect(predicate.builder.id).toMatch(/^pkg:npm\/pg-images@\d+\.\d+\.\d+\?engine=dagger@v0\.21\.8$/);
    expect(predicate.buildConfig.smokeChecks.filter((n: string) => n.startsWith("linux/arm64: ")).length).toBeGreaterThan(2);
  });

  it("a target that failed its smoke test is not signed, and the call fails", async () => {
    const r = await call(work, "broken", ["publish", "--matrix", brokenPath, "--timestamp", "202611240600", ...registryArgs, ...signingArgs], signingEnv());
    expect(r.code).toBe(1);
    const standard = r.summary.targets["standard-15-bookworm"]!;
    expect(standard.status).toBe("failed");
    expect(standard.signed).toBeUndefined();
    expect(await manifestDigest(`${prefix}/testing/postgresql:${standard.digest!.replace(":", "-")}.sig`)).toBeUndefined();
  });

  it("an image pushed into the repository by hand fails verification", () => {
    const base = /base: "([^"]+)"/.exec(readFileSync(join(REPO, matrixPath), "utf8"))![1]!;
    const copied = crane("copy", base, `${prefix}/postgresql:by-hand`);
    expect(copied.status, copied.stderr).toBe(0);
    const r = cosign(["verify", ...verifyArgs, `${prefix}/postgresql:by-hand`]);
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/no signatures found|no matching signatures/i);
  });
});
