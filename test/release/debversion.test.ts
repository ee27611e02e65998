import { describe, expect, it } from "vitest";
import { compareDebianVersions } from "../../src/release/debversion.js";

describe("Debian version order", () => {
  it.each([
    ["15.14-0+deb12u1", "15.13-0+deb12u1", 1],
    ["2.36-9+deb12u10", "2.36-9+deb12u9", 1],
    ["1:1.0", "2.0", 1],
    ["19~beta1-1", "19.0-1", -1],
    ["1.0~rc1", "1.0", -1],
    ["1.0", "1.0", 0],
    ["1.0a", "1.0+", -1],
    ["72.1-3", "72.1-3+deb12u1", -1],
    ["17.9-1.pgdg120+1", "17.10-1.pgdg120+1", -1],
  ])("%s vs %s → %i", (a, b, sign) => {
    expect(compareDebianVersions(a, b)).toBe(sign);
    expect(compareDebianVersions(b, a)).toBe(-sign || 0);
  });
});
