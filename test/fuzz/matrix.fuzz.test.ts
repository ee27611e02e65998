// Mutation fuzzer over real matrices: whatever the text, parseMatrix returns (never throws) and
// `pg-images validate` exits 0 or 1 with a report in the documented shape, never a crash, a stack
// or an engine's own words. Seeded and bounded, so every run tries the same cases.
// Another seed or count: FUZZ_SEED=123 FUZZ_CASES=5000 npx vitest run --project unit test/fuzz
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli.js";
import { parseMatrix } from "../../src/matrix/load.js";
import { mulberry32 } from "../plan/generate.js";

const SEED = Number(process.env.FUZZ_SEED ?? 20261123);
const CASES = Number(process.env.FUZZ_CASES ?? 1000);

// mulberry32 (test/plan/generate.ts): a failing case is found again from its seed.
const prng = mulberry32;

type Rand = () => number;
const int = (r: Rand, n: number) => Math.floor(r() * n);
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[int(r, xs.length)]!;

const SYNTAX = [":", "-", "[", "]", "{", "}", "&", "*", "!", "|", ">", "'", '"', "#", "%", "@", "`", "?", ",", "\t", "\n", " ", "<<: "];
const UNICODE = ["\u00e9", "\u0301", "\u202e", "\ufeff", "\u0000", "\ud800", "\udfff", "\u{1f418}", "\u2028", "\u0085", "\u3000", "İ", "ı"];
const VALUES = ["1e999", "-1e999", "99999999999999999999999", "-0", "0x1F", "0o17", ".nan", ".inf", "~", "null", "true", "''", '""', "[]", "{}", "2026-01-02"];

// Each mutation takes the lines of a matrix and changes them in one way a user or a tool might.
const MUTATIONS: Record<string, (lines: string[], r: Rand) => void> = {
  deleteLine: (l, r) => void l.splice(int(r, l.length), 1),
  duplicateLine: (l, r) => {
    const i = int(r, l.length);
    l.splice(i, 0, l[i]!);
  },
  swapLines: (l, r) => {
    const [i, j] = [int(r, l.length), int(r, l.length)];
    [l[i], l[j]] = [l[j]!, l[i]!];
  },
  insertSyntax: (l, r) => insertAt(l, r, pick(r, SYNTAX)),
  insertUnicode: (l, r) => insertAt(l, r, pick(r, UNICODE)),
  anchor: (l, r) => replaceValue(l, r, (v) => `&a ${v}`),
  alias: (l, r) => replaceValue(l, r, () => "*a"),
  aliasBeforeAnchor: (l, r) => (replaceValue(l, r, () => "*b"), replaceValue(l, r, (v) => `&b ${v}`)),
  tag: (l, r) => replaceValue(l, r, (v) => `${pick(r, ["!foo", "!!binary", "!!set", "!!str", "!!int", "!<tag:x>", "!!timestamp"])} ${v}`),
  deepFlow: (l, r) => {
    const n = 1 + int(r, 3000);
    replaceValue(l, r, () => "[".repeat(n) + "]".repeat(n));
  },
  deepBlock: (l, r) => {
    const n = 1 + int(r, 200);
    l.splice(int(r, l.length), 0, ...Array.from({ length: n }, (_, i) => `${" ".repeat(i)}- x:`));
  },
  oddValue: (l, r) => replaceValue(l, r, () => pick(r, VALUES)),
  manyKeys: (l, r) => {
    const i = int(r, l.length);
    const indent = /^\s*/.exec(l[i]!)![0];
    l.splice(i, 0, ...Array.from({ length: 1 + int(r, 300) }, (_, k) => `${indent}k${k}: ${k}`));
  },
  aliasBomb: (l) => l.push("bomb: &a0 [x, x, x, x, x, x, x, x, x, x]", ...Array.from({ length: 8 }, (_, i) => `b${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(", ")}]`)),
  truncate: (l, r) => void l.splice(int(r, l.length)),
  directive: (l, r) => l.unshift(pick(r, ["%YAML 1.1", "%YAML 1.3", "%TAG !e! tag:example.com,2000:", "%FOO"]), "---"),
  secondDocument: (l, r) => l.push("---", ...l.slice(0, int(r, l.length))),
};

