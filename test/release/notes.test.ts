// Package diffs from real syft SPDX output (trimmed to packages): debian bookworm-slim and
// trixie-slim as built by scripts/world/bases.sh, scanned by syft 1.57.0.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compareVersions, diffPackages, packagesFromSpdx, releaseNotes } from "../../src/release/notes.js";

const sbom = (name: string) => packagesFromSpdx(readFileSync(`test/fixtures/syft/${name}.spdx.json`, "utf8"));
const bookworm = sbom("debian-bookworm-slim");
const trixie = sbom("debian-trixie-slim");

describe("package diff from SBOMs", () => {
  it("reads every deb package with its version", () => {
    expect(bookworm).toHaveLength(89);
    expect(bookworm.find((p) => p.name === "libc6")).toEqual({ type: "deb", name: "libc6", version: "2.36-9+deb12u14" });
  });

  it("finds upgrades, additions and removals, and flags glibc", () => {
    const d = diffPackages(bookworm, trixie);
    expect([d.added.length, d.removed.length, d.upgraded.length, d.downgraded.length]).toEqual([12, 22, 66, 0]);
    // The base image's own entry: tags have no order, so the change is named without a direction.
    expect(d.changed).toEqual([{ name: "127.0.0.1:5000/library/debian", type: "oci", from: "bookworm-slim", to: "trixie-slim" }]);
    expect(d.upgraded).toContainEqual({ name: "libc6", type: "deb", from: "2.36-9+deb12u14", to: "2.41-12+deb13u5" });
    expect(d.added.map((p) => p.name)).toContain("gcc-14-base");
    expect(d.removed.map((p) => p.name)).toContain("gcc-12-base");
    expect(d.collationRisk).toEqual(["libc-bin", "libc6"]);
  });

  it("calls the other direction a downgrade", () => {
    const d = diffPackages(trixie, bookworm);
    expect(d.downgraded).toContainEqual({ name: "libc6", type: "deb", from: "2.41-12+deb13u5", to: "2.36-9+deb12u14" });
    expect(d.upgraded).toEqual([]);
  });

  it("sees no change between an image and itself", () => {
    const d = diffPackages(bookworm, bookworm);
    expect(d).toEqual({ added: [], removed: [], upgraded: [], downgraded: [], changed: [], collationRisk: [] });
    expect(releaseNotes("minimal-15-bookworm", "r:15-minimal-bookworm", d)).toContain("No package changed.");
  });

  it("flags an ICU change alone", () => {
    const icu = (v: string) => [{ type: "deb", name: "libicu72", version: v }];
    expect(diffPackages(icu("72.1-3"), icu("72.1-3+deb12u1")).collationRisk).toEqual(["libicu72"]);
  });

  it("writes notes with a loud collation warning", () => {
    const notes = releaseNotes("standard-17-trixie", "r:17-standard-trixie", diffPackages(bookworm, trixie));
    expect(notes).toMatch(/^## standard-17-trixie\n\nCompared with r:17-standard-trixie\.\n\n\*\*WARNING: libc-bin, libc6 changed\. Collation order may differ/);
    expect(notes).toContain("### Upgraded (66)\n");
    expect(notes).toContain("- libc6 2.36-9+deb12u14 → 2.41-12+deb13u5\n");
    expect(releaseNotes("x", undefined, undefined)).toContain("First release of this image");
  });
});

// Each ecosystem's own order: dpkg for deb ("~" first), semver for npm, Cargo and Go; none
// claimed elsewhere (PyPI's PEP 440 is not semver: 2.0.0rc1 is not semver-shaped).
describe("version order by package type", () => {
  it.each<[string, string, string, number | undefined]>([
    ["npm", "2.0.0-rc.1", "2.0.0", -1],
    ["npm", "2.0.0-rc.2", "2.0.0-rc.10", -1],
    ["npm", "1.10.0", "1.9.0", 1],
    ["cargo", "1.0.0-alpha", "1.0.0-alpha.1", -1],
    ["golang", "v0.9.0", "v0.10.0", -1],
    ["golang", "v1.2.3-0.20240101000000-abcdef123456", "v1.2.3", -1],
    ["deb", "2.0.0~rc1-1", "2.0.0-1", -1],
    ["deb", "1:1.0-1", "2.0-1", 1],
    ["npm", "not-a-version", "2.0.0", undefined],
    ["pypi", "2.0.0rc1", "2.0.0", undefined],
    ["maven", "1.0", "1.0.1", undefined],
  ])("%s %s vs %s → %s", (type, a, b, order) => {
    expect(compareVersions(type, a, b)).toBe(order);
  });

  it("calls 2.0.0-rc.1 → 2.0.0 an upgrade and lists unordered ecosystems as changed", () => {
    const before = [{ type: "npm", name: "left-pad", version: "2.0.0-rc.1" }, { type: "pypi", name: "mitmproxy", version: "11.0.0rc1" }];
    const after = [{ type: "npm", name: "left-pad", version: "2.0.0" }, { type: "pypi", name: "mitmproxy", version: "11.0.0" }];
    const d = diffPackages(before, after);
    expect([d.upgraded, d.downgraded, d.changed]).toEqual([
      [{ name: "left-pad", type: "npm", from: "2.0.0-rc.1", to: "2.0.0" }],
      [],
      [{ name: "mitmproxy", type: "pypi", from: "11.0.0rc1", to: "11.0.0" }],
    ]);
    expect(releaseNotes("t", "r:t", d)).toContain("### Changed (no known order) (1)\n- mitmproxy (pypi) 11.0.0rc1 → 11.0.0\n");
  });
});
