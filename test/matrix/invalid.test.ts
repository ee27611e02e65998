// Every invalid matrix under fixtures/matrices/invalid fails with the problems its header lists
// ("# expect: line:col path: message"), and the command exits non-zero.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

const dir = "test/fixtures/matrices/invalid";
const cases = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

describe("invalid matrices", () => {
  it("has at least 20 cases", () => expect(cases.length).toBeGreaterThanOrEqual(20));

  it.each(cases)("%s", async (name) => {
    const file = join(dir, name);
    const expected = readFileSync(file, "utf8").split("\n").filter((l) => l.startsWith("# expect: ")).map((l) => l.slice("# expect: ".length));
    expect(expected.length).toBeGreaterThan(0);
    const { code, out, err } = await runCli(["validate", "--matrix", file]);
    expect(code).toBe(1);
    expect(out).toBe("");
    for (const e of expected) {
      const [, pos, rest] = /^(\d+:\d+) (.*)$/.exec(e)!;
      expect(err).toContain(`${file}:${pos} ${rest}`);
    }
  });

  it("plans nothing from an invalid matrix", async () => {
    const { code, out } = await runCli(["plan", "--format", "json", "--matrix", join(dir, cases[0]!)]);
    expect(code).toBe(1);
    expect(out).toBe("");
  });
});