function insertAt(l: string[], r: Rand, text: string): void {
  const i = int(r, l.length);
  const at = int(r, l[i]!.length + 1);
  l[i] = l[i]!.slice(0, at) + text + l[i]!.slice(at);
}

/** Replaces what follows the first ": " or "- " of a random line. */
function replaceValue(l: string[], r: Rand, f: (value: string) => string): void {
  const i = int(r, l.length);
  const m = /^(\s*(?:- )?[^:#]*: |\s*- )(.*)$/.exec(l[i]!);
  if (m) l[i] = m[1] + f(m[2]!);
}

const sources = ["matrix.yaml", "test/fixtures/matrices/valid.yaml"].map((path) => ({ path, text: readFileSync(path, "utf8") }));

// The report's shapes (README, "The plain command"): a count, one line per problem with
// file:line:col (or the file alone for a problem of the whole file), then how many were not listed.
const HEADER = /^fuzz\.yaml: \d+ problems?$/;
const PROBLEM = /^  fuzz\.yaml(:\d+:\d+)? \S.*?: \S.*$/;
const MORE = /^  … and \d+ more problems?$/;
const LEAK = /\n\s+at |Maximum call stack|TypeError|ReferenceError|RangeError|SyntaxError|Error:/;

interface Case {
  source: string;
  mutations: string[];
  text: string;
}

function makeCase(r: Rand): Case {
  const source = pick(r, sources);
  const lines = source.text.split("\n");
  const names = Array.from({ length: 1 + int(r, 3) }, () => pick(r, Object.keys(MUTATIONS)));
  for (const name of names) if (lines.length > 0) MUTATIONS[name]!(lines, r);
  return { source: source.path, mutations: names, text: lines.join("\n") };
}

async function check(c: Case): Promise<string | undefined> {
  try {
    parseMatrix(c.text);
  } catch (e) {
    return `parseMatrix threw ${String(e)}`;
  }
  let out = "";
  let err = "";
  const bytes = new TextEncoder().encode(c.text);
  const code = await main(["validate", "--matrix", "fuzz.yaml"], {
    out: (t) => (out += t),
    err: (t) => (err += t),
    now: () => new Date("2026-01-02T03:04:59Z"),
    read: (path, max) => {
      if (path === "fuzz.yaml") return bytes.subarray(0, max);
      throw Object.assign(new Error(`ENOENT: ${path}`), { code: "ENOENT" });
    },
  });
  if (code === 0) return /^fuzz\.yaml: valid, \d+ targets\n$/.test(out) && err === "" ? undefined : `exit 0 with out ${JSON.stringify(out)} err ${JSON.stringify(err)}`;
  if (code !== 1) return `exit ${code}: ${err.slice(0, 300)}`;
  if (out !== "") return `exit 1 with output ${JSON.stringify(out.slice(0, 200))}`;
  if (LEAK.test(err)) return `internal text in the report: ${err.slice(0, 300)}`;
  const [header, ...rest] = err.trimEnd().split("\n");
  if (!HEADER.test(header!)) return `header ${JSON.stringify(header)}`;
  const bad = rest.find((line, i) => !(PROBLEM.test(line) || (i === rest.length - 1 && MORE.test(line))));
  return bad === undefined ? undefined : `report line ${JSON.stringify(bad.slice(0, 200))}`;
}

describe(`matrix fuzzer (seed ${SEED}, ${CASES} cases)`, () => {
  it("finds no crash, no leak, no hang", async () => {
    const r = prng(SEED);
    const failures: string[] = [];
    let slowest = { ms: 0, n: -1 };
    for (let n = 0; n < CASES; n++) {
      const c = makeCase(r);
      const start = performance.now();
      const failure = await check(c);
      const ms = performance.now() - start;
      if (ms > slowest.ms) slowest = { ms, n };
      if (failure) failures.push(`seed ${SEED} case ${n} (${c.source}: ${c.mutations.join(", ")}): ${failure}`);
    }
    expect(failures, `FUZZ_SEED=${SEED}`).toEqual([]);
    // A hang is a case far slower than the rest; the loader is linear, so none should take seconds.
    expect(slowest.ms, `seed ${SEED} case ${slowest.n} is slow`).toBeLessThan(5_000);
  }, Math.max(180_000, CASES * 150));
});
