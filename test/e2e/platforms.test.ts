// Operand images at CloudNativePG's level, on the real engine and registry: one image index for
// linux/amd64 and linux/arm64 (arm64 under emulation), smoke-tested on both, signed with a key and
// attested (SBOM per platform, SLSA provenance) once it passed, promoted as a whole index; then
// checked with standard tools (crane, cosign, regctl, docker buildx) against the registry.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, resolveMatrix, useWorldEngine, WORLD } from "../../scripts/world/world.js";
import { call, dropWork, statuses, useWorldDagger } from "./harness.js";
import { manifestDigest, tagsIn } from "./registry.js";

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
let manifests: Record<string, string> = {};

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
/** A tool of the world (scripts/world/tools.sh) that must succeed; its output. */
function tool(name: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(join(WORLD, "bin", name), args, { encoding: "utf8", cwd: work, env: { ...process.env, ...env }, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`${name} ${args.join(" ")}: exit ${r.status ?? r.signal}: ${r.error?.message ?? ""}${r.stderr}`);
  return r.stdout;
}
// regctl reads the plain-HTTP registry given a host setting; buildx (docker/buildx, standalone)
// reaches 127.0.0.1 over plain HTTP as a local registry.
const regctl = (...args: string[]) => tool("regctl", args, { HOME: work });
const buildx = (...args: string[]) => tool("buildx", args, { DOCKER_CONFIG: join(work, "docker-config") });
interface Descriptor {
  mediaType: string;
  digest: string;
  platform?: { architecture: string; os: string };
  annotations?: Record<string, string>;
}
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
  regctl("registry", "set", "--tls", "disabled", "127.0.0.1:5000");
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

  it("publish signs and attests the tested index", async () => {
    const dev = await call(work, "publish", ["publish", "--matrix", matrixPath, "--timestamp", T, "--image", "minimal", ...registryArgs, ...signingArgs], signingEnv());
    expect(dev.code).toBe(0);
    const t = dev.summary.targets[MINIMAL]!;
    tested = t.digest!;
    manifests = t.manifests!;
    expect(Object.keys(manifests).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    expect(t.signed).toEqual([`${prefix}/testing/postgresql@${tested}`]);
    expect(readFileSync(join(work, "out/publish/cosign.pub"), "utf8")).toBe(readFileSync(join(work, "cosign.pub"), "utf8"));
    expect(readFileSync(join(work, "out/publish/signatures.md"), "utf8")).toContain(`cosign verify --key cosign.pub --insecure-ignore-tlog=true ${prefix}/testing/postgresql@${tested}`);
  });

  it("publishing the same run again writes nothing: the same platform images keep the index, and the attestations, their tag holds", async () => {
    const before = await tagsIn(prefix);
    const again = await call(work, "again", ["publish", "--matrix", matrixPath, "--timestamp", T, "--image", "minimal", ...registryArgs, ...signingArgs], signingEnv());
    expect(again.code, again.log.slice(-3000)).toBe(0);
    const t = again.summary.targets[MINIMAL]!;
    expect([t.status, t.published, t.digest, t.manifests]).toEqual(["passed", [], tested, manifests]);
    expect(await tagsIn(prefix)).toEqual(before);
  });

  it("publish --release promotes the index whole", async () => {
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
      manifests: { digest: string; platform: { architecture: string }; annotations?: Record<string, string> }[];
    };
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    const images = index.manifests.filter((m) => m.platform.architecture !== "unknown");
    expect(Object.fromEntries(images.map((m) => [`linux/${m.platform.architecture}`, m.digest]))).toEqual(manifests);
    for (const a of [index.annotations, ...images.map((m) => m.annotations)]) {
      expect(a?.["io.pg-images.target"]).toBe(MINIMAL);
      expect(a?.["org.opencontainers.image.base.name"]).toMatch(/debian/);
    }
  });

  // BuildKit's layout (docs/attestations/attestation-storage.md), read with regctl: per platform
  // manifest, an unknown/unknown manifest that names it, whose layers are in-toto statements about it.
  it("the index holds an attestation manifest per platform, laid out as BuildKit lays them out (regctl)", () => {
    const repo = `${prefix}/postgresql`;
    const index = JSON.parse(regctl("manifest", "get", "--format", "raw-body", `${repo}:15-minimal-bookworm`)) as { manifests: Descriptor[] };
    const attestations = index.manifests.filter((m) => m.annotations?.["vnd.docker.reference.type"] === "attestation-manifest");
    expect(Object.fromEntries(attestations.map((a) => [a.annotations!["vnd.docker.reference.digest"], a.platform]))).toEqual(
      Object.fromEntries(Object.values(manifests).map((d) => [d, { architecture: "unknown", os: "unknown" }])),
    );
    for (const a of attestations) {
      const about = a.annotations!["vnd.docker.reference.digest"]!;
      const manifest = JSON.parse(regctl("manifest", "get", "--format", "raw-body", `${repo}@${a.digest}`)) as { layers: Descriptor[] };
      expect(manifest.layers.map((l) => [l.mediaType, l.annotations?.["in-toto.io/predicate-type"]])).toEqual([
        ["application/vnd.in-toto+json", "https://spdx.dev/Document"],
        ["application/vnd.in-toto+json", "https://slsa.dev/provenance/v0.2"],
      ]);
      for (const layer of manifest.layers) {
        const statement = JSON.parse(regctl("blob", "get", repo, layer.digest)) as { _type: string; predicateType: string; subject: { digest: { sha256: string } }[] };
        expect([statement._type, statement.predicateType, statement.subject.map((s) => `sha256:${s.digest.sha256}`)]).toEqual(["https://in-toto.io/Statement/v0.1", layer.annotations!["in-toto.io/predicate-type"], [about]]);
      }
    }
  });

  it.each(["testing", "release"])("docker buildx imagetools inspect reads each platform's SBOM and provenance from the %s index", (where) => {
    const ref = where === "testing" ? `${prefix}/testing/postgresql@${tested}` : `${prefix}/postgresql:15-minimal-bookworm`;
    const sbom = JSON.parse(buildx("imagetools", "inspect", ref, "--format", "{{ json .SBOM }}")) as Record<string, { SPDX: { spdxVersion: string; packages: { name: string; externalRefs?: { referenceLocator: string }[] }[] } }>;
    expect(Object.keys(sbom).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    for (const [platform, { SPDX }] of Object.entries(sbom)) {
      expect(SPDX.spdxVersion).toMatch(/^SPDX-2\./);
      const pg = SPDX.packages.find((p) => p.name === "postgresql-15");
      expect(JSON.stringify(pg?.externalRefs), platform).toContain(`arch=${platform.split("/")[1]}`);
    }
    const provenance = JSON.parse(buildx("imagetools", "inspect", ref, "--format", "{{ json .Provenance }}")) as Record<string, { SLSA: { builder: { id: string }; buildConfig: { smokeChecks: string[] }; metadata: { buildFinishedOn: string } } }>;
    expect(Object.keys(provenance).sort()).toEqual(["linux/amd64", "linux/arm64"]);
    for (const { SLSA } of Object.values(provenance)) {
      expect(SLSA.builder.id).toMatch(/^pkg:npm\/pg-images@\d+\.\d+\.\d+\?engine=dagger@v0\.21\.8$/);
      expect(SLSA.buildConfig.smokeChecks.filter((n) => n.startsWith("linux/arm64: ")).length).toBeGreaterThan(2);
      expect(Date.parse(SLSA.metadata.buildFinishedOn)).not.toBeNaN();
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
    // The run time of the good publish: minimal is the image published above, so only the broken
    // standard is built and tested again.
    const r = await call(work, "broken", ["publish", "--matrix", brokenPath, "--timestamp", T, ...registryArgs, ...signingArgs], signingEnv());
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
