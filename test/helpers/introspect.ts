// What the module registers, read by the SDK's own introspector in dry-run mode: the same scan
// the engine runs when it loads the module, without an engine.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync } from "node:fs";
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
  returnType: unknown;
}
export interface ModuleTypes {
  constructor: { arguments: Record<string, Argument> };
  functions: Record<string, Fn>;
  /** Every object the module registers, as the introspector prints it. */
  objects: Record<string, { description: string; methods: Record<string, Fn>; properties: Record<string, unknown> }>;
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
  const objects = JSON.parse(out).objects;
  cached = { constructor: objects.PgImages.constructor, functions: objects.PgImages.methods, objects };
  return cached;
}

/** Each function's cache policy ("session", a duration, or undefined for the engine default). */
export async function cachePolicies(object: string): Promise<Record<string, string | undefined>> {
  // The printed form leaves the policy out; the introspector's own scan keeps it.
  const { scan } = (await import(join(process.cwd(), sdk, "module/introspector/index.js"))) as {
    scan: (files: string[], name: string, dryRun: boolean) => Promise<{ objects: Record<string, { methods: Record<string, { cache?: string }> }> }>;
  };
  const client = join(mkdtempSync(join(tmpdir(), "pg-images-introspect-")), "client.gen.ts");
  copyFileSync(join(sdk, "api/client.gen.d.ts"), client);
  const files = readdirSync("src", { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts")).map((f) => join("src", f));
  const result = await scan([...files, client], "pg-images", false);
  return Object.fromEntries(Object.entries(result.objects[object]!.methods).map(([name, m]) => [name, m.cache]));
}

/** camelCase → the CLI's kebab-case. */
export const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
