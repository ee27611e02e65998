import { describe, expect, it } from "vitest";
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
