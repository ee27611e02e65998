// Whatever the input, the loader returns problems with their line:col and the plain command exits
// 0, 1 (problems in the matrix), 2 (usage: bad flags, a path that cannot be read) or 3 (a fault of
// pg-images, one line) — never a stack trace, an engine's own words or a Node warning.
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { main, type Io } from "../../src/cli.js";
import { parseMatrix } from "../../src/matrix/load.js";
import { formatProblem } from "../../src/matrix/problems.js";

/** Every problem parseMatrix finds in the text, as the report prints it (without the file name). */
function problems(text: string): string[] {
  const result = parseMatrix(text);
  return result.ok ? [] : result.problems.map((p) => formatProblem("m.yaml", p).replace(/^m\.yaml:?/, ""));
}

const valid = readFileSync("test/fixtures/matrices/valid.yaml", "utf8");

// Two anchors of ten aliases each, nine levels deep: 10^9 values once expanded.
const aliasBomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]", ..."bcdefghi".split("").map((n, i) => `${n}: &${n} [${Array(10).fill(`*${"abcdefghi"[i]}`).join(", ")}]`)].join("\n");

describe("the loader turns every YAML hazard into a located problem", () => {
  it.each([
    ["an alias before its anchor", "a: *x\nb: &x 1\n", ["1:4 a: alias *x comes before its anchor &x; define the anchor first"]],
    ["an alias inside the value it names", "a: &a [*a]\n", ["1:8 a[0]: alias *a is inside the value it names, which never ends; write the value out"]],
    ["aliases that expand without bound", aliasBomb, ["2:8 (top): aliases repeat values more than 100 times in all; write the values out"]],
    ["an unknown tag", "registry: !foo 1\n", ['1:16 registry: unknown tag "!foo"; matrix.yaml takes plain values, remove the tag']],
    ["a YAML 1.1 tag", "registry:\n  release: !!binary aGk=\n", ['2:21 registry.release: unknown tag "!!binary"; matrix.yaml takes plain values, remove the tag']],
    ["a list as a key", "? [a]\n: 1\n", ["1:3 (top): a key is a list or a map; keys are plain names"]],
    ["a YAML 1.1 directive", "%YAML 1.1\n---\na: yes\n", ["1:1 (top): YAML 1.1 directive; matrix.yaml is YAML 1.2, remove the %YAML line"]],
    ["a duplicate key", "a: 1\nb: 2\na: 3\n", ['3:1 a: duplicate key "a" (first on line 1); keep one']],
    ["nesting past 32 levels", `a: ${"[".repeat(40)}${"]".repeat(40)}\n`, [`1:35 a${"[0]".repeat(31)}: nested more than 32 levels deep; matrix.yaml needs at most 5`]],
    ["a line separator in a key", `${valid}"x\u2028y": 1\n`, ['54:1 ["x\\u2028y"]: unknown key "x\\u2028y"']],
    ["a bidi override in a key", `${valid}"x\u202ey": 1\n`, ['54:1 ["x\\u202ey"]: unknown key "x\\u202ey"']],
    ["a number too large for a double", "registry: 1e999\n", null],
  ])("%s", (_, text, expected) => {
    const found = problems(text);
    if (expected) expect(found).toEqual(expected);
    else expect(found[0]).toBe("1:1 registry: expected object, found Infinity");
  });

  it("says nesting the parser cannot follow is too deep, not that a stack overflowed", () => {
    const found = problems(`a: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^1:\d+ \(top\): YAML: nested too deeply to read; matrix.yaml needs at most 5 levels$/);
  });

  it("refuses text longer than 4 MiB before parsing it", () => {
    expect(problems("#".repeat(4 * 1024 * 1024 + 1))).toEqual([" (top): 4194305 characters, more than the limit of 4194304 (4 MiB); is this the matrix file?"]);
  });
});

interface Run {
  code: number;
  out: string;
  err: string;
}

async function cli(args: string[], io: Partial<Io> = {}): Promise<Run> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), now: () => new Date("2026-01-02T03:04:59Z"), ...io });
  return { code, out, err };
}

const dir = mkdtempSync(join(tmpdir(), "pg-images-robust-"));
symlinkSync(join(dir, "loop-b"), join(dir, "loop-a"));
symlinkSync(join(dir, "loop-a"), join(dir, "loop-b"));
writeFileSync(join(dir, "latin1.yaml"), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
writeFileSync(join(dir, "collection-key.yaml"), "? [a, b]\n: 1\n");
const errno = (code: string) => () => {
  throw Object.assign(new Error(`${code}: refused by the system, open 'x'`), { code });
};

describe("the plain command's exit codes and messages", () => {
  afterEach(() => vi.restoreAllMocks());

  it.each<[string, string[], Partial<Io>, number, string]>([
    ["a directory", ["validate", "--matrix", dir], {}, 2, `pg-images: cannot read ${dir}: is a directory; name the file, such as DIR/matrix.yaml\n`],
    ["a symbolic link loop", ["validate", "--matrix", join(dir, "loop-a")], {}, 2, `pg-images: cannot read ${join(dir, "loop-a")}: symbolic links that loop; point the link at a file\n`],
    // Tests run as root, for whom chmod 000 changes nothing: the reader is given the system's refusal.
    ["a file the user may not read", ["validate", "--matrix", "secret.yaml"], { read: errno("EACCES") }, 2, "pg-images: cannot read secret.yaml: permission denied\n"],
    ["an unusual system error", ["validate", "--matrix", "x.yaml"], { read: errno("EXDEV") }, 2, "pg-images: cannot read x.yaml: cannot be read (EXDEV)\n"],
    ["an endless file", ["validate", "--matrix", "/dev/zero"], {}, 1, "/dev/zero: 1 problem\n  /dev/zero (top): larger than the limit of 4194304 bytes (4 MiB); is this the matrix file?\n"],
    ["text that is not UTF-8", ["validate", "--matrix", join(dir, "latin1.yaml")], {}, 1, `${join(dir, "latin1.yaml")}: 1 problem\n  ${join(dir, "latin1.yaml")} (top): not UTF-8 text; save it as UTF-8\n`],
    ["a fault inside pg-images", ["validate"], { now: () => { throw new TypeError("x is undefined"); } }, 3, "pg-images: internal error (TypeError: x is undefined); this is a fault in pg-images, not in your matrix: please report it with the command and the matrix\n"],
  ])("%s", async (_, args, io, code, err) => {
    const r = await cli(args, io);
    expect(r).toEqual({ code, out: "", err });
  });

  it("reads no more than the limit and one byte", async () => {
    const asked: number[] = [];
    await cli(["validate", "--matrix", "m.yaml"], { read: (_, max) => (asked.push(max), new TextEncoder().encode("a: 1\n")) });
    expect(asked).toEqual([4 * 1024 * 1024 + 1]);
  });

  it("prints no Node warning for a key the yaml library would stringify", async () => {
    const warn = vi.spyOn(process, "emitWarning").mockImplementation(() => {});
    const r = await cli(["validate", "--matrix", join(dir, "collection-key.yaml")]);
    expect(warn).not.toHaveBeenCalled();
    expect(r.code).toBe(1);
    expect(r.err).toContain("collection-key.yaml:1:3 (top): a key is a list or a map; keys are plain names");
  });
});
