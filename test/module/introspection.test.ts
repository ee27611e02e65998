// The SDK's own introspector, in dry-run mode, reads src/ the way the engine does when it loads
// the module: this proves what `dagger call` will offer without an engine.
import { beforeAll, describe, expect, it } from "vitest";
import { introspect, type Fn } from "../helpers/introspect.js";

let functions: Record<string, Fn>;

beforeAll(() => {
  functions = introspect().functions;
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
