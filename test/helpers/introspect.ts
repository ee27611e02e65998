// What the module registers, read by the SDK's own introspector in dry-run mode: the same scan
// the engine runs when it loads the module, without an engine.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const sdk = "node_modules/@dagger.io/dagger/dist/src";

export interface Argument {
  type: { kind: string };
  defaultValue?: unknown;
  isOptional: boolean;
  description: string;
}
export interface Fn {
  name: string;
  description: string;
  arguments: Record<string, Argument>;
}
export interface ModuleTypes {
  constructor: { arguments: Record<string, Argument> };
  functions: Record<string, Fn>;
}

let cached: ModuleTypes | undefined;

export function introspect(): ModuleTypes {
  if (cached) return cached;
  // The introspector skips .d.ts files; give it the client types as a .ts file.
  const client = join(mkdtempSync(join(tmpdir(), "pg-images-introspect-")), "client.gen.ts");
  copyFileSync(join(sdk, "api/client.gen.d.ts"), client);
  const out = execFileSync("node", [join(sdk, "module/entrypoint/introspection_entrypoint.js"), "pg-images", "./src", client], {
    env: { ...process.env, DRY_RUN: "1" },
    encoding: "utf8",
  });
  const object = JSON.parse(out).objects.PgImages;
  cached = { constructor: object.constructor, functions: object.methods };
  return cached;
}

/** camelCase → the CLI's kebab-case. */
export const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
