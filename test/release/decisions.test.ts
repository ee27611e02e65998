import { describe, expect, it } from "vitest";
import { decideGate, decideUniqueTag, type CheckResult } from "../../src/release/decisions.js";

const r = (spec: string): CheckResult[] =>
  spec.split(" ").filter(Boolean).map((s) => ({ name: s.replace(/^!/, ""), ok: !s.startsWith("!") }));

describe("gate: no worse than what it replaces", () => {
  it.each([
    ["a b c", undefined, true, [], "no current image"],
    ["a !b", undefined, false, ["b"], "candidate fails b"],
    ["a b c", "a b c", true, [], "candidate passes every check"],
    ["a !b c", "a b c", false, ["b"], "candidate fails b, which the current image passes"],
    ["a !b c", "a !b c", true, [], "candidate fails only what the current image fails too (b)"],
    ["a b !new", "a b", false, ["new"], "candidate fails new, which the current image passes"],
    ["!a !b", "a !b", false, ["a"], "candidate fails a, which the current image passes"],
  ])("candidate [%s] vs current [%s] → move %s", (cand, cur, move, regressions, reason) => {
    expect(decideGate(r(cand), cur === undefined ? undefined : r(cur))).toEqual({ move, regressions, reason });
  });
});

describe("immutable unique tags", () => {
  it.each([
    [undefined, "sha256:1", { action: "push" }],
    ["sha256:1", "sha256:1", { action: "exists" }],
    ["sha256:1", "sha256:2", { action: "refuse", reason: "r:17.9-x already holds sha256:1; it is immutable and will not be moved to sha256:2" }],
  ])("existing %s, new %s", (existing, digest, action) => {
    expect(decideUniqueTag("r:17.9-x", existing, digest)).toEqual(action);
  });
});
