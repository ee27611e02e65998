// A large matrix costs time in proportion to its size, and a report stays readable however many
// problems it has: the first 50, then how many more.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseMatrix } from "../../src/matrix/load.js";
import { runCli } from "../helpers/cli.js";

const valid = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");
const dir = mkdtempSync(join(tmpdir(), "pg-images-scale-"));

/** valid.yaml with n unknown keys under its first image, on lines 33 to 32 + n. */
function withUnknownKeys(n: number): string {
  const lines = valid.split("\n");
  const at = lines.findIndex((l) => l.startsWith("  - id: "));
  lines.splice(at + 1, 0, ...Array.from({ length: n }, (_, k) => `    unknown${k}: 1`));
  return lines.join("\n");
}

describe("validation time", () => {
  // Quadratic lookups took 240 s here on a busy 2-core machine, linear ones 3 s: the bound is loose
  // enough for a loaded machine and still two orders of magnitude below the quadratic cost.
  it("stays linear: 30,000 unknown keys in under 15 s, each one reported", () => {
    const text = withUnknownKeys(30_000);
    const start = performance.now();
    const result = parseMatrix(text);
    const ms = performance.now() - start;
    expect(result.ok ? 0 : result.problems.length).toBe(30_000);
    expect(ms).toBeLessThan(15_000);
  }, 120_000);
});

describe("the printed report", () => {
  it.each([
    [1, 1, null],
    [50, 50, null],
    [51, 50, "  … and 1 more problem"],
    [60, 50, "  … and 10 more problems"],
  ])("%i problems: the count, %i listed, then %s", async (n, listed, rest) => {
    const file = join(dir, `keys-${n}.yaml`);
    writeFileSync(file, withUnknownKeys(n));
    const { code, err } = await runCli(["validate", "--matrix", file]);
    const lines = err.trimEnd().split("\n");
    expect(code).toBe(1);
    expect(lines[0]).toBe(`${file}: ${n} problem${n === 1 ? "" : "s"}`);
    expect(lines[1]).toBe(`  ${file}:33:5 images[0].unknown0: unknown key "unknown0"`);
    expect(lines.slice(1).filter((l) => l.startsWith(`  ${file}:`))).toHaveLength(listed);
    expect(lines.length).toBe(1 + listed + (rest ? 1 : 0));
    if (rest) expect(lines.at(-1)).toBe(rest);
  });
});
