// Package diffs from real syft SPDX output (trimmed to packages): debian bookworm-slim and
// trixie-slim as built by scripts/world/bases.sh, scanned by syft 1.57.0.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { diffPackages, packagesFromSpdx, releaseNotes } from "../../src/release/notes.js";

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
    expect([d.added.length, d.removed.length, d.upgraded.length, d.downgraded.length]).toEqual([12, 22, 67, 0]);
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
    expect(d).toEqual({ added: [], removed: [], upgraded: [], downgraded: [], collationRisk: [] });
    expect(releaseNotes("minimal-15-bookworm", "r:15-minimal-bookworm", d)).toContain("No package changed.");
  });

  it("flags an ICU change alone", () => {
    const icu = (v: string) => [{ type: "deb", name: "libicu72", version: v }];
    expect(diffPackages(icu("72.1-3"), icu("72.1-3+deb12u1")).collationRisk).toEqual(["libicu72"]);
  });

  it("writes notes with a loud collation warning", () => {
    const notes = releaseNotes("standard-17-trixie", "r:17-standard-trixie", diffPackages(bookworm, trixie));
    expect(notes).toMatch(/^## standard-17-trixie\n\nCompared with r:17-standard-trixie\.\n\n\*\*WARNING: libc-bin, libc6 changed\. Collation order may differ/);
    expect(notes).toContain("### Upgraded (67)\n");
    expect(notes).toContain("- libc6 2.36-9+deb12u14 → 2.41-12+deb13u5\n");
    expect(releaseNotes("x", undefined, undefined)).toContain("First release of this image");
  });
});
