// The SDK's own introspector, in dry-run mode, reads src/ the way the engine does when it loads
// the module: this proves what `dagger call` will offer without an engine.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const sdk = "node_modules/@dagger.io/dagger/dist/src";
interface Fn { name: string; description: string; arguments: Record<string, { type: { kind: string }; defaultValue?: unknown; isOptional: boolean }> }
let functions: Record<string, Fn>;

beforeAll(() => {
  // The introspector skips .d.ts files; give it the client types as a .ts file.
  const client = join(mkdtempSync(join(tmpdir(), "pg-images-introspect-")), "client.gen.ts");
  copyFileSync(join(sdk, "api/client.gen.d.ts"), client);
  const out = execFileSync("node", [join(sdk, "module/entrypoint/introspection_entrypoint.js"), "pg-images", "./src", client], {
    env: { ...process.env, DRY_RUN: "1" },
    encoding: "utf8",
  });
  functions = JSON.parse(out).objects.PgImages.methods;
}, 60_000);

describe("module registration", () => {
  it.each(["plan", "build", "buildAll", "publish", "dockerfile", "retention"])("registers %s with a usage example", (name) => {
    expect(functions[name]).toBeDefined();
    expect(functions[name]!.description).toMatch(/Example usage: dagger call /);
  });

  it("gives publish a release boolean defaulting to false", () => {
    expect(functions.publish!.arguments.release).toMatchObject({ type: { kind: "BOOLEAN_KIND" }, defaultValue: false });
  });

  it("gives plan a format defaulting to the table", () => {
    expect(functions.plan!.arguments.format).toMatchObject({ type: { kind: "STRING_KIND" }, defaultValue: "table" });
  });

  it("returns a Container from build", () => {
    expect(JSON.stringify(functions.build)).toContain('"Container"');
  });
});
