import { describe, expect, it } from "vitest";
import { commonTag } from "../../src/plan/tagLanguage.js";
import { renderTag, tagProblem, timestampProblem, utcMinute } from "../../src/plan/tags.js";

const pg = (version: string, major = Number(version.split(/[.~]/)[0])) => ({ major, version, preview: version.includes("~") });
const values = { image: "exttester", postgres: [pg("17.9")], distro: "trixie", flavour: "full", timestamp: "202611231530", revision: "abc1234" };

describe("tags", () => {
  it.each([
    ["{version}-{timestamp}-{flavour}-{distro}", values, "17.9-202611231530-full-trixie"],
    ["{major}-{flavour}-{distro}", values, "17-full-trixie"],
    ["{version}-dev{timestamp}", values, "17.9-dev202611231530"],
    ["{versions}-v{revision}", { ...values, postgres: [pg("16.13"), pg("17.9")] }, "16.13-17.9-vabc1234"],
    ["{version}", { ...values, postgres: [pg("19~beta1")] }, "19beta1"],
    ["{major}", { ...values, postgres: [pg("16.13"), pg("17.9")] }, "{major}"],
  ])("%s → %s", (template, v, tag) => expect(renderTag(template, v)).toBe(tag));

  it.each([
    ["17.9-standard-trixie", undefined],
    ["_x", undefined],
    ["a".repeat(128), undefined],
    ["a".repeat(129), "at most 128"],
    [".hidden", "not a valid OCI tag"],
    ["17.9+1", "not a valid OCI tag"],
    ["{major}-x", "{major} has no value for this target"],
  ])("tag %s → %s", (tag, problem) => {
    const found = tagProblem(tag);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it.each([
    ["202611231530", undefined],
    ["202612312359", undefined],
    ["202613010000", "not a real UTC date"],
    ["202611231560", "not a real UTC date"],
    ["20261123153", "not YYYYMMDDhhmm"],
  ])("timestamp %s → %s", (ts, problem) => {
    const found = timestampProblem(ts);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it("reads a clock value as UTC to the minute", () => expect(utcMinute(new Date("2026-11-23T15:30:59.999Z"))).toBe("202611231530"));
});

describe("whether two templates can make the same tag", () => {
  const fixed = { image: ["exttester"], distro: ["bookworm", "trixie"], flavour: ["minimal"] };
  it.each([
    // the-process: dev and release tags side by side in one repository never meet.
    ["{version}-dev-{shortrevision}", "{version}-v{shortrevision}", undefined],
    ["{versions}-dev-{shortrevision}", "{versions}-v{shortrevision}", undefined],
    ["{version}-dev-{shortrevision}", "{version}", undefined],
    ["0.8.33-dev-{shortrevision}", "0.8.33-v{shortrevision}", undefined],
    // pg-images' test-image defaults.
    ["{version}-dev{timestamp}", "{version}-v{shortrevision}-{timestamp}", undefined],
    ["{versions}-dev{timestamp}", "{versions}", undefined],
    ["dev{timestamp}", "latest", undefined],
    // The same template, or a revision that may hold what tells the other apart.
    ["{version}-{timestamp}-{flavour}-{distro}", "{version}-{timestamp}-{flavour}-{distro}", "0.0-000000000000-minimal-trixie"],
    ["{version}-dev-{shortrevision}", "{version}-{shortrevision}", "0.0-dev-0"],
    ["{version}-dev{revision}", "{version}-devel", "0.0-devel"],
    ["{major}-dev{timestamp}", "{version}", undefined],
    ["{major}", "{version}", undefined],
    ["{major}-{image}", "{version}-exttester", undefined],
    ["{major}-{image}", "{major}-exttester", "0-exttester"],
    ["dev{timestamp}", "dev{timestamp}", "dev000000000000"],
    ["{version}-dev-{shortrevision}", "{version}-dev-{shortrevision}", "0.0-dev-0"],
  ])("%s and %s → %s", (a, b, tag) => {
    expect(commonTag({ template: a, fixed }, { template: b, fixed })).toBe(tag);
    expect(commonTag({ template: b, fixed }, { template: a, fixed })).toBe(tag);
  });

  it("tells apart images by their fixed values: another flavour, another distro", () => {
    const t = "{version}-{timestamp}-{flavour}-{distro}";
    expect(commonTag({ template: t, fixed: { flavour: ["minimal"] } }, { template: t, fixed: { flavour: ["standard"] } })).toBeUndefined();
    expect(commonTag({ template: t, fixed: { distro: ["trixie"] } }, { template: t, fixed: { distro: ["bookworm", "trixie"] } })).toBe("0.0-000000000000-0-trixie");
  });
});
