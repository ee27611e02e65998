// What the Dagger TypeScript runtime (engine v0.21.8) does to a module before it runs it, as its
// behaviour is documented (../shared/DAGGER-CALL.md): rewrite package.json, install the
// dependencies in a directory holding only package.json, the lock file and .npmrc, rewrite
// tsconfig.json to map @dagger.io/dagger to the generated library, then run the module with tsx.

/**
 * What the runtime's generated SDK library (sdk/index.ts, mounted at node_modules/@dagger.io/dagger
 * too) exports besides the generated API client: nothing else of the npm package, ExecError
 * included. The bundled core imports `typescript` from the module's own node_modules.
 */
export const RUNTIME_SDK_EXPORTS = ["connection", "connect", "Context", "func", "check", "generate", "argument", "object", "field", "enumType", "entrypoint"] as const;

/** The runtime's SDK library, standing in with the npm package of the same version. */
export function runtimeSdkIndex(npmPackage: string): string {
  const from = (path: string) => JSON.stringify(`${npmPackage}/dist/src/${path}`);
  return `export { ${RUNTIME_SDK_EXPORTS.join(", ")} } from ${from("index.js")};\nexport * from ${from("api/client.gen.js")};\n`;
}

/** The version the runtime adds as a dependency when the module has none. */
export const RUNTIME_TYPESCRIPT = "5.9.3";
/** The npm the runtime installs for a module with package-lock.json. */
export const RUNTIME_NPM = "11.8.0";
const SDK = "@dagger.io/dagger";

type Json = Record<string, unknown>;

/** package.json as the runtime writes it: ESM, a TypeScript dependency, no SDK package. */
export function runtimePackageJson(original: Json): Json {
  const pkg = structuredClone(original);
  pkg.type = "module";
  const deps = { ...(pkg.dependencies as Record<string, string> | undefined) };
  deps.typescript ??= RUNTIME_TYPESCRIPT;
  delete deps[SDK];
  pkg.dependencies = deps;
  if (pkg.devDependencies) {
    const dev = { ...(pkg.devDependencies as Record<string, string>) };
    delete dev[SDK];
    pkg.devDependencies = dev;
  }
  return pkg;
}

/** tsconfig.json as the runtime writes it: the SDK names map to the generated library. */
export function runtimeTsconfig(original: Json): Json {
  const config = structuredClone(original);
  const options = { ...(config.compilerOptions as Json | undefined) };
  options.paths = { ...(options.paths as Json | undefined), [SDK]: ["./sdk/index.ts"], [`${SDK}/telemetry`]: ["./sdk/telemetry.ts"] };
  options.experimentalDecorators = true;
  config.compilerOptions = options;
  return config;
}

/**
 * The runtime's entrypoint, reduced to what loading needs: import every .ts file under src/ (the
 * runtime hands them all to the SDK), then name the classes the module exports.
 */
export const LOADER = `import { readdirSync, statSync } from "node:fs";
import { extname, join } from "node:path";
const list = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? list(p) : [".ts", ".mts"].includes(extname(p)) ? [p] : [];
});
const exported = [];
for (const file of list(import.meta.dirname).filter((f) => !f.endsWith("__load.ts")).sort()) {
  const mod = await import(file);
  for (const [name, value] of Object.entries(mod)) if (typeof value === "function") exported.push(name);
}
console.log(JSON.stringify([...new Set(exported)].sort()));
`;
