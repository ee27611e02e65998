import type { Directory } from "@dagger.io/dagger";
import { describe, expect, it } from "vitest";
import { failedTargets, verdictMessage } from "../../src/release/verdict.js";
import { Report } from "../../src/report.js";

const run = (...statuses: string[]) => statuses.map((status, i) => ({ id: `t${i}`, status }));
const dir = { marker: "report directory" } as unknown as Directory;

describe("the verdict over a run", () => {
  it.each([
    [run("passed", "unchanged"), []],
    [run("passed", "failed"), ["t1"]],
    [run("blocked", "passed"), ["t0"]],
    [run("failed", "blocked", "unchanged"), ["t0", "t1"]],
    [run(), []],
  ])("%j fails on %j", (results, failed) => {
    expect(failedTargets(results)).toEqual(failed);
  });

  it("names the targets first, then carries the summary", () => {
    expect(verdictMessage({ summary: "TARGET STATUS\n", failed: ["a", "b"] })).toBe("2 targets did not pass: a, b\n\nTARGET STATUS\n");
  });
});

describe("Report.check", () => {
  it("returns the report directory when nothing failed", () => {
    expect(new Report("all passed\n", [], dir).check()).toBe(dir);
  });

  it("throws with the targets and the summary when a target failed or was blocked", () => {
    expect(() => new Report("minimal-17 failed\n", ["minimal-17"], dir).check()).toThrow("1 target did not pass: minimal-17\n\nminimal-17 failed\n");
  });
});
