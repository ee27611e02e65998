// Conformance with the Dagger TypeScript runtime: the module-side steps `dagger call` takes before
// any function runs, replayed with real npm (the runtime's version) against the real npm registry,
// and the module loaded with tsx against an SDK library at the path the runtime uses.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOADER, RUNTIME_NPM, RUNTIME_TYPESCRIPT, runtimePackageJson, runtimeSdkIndex, runtimeTsconfig } from "../helpers/runtime.js";

const REPO = resolve(import.meta.dirname, "../..");
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;

describe("the runtime's rewrites", () => {
  it("makes package.json an ES module with TypeScript and without the SDK package", () => {
    const pkg = runtimePackageJson({ dependencies: { "@dagger.io/dagger": "0.21.8", zod: "4" }, devDependencies: { "@dagger.io/dagger": "0.21.8", typescript: "6" } });
    expect(pkg).toEqual({ type: "module", dependencies: { zod: "4", typescript: RUNTIME_TYPESCRIPT }, devDependencies: { typescript: "6" } });
  });

  it("maps the SDK to the generated library in tsconfig.json", () => {
    expect(runtimeTsconfig({ compilerOptions: { strict: true } })).toEqual({
      compilerOptions: { strict: true, experimentalDecorators: true, paths: { "@dagger.io/dagger": ["./sdk/index.ts"], "@dagger.io/dagger/telemetry": ["./sdk/telemetry.ts"] } },
    });
  });
});

describe("loading the module as `dagger call` does", () => {
  const work = mkdtempSync(join(tmpdir(), "pg-images-runtime-"));
  const moduleDir = join(work, "module");
  let install: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    // Step 3: a directory holding only the rewritten package.json, the lock file and .npmrc.
    mkdirSync(moduleDir);
    writeFileSync(join(moduleDir, "package.json"), JSON.stringify(runtimePackageJson(readJson(join(REPO, "package.json"))), null, 2));
    for (const f of ["package-lock.json", ".npmrc"]) if (existsSync(join(REPO, f))) cpSync(join(REPO, f), join(moduleDir, f));
    const npm = ["exec", "--yes", `--package=npm@${RUNTIME_NPM}`, "--", "npm", "install", "--omit=dev", "--no-audit", "--no-fund"];
    install = spawnSync("npm", npm, { cwd: moduleDir, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false" } });
  }, 300_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it(`installs the dependencies with npm ${RUNTIME_NPM} --omit=dev`, () => {
    expect(install.error).toBeUndefined();
    const said = `${install.stdout}\n${install.stderr}`.split("\n").filter((l) => l && !l.startsWith("npm warn"));
    expect(`exit ${install.status}\n${said.slice(-15).join("\n")}`).toMatch(/^exit 0\n/);
  });

  it("pins typescript to another version than the runtime's own", () => {
    // With dependencies.typescript exactly the runtime's default, the runtime mounts its own
    // TypeScript over node_modules/typescript before npm install, and npm, replacing it, fails:
    // "EBUSY: resource busy or locked, rename '/src/node_modules/typescript'" (seen under dagger call).
    const pinned = (readJson(join(REPO, "package.json")).dependencies as Record<string, string>).typescript;
    expect(pinned).toBeDefined();
    expect(pinned).not.toBe(RUNTIME_TYPESCRIPT);
  });

  it("installs typescript, which the runtime's bundled SDK imports from the module", () => {
    expect(existsSync(join(moduleDir, "node_modules/typescript/package.json"))).toBe(true);
  });

  it("loads every file under src/ with tsx, the SDK resolved through the rewritten tsconfig", () => {
    // Steps 4-5: the module's source merged over the install, the SDK library at sdk/ and at
    // node_modules/@dagger.io/dagger (here: the npm package of the same version), tsx on src/.
    cpSync(join(REPO, "src"), join(moduleDir, "src"), { recursive: true });
    for (const f of ["dagger.json", "matrix.yaml"]) cpSync(join(REPO, f), join(moduleDir, f));
    writeFileSync(join(moduleDir, "tsconfig.json"), JSON.stringify(runtimeTsconfig(readJson(join(REPO, "tsconfig.json"))), null, 2));
    // The stand-in exports exactly what the runtime's library does, at both places it is mounted.
    const sdk = join(REPO, "node_modules/@dagger.io/dagger");
    mkdirSync(join(moduleDir, "sdk"));
    writeFileSync(join(moduleDir, "sdk/index.ts"), runtimeSdkIndex(sdk));
    writeFileSync(join(moduleDir, "sdk/telemetry.ts"), `export * from ${JSON.stringify(join(sdk, "dist/src/telemetry/index.js"))};\n`);
    const mounted = join(moduleDir, "node_modules/@dagger.io/dagger");
    mkdirSync(mounted, { recursive: true });
    writeFileSync(join(mounted, "package.json"), JSON.stringify({ name: "@dagger.io/dagger", type: "module", exports: "./index.js" }));
    writeFileSync(join(mounted, "index.js"), runtimeSdkIndex(sdk));
    writeFileSync(join(moduleDir, "src/__load.ts"), LOADER);
    const tsx = join(REPO, "node_modules/tsx/dist/cli.mjs");
    const out = execFileSync("node", [tsx, "--no-deprecation", "--tsconfig", "tsconfig.json", "src/__load.ts"], { cwd: moduleDir, encoding: "utf8" });
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual(expect.arrayContaining(["PgImages", "Report"]));
  }, 120_000);
});
