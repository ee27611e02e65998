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
  const m = (amd64: string, arm64?: string) => ({ "linux/amd64": amd64, ...(arm64 ? { "linux/arm64": arm64 } : {}) });
  it.each([
    [undefined, { digest: "sha256:1" }, { action: "push" }],
    [{ digest: "sha256:1" }, { digest: "sha256:1" }, { action: "exists", digest: "sha256:1" }],
    [{ digest: "sha256:1" }, { digest: "sha256:2" }, { action: "refuse", reason: "r:17.9-x already holds sha256:1; it is immutable and will not be moved to sha256:2" }],
    // The same platform images under another index (attestations of another run): the tag keeps its own.
    [{ digest: "sha256:1", manifests: m("sha256:a", "sha256:b") }, { digest: "sha256:2", manifests: m("sha256:a", "sha256:b") }, { action: "exists", digest: "sha256:1" }],
    [{ digest: "sha256:1", manifests: m("sha256:a") }, { digest: "sha256:2", manifests: m("sha256:a") }, { action: "exists", digest: "sha256:1" }],
    [{ digest: "sha256:1", manifests: m("sha256:a", "sha256:b") }, { digest: "sha256:2", manifests: m("sha256:a", "sha256:c") }, { action: "refuse", reason: "r:17.9-x already holds sha256:1; it is immutable and will not be moved to sha256:2" }],
    [{ digest: "sha256:1", manifests: m("sha256:a") }, { digest: "sha256:2", manifests: m("sha256:a", "sha256:b") }, { action: "refuse", reason: "r:17.9-x already holds sha256:1; it is immutable and will not be moved to sha256:2" }],
    [{ digest: "sha256:1", manifests: {} }, { digest: "sha256:2", manifests: {} }, { action: "refuse", reason: "r:17.9-x already holds sha256:1; it is immutable and will not be moved to sha256:2" }],
    [{ digest: "sha256:1" }, { digest: "sha256:2", manifests: m("sha256:a") }, { action: "refuse", reason: "r:17.9-x already holds sha256:1; it is immutable and will not be moved to sha256:2" }],
  ])("existing %j, new %j", (existing, candidate, action) => {
    expect(decideUniqueTag("r:17.9-x", existing, candidate)).toEqual(action);
  });
});
