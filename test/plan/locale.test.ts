// The same matrix gives a byte-identical plan (and so the same input keys) on every machine,
// whatever locale the process runs under. Each locale runs in its own Node process, since ICU
// reads LANG/LC_ALL once at start; the child proves the locale took effect before planning.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";

// Package names whose order differs by locale: Estonian sorts "z" before "t"; ICU puts "-"
// before "+" where code units put "+" first.
const PACKAGES = { tzdata: "", zstd: "", "libc++1": "", "lib-dev": "", sudo: "" };

const LOCALES: [string, string][] = [
  ["C", "en-US"],
  ["et_EE.UTF-8", "et-EE"],
  ["tr_TR.UTF-8", "tr-TR"],
];

let dir: string;

// Node 20 runs no TypeScript: the pure sources are transpiled (no type check) into a scratch
// folder that resolves yaml and zod from this checkout.
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pg-images-locale-"));
  const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  for (const file of walk("src").filter((f) => f.endsWith(".ts"))) {
    const out = join(dir, relative(".", file)).replace(/\.ts$/, ".js");
    mkdirSync(dirname(out), { recursive: true });
    const js = ts.transpileModule(readFileSync(file, "utf8"), { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
    writeFileSync(out, js);
  }
  symlinkSync(resolve("node_modules"), join(dir, "node_modules"));
  const matrix = parse(readFileSync("test/fixtures/matrices/valid.yaml", "utf8"));
  matrix.images.find((i: { id: string }) => i.id === "minimal").packages = PACKAGES;
  writeFileSync(join(dir, "matrix.yaml"), stringify(matrix));
  writeFileSync(
    join(dir, "child.mjs"),
    [
      `import { readFileSync } from "node:fs";`,
      `import { planFromText } from "./src/plan/fromText.js";`,
      `import { planJson } from "./src/plan/format.js";`,
      `const { plan } = planFromText(readFileSync(process.argv[2], "utf8"), "matrix.yaml", { inputs: { timestamp: "202611231530", revision: "abc1234" } });`,
      `process.stdout.write(JSON.stringify({ locale: new Intl.Collator().resolvedOptions().locale, plan: planJson(plan) }));`,
    ].join("\n"),
  );
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const seen = new Map<string, { locale: string; plan: string }>();
function planUnder(locale: string): { locale: string; plan: string } {
  if (seen.has(locale)) return seen.get(locale)!;
  const env = { ...process.env, LANG: locale, LC_ALL: locale, LANGUAGE: "" };
  const got = JSON.parse(execFileSync(process.execPath, [join(dir, "child.mjs"), join(dir, "matrix.yaml")], { env, encoding: "utf8" }));
  seen.set(locale, got);
  return got;
}

describe("plans across locales", () => {
  it.each(LOCALES)("under LANG=%s the plan is byte-identical to the C locale's", (locale, icu) => {
    const got = planUnder(locale);
    // A locale that did not take effect would prove nothing: fail, never skip.
    expect(got.locale, `Node's ICU did not take ${locale}; install Debian's locales package and run localedef -i ${locale.split(".")[0]} -f UTF-8 ${locale}`).toBe(icu);
    expect(got.plan).toBe(planUnder("C").plan);
  });

  it("orders the extra packages by code unit", () => {
    const plan = JSON.parse(planUnder("et_EE.UTF-8").plan);
    const minimal = plan.targets.find((t: { id: string }) => t.id === "minimal-17-trixie");
    expect(minimal.packages.map((p: { name: string }) => p.name)).toEqual(["lib-dev", "libc++1", "sudo", "tzdata", "zstd"]);
  });
});
