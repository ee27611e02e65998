import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planFromText } from "../../src/plan/fromText.js";
import { BUILD_TYPE, provenance } from "../../src/release/provenance.js";

const inputs = { timestamp: "202601020304", revision: "abc1234" };
const { plan } = planFromText(readFileSync("test/fixtures/matrices/valid.yaml", "utf8"), "valid.yaml", { inputs });
const target = plan.targets.find((t) => t.id === "standard-17-trixie")!;
const input = {
  target,
  inputs,
  builder: { pgImages: "0.1.0", engine: "v0.21.8" },
  source: { uri: "https://github.com/pg-images/pg-images", matrix: "matrix.yaml" },
  checks: [{ name: "linux/amd64: SELECT version()", ok: true }, { name: "linux/arm64: SELECT version()", ok: true }],
};

describe("SLSA provenance", () => {
  it("names the builder by pg-images and engine version, and what the build read", () => {
    const p = provenance(input) as any;
    expect(p.builder).toEqual({ id: "pkg:npm/pg-images@0.1.0?engine=dagger@v0.21.8" });
    expect(p.buildType).toBe(BUILD_TYPE);
    expect(p.invocation.configSource).toEqual({ uri: "https://github.com/pg-images/pg-images", digest: { revision: "abc1234" }, entryPoint: "matrix.yaml" });
    expect(p.invocation.parameters).toEqual({ target: "standard-17-trixie", kind: "operand", platforms: ["linux/amd64", "linux/arm64"], timestamp: "202601020304" });
    expect(p.buildConfig.inputKey).toBe(target.inputKey);
    expect(p.buildConfig.smokeChecks).toEqual(["linux/amd64: SELECT version()", "linux/arm64: SELECT version()"]);
    expect(p.metadata.buildStartedOn).toBe("2026-01-02T03:04:00Z");
    const [name, digest] = target.base.split("@");
    expect(p.materials).toEqual([{ uri: name, digest: { sha256: digest!.slice("sha256:".length) } }]);
  });

  it("lists the pins: PostgreSQL, extensions and packages", () => {
    const p = provenance(input) as any;
    expect(p.buildConfig.postgres).toEqual(["17.9"]);
    expect(p.buildConfig.extensions).toEqual(target.extensions.map((e) => ({ package: e.package, version: e.version })));
    expect(p.buildConfig.extensions.length).toBeGreaterThan(0);
  });

  it("says when it was made, as BuildKit's buildFinishedOn, only when told", () => {
    expect((provenance({ ...input, finishedOn: "2026-01-02T03:09:10.000Z" }) as any).metadata.buildFinishedOn).toBe("2026-01-02T03:09:10.000Z");
    expect((provenance(input) as any).metadata).not.toHaveProperty("buildFinishedOn");
  });

  it("is never made for an image that failed a check", () => {
    expect(() => provenance({ ...input, checks: [{ name: "linux/arm64: SELECT version()", ok: false }] })).toThrow("standard-17-trixie: no provenance for an image that failed linux/arm64: SELECT version()");
  });
});
