import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseMatrix } from "../../src/matrix/load.js";
import { matrixJsonSchema } from "../../src/matrix/jsonSchema.js";
import { formatPath } from "../../src/matrix/problems.js";
import { findCycle } from "../../src/matrix/rules.js";
import { suiteFor } from "../../src/matrix/sources.js";
import { runCli } from "../helpers/cli.js";

const valid = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");

describe("matrix schema", () => {
  it("accepts the fixture and fills defaults", () => {
    const r = parseMatrix(valid);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.matrix.pgdg.mirror).toBe("https://apt.postgresql.org/pub/repos/apt");
    expect(r.matrix.images[0]!.enable).toBe(true);
    expect(r.matrix.images[0]!.push).toBe(true);
    expect(r.matrix.postgres[0]!.preview).toBe(false);
  });

  it("accepts the checked-in matrix.yaml", async () => {
    const { code, out, err } = await runCli(["validate", "--matrix", "matrix.yaml"]);
    expect(err).toBe("");
    expect(code).toBe(0);
    expect(out).toMatch(/^matrix.yaml: valid, \d+ targets\n$/);
  });

  it("reports every problem at once, not only the first", () => {
    const r = parseMatrix(valid.replace("kind: extbuilder", "kind: nope").replace("flavour: minimal", "flavour: Tiny"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems.map((p) => formatPath(p.path))).toEqual(["images[0].flavour", "images[2].kind"]);
  });

  it("keeps matrix.schema.json in step with the zod schema (regenerate: npm run schema)", () => {
    const committed = JSON.parse(readFileSync("matrix.schema.json", "utf8"));
    expect(committed).toEqual(JSON.parse(JSON.stringify(matrixJsonSchema())));
  });

  it("points matrix.yaml at its schema for editors", () => {
    expect(readFileSync("matrix.yaml", "utf8")).toMatch(/^# yaml-language-server: \$schema=\.\/matrix\.schema\.json$/m);
  });
});

describe("package sources", () => {
  it.each([
    ["pgdg", "bookworm", 17, "bookworm-pgdg"],
    ["pgdg", "trixie", 19, "trixie-pgdg"],
    ["distro", "bookworm", 15, "bookworm"],
    ["distro", "bookworm", 13, "bullseye"],
    ["distro", "trixie", 15, "bookworm"],
    ["distro", "bookworm", 17, undefined],
    ["distro", "buster", 11, undefined],
  ] as const)("%s on %s offers PostgreSQL %i from %s", (source, distro, major, suite) => {
    expect(suiteFor(source, distro, major)).toBe(suite);
  });
});

describe("findCycle", () => {
  it.each([
    [{ a: ["b"], b: ["c"], c: [] }, undefined],
    [{ a: ["b"], b: ["a"] }, ["a", "b", "a"]],
    [{ x: ["x"] }, ["x", "x"]],
    [{ a: ["b"], b: ["c"], c: ["b"] }, ["b", "c", "b"]],
  ])("%j → %j", (edges, cycle) => {
    expect(findCycle(new Map(Object.entries(edges)))).toEqual(cycle);
  });
});

describe("formatPath", () => {
  it.each([
    [[], ""],
    [["images", 2, "from"], "images[2].from"],
    [["extensions", "pgaudit", "pins", "pgdg", "17"], 'extensions.pgaudit.pins.pgdg["17"]'],
  ] as const)("%j → %s", (path, text) => expect(formatPath(path)).toBe(text));
});
