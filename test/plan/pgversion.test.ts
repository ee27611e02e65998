// PostgreSQL versions in release order, previews before the final release (README, Versions).
import { describe, expect, it } from "vitest";
import { comparePgVersions, parsePgVersion } from "../../src/plan/pgversion.js";

describe("PostgreSQL version order", () => {
  it("sorts previews before the release and minors numerically", () => {
    const shuffled = ["19.1", "19~rc1", "18.10", "19.0", "19~beta2", "18.9", "19~alpha1", "19~beta1", "19~beta10"];
    expect([...shuffled].sort(comparePgVersions)).toEqual(["18.9", "18.10", "19~alpha1", "19~beta1", "19~beta2", "19~beta10", "19~rc1", "19.0", "19.1"]);
  });

  it.each<[string, string, number]>([
    ["19~beta1", "19~rc1", -1],
    ["19~rc1", "19.0", -1],
    ["17.9", "17.9", 0],
    ["17.10", "17.9", 1],
    ["9.6", "10.0", -1],
  ])("%s vs %s → %i", (a, b, order) => expect(comparePgVersions(a, b)).toBe(order));

  it.each([
    ["17.9", { major: 17, number: 9 }],
    ["19~beta1", { major: 19, stage: "beta", number: 1 }],
    ["17", undefined],
    ["17.9.1", undefined],
    ["19-beta1", undefined],
    ["19~preview1", undefined],
  ])("parses %s", (text, parsed) => expect(parsePgVersion(text)).toEqual(parsed));

  it("refuses what is not a PostgreSQL version", () => {
    expect(() => comparePgVersions("17.9", "latest")).toThrow('"latest" is not a PostgreSQL version such as 17.9 or 19~beta1');
  });
});
